"""AdaGrad: the class validates hyperparameters and keeps the sums of squared gradients; a pure
function of arrays does the arithmetic, exactly as PyTorch's ``torch.optim.Adagrad``."""

from ..core.params import Real
from .base import Optimizer


def adagrad_update(data, grad, state_sum, *, lr, eps, weight_decay, xp):
    r"""One AdaGrad step, in place: updates `data` and the running sum of squared gradients.

    As PyTorch computes it (Duchi et al., 2011), with ``lr_decay=0``:

    .. math::
        g \leftarrow g + \lambda w, \qquad
        s \leftarrow s + g^2, \qquad
        w \leftarrow w - \eta\, \frac{g}{\sqrt{s} + \epsilon}

    where :math:`s` starts at ``initial_accumulator_value`` and :math:`\epsilon` is added
    outside the square root.

    Parameters
    ----------
    data, grad : arrays of one shape
        The parameter (updated in place) and its gradient (read only).
    state_sum : array like `data`
        :math:`s`, updated in place.
    lr, eps, weight_decay : Python floats
    xp : the arrays' namespace
    """
    if weight_decay:
        grad = grad + weight_decay * data
    state_sum += grad * grad
    data -= lr * (grad / (xp.sqrt(state_sum) + eps))


class AdaGrad(Optimizer):
    r"""AdaGrad: per-coordinate learning rates that shrink with the sum of squared gradients.

    Parameters
    ----------
    lr : float > 0
        Learning rate :math:`\eta` (settable between steps).
    eps : float > 0
        Added to the square root of the sum.
    weight_decay : float >= 0
        L2 penalty :math:`\lambda` added to the gradient.
    initial_accumulator_value : float >= 0
        Where the sum :math:`s` starts.
    clip_norm, decay_filter, scheduler : keyword-only, optional
        See :class:`tinyml.optim.Optimizer`.

    The formula is :func:`adagrad_update`'s, PyTorch's ``Adagrad`` without its ``lr_decay``
    (use a ``scheduler`` to decay the rate). ``state[name]["sum"]`` (PyTorch's name) is made
    next to the parameter on its first update, filled with `initial_accumulator_value`.
    """

    declared_arguments = {
        "lr": Real(above=0.0),
        "eps": Real(above=0.0),
        "weight_decay": Real(at_least=0.0),
        "initial_accumulator_value": Real(at_least=0.0),
    }
    state_keys = ("sum",)

    def __init__(self, lr=1e-2, eps=1e-10, weight_decay=0.0, initial_accumulator_value=0.0, *,
                 clip_norm=None, decay_filter=None, scheduler=None):
        super().__init__(lr, eps=eps, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value,
                         clip_norm=clip_norm, decay_filter=decay_filter, scheduler=scheduler)

    def init_state(self, data, *, xp):
        return {"sum": xp.full_like(data, self.initial_accumulator_value)}

    def update(self, data, grad, state, *, xp, weight_decay):
        adagrad_update(data, grad, state["sum"], lr=self.lr, eps=self.eps,
                       weight_decay=weight_decay, xp=xp)
