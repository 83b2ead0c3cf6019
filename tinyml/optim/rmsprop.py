"""RMSProp: the class validates hyperparameters and keeps the running averages; a pure function
of arrays does the arithmetic, exactly as PyTorch's ``torch.optim.RMSprop``."""

from ..core.params import Flag, Real
from .base import Optimizer


def rmsprop_update(data, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   momentum, weight_decay, xp):
    r"""One RMSProp step, in place: updates `data` and the running averages.

    As PyTorch computes it (Hinton's lecture 6e; the centered form is Graves, 2013):

    .. math::
        g &\leftarrow g + \lambda w \\
        v &\leftarrow \alpha v + (1 - \alpha)\, g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1 - \alpha)\, g
            \quad\text{(centered only)} \\
        d &= \sqrt{v - \bar g^2} + \epsilon \text{ (centered)}, \quad
            \sqrt{v} + \epsilon \text{ (otherwise)} \\
        b &\leftarrow \mu b + g / d, \quad w \leftarrow w - \eta\, b
            \quad\text{(momentum } \mu > 0\text{)}, \qquad
        w \leftarrow w - \eta\, g / d \quad\text{(otherwise)}

    :math:`\epsilon` is added outside the square root, and there is no bias correction: the
    averages start at zero.

    Parameters
    ----------
    data, grad : arrays of one shape
        The parameter (updated in place) and its gradient (read only).
    square_avg : array like `data`
        :math:`v`, updated in place.
    grad_avg : array like `data`, or None
        :math:`\bar g` when centered (updated in place), else None.
    momentum_buffer : array like `data`, or None
        :math:`b` when momentum > 0 (updated in place), else None.
    lr, alpha, eps, momentum, weight_decay : Python floats
    xp : the arrays' namespace
    """
    if weight_decay:
        grad = grad + weight_decay * data
    square_avg *= alpha
    square_avg += (1.0 - alpha) * (grad * grad)
    if grad_avg is not None:
        grad_avg += (1.0 - alpha) * (grad - grad_avg)  # PyTorch's lerp
        denominator = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denominator = xp.sqrt(square_avg) + eps
    if momentum_buffer is not None:
        momentum_buffer *= momentum
        momentum_buffer += grad / denominator
        data -= lr * momentum_buffer
    else:
        data -= lr * (grad / denominator)


class RMSProp(Optimizer):
    r"""RMSProp: divide the gradient by a running root mean square of recent gradients.

    Parameters
    ----------
    lr : float > 0
        Learning rate :math:`\eta` (settable between steps).
    alpha : float in [0, 1)
        Smoothing constant of the running averages.
    eps : float > 0
        Added to the root mean square (outside the square root).
    momentum : float in [0, 1)
        Momentum :math:`\mu` applied to the scaled gradient.
    centered : bool
        Divide by an estimate of the gradient's standard deviation (subtract the square of
        its running mean) instead of its root mean square.
    weight_decay : float >= 0
        L2 penalty :math:`\lambda` added to the gradient.
    clip_norm, decay_filter, scheduler : keyword-only, optional
        See :class:`tinyml.optim.Optimizer`.

    The formula is :func:`rmsprop_update`'s, PyTorch's ``RMSprop``. ``state[name]`` holds
    ``"square_avg"``, plus ``"grad_avg"`` when centered and ``"momentum_buffer"`` with
    momentum (PyTorch's names), made as zeros next to the parameter on its first update.
    """

    declared_arguments = {
        "lr": Real(above=0.0),
        "alpha": Real(at_least=0.0, below=1.0),
        "eps": Real(above=0.0),
        "momentum": Real(at_least=0.0, below=1.0),
        "centered": Flag(),
        "weight_decay": Real(at_least=0.0),
    }
    state_keys = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, centered=False,
                 weight_decay=0.0, *, clip_norm=None, decay_filter=None, scheduler=None):
        super().__init__(lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered,
                         weight_decay=weight_decay, clip_norm=clip_norm,
                         decay_filter=decay_filter, scheduler=scheduler)

    def expected_state_keys(self):
        return ("square_avg", *(("grad_avg",) if self.centered else ()),
                *(("momentum_buffer",) if self.momentum else ()))

    def init_state(self, data, *, xp):
        return {key: xp.zeros_like(data) for key in self.expected_state_keys()}

    def update(self, data, grad, state, *, xp, weight_decay):
        rmsprop_update(
            data, grad, state["square_avg"], state["grad_avg"] if self.centered else None,
            state["momentum_buffer"] if self.momentum else None,
            lr=self.lr, alpha=self.alpha, eps=self.eps, momentum=self.momentum,
            weight_decay=weight_decay, xp=xp,
        )
