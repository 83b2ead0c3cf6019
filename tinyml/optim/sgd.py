"""SGD: the class validates hyperparameters and keeps the momentum buffers; a pure function of
arrays does the arithmetic."""

from ..core.params import Flag, Real
from .base import Optimizer


def sgd_update(data, grad, buffer, *, lr, momentum, nesterov, weight_decay, xp):
    r"""One SGD step, in place: updates `data` (and the momentum `buffer`); returns the buffer.

    With :math:`g = \nabla + \lambda w` (weight decay :math:`\lambda`) and momentum
    :math:`\mu`, as PyTorch's SGD with ``dampening=0``:

    .. math::
        b \leftarrow \mu b + g \;(b = g \text{ on the first step}), \qquad
        w \leftarrow w - \eta\,(g + \mu b \text{ if Nesterov else } b)

    and :math:`w \leftarrow w - \eta g` without momentum.

    In place because fresh arrays cost more than the arithmetic here: allocating (and the
    allocator returning pages to the system) made the functional form swing between 1x and
    2x the in-place time on the MLP's parameters.
    """
    if weight_decay:
        grad = grad + weight_decay * data
    if momentum:
        if buffer is None:
            buffer = xp.asarray(grad, copy=True)  # not grad itself: backward adds into it
        else:
            buffer *= momentum
            buffer += grad
        grad = grad + momentum * buffer if nesterov else buffer
    data -= lr * grad
    return buffer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    Parameters
    ----------
    lr : float > 0
        Learning rate (settable between steps).
    momentum : float in [0, 1)
    nesterov : bool
        Nesterov momentum (needs momentum > 0).
    weight_decay : float >= 0
        L2 penalty added to the gradient.
    clip_norm, decay_filter, scheduler : keyword-only, optional
        Global gradient clipping, which parameters get weight decay, and a learning-rate
        schedule: see :class:`tinyml.optim.Optimizer`.

    With momentum, ``state[name]["momentum_buffer"]`` is created on a parameter's first
    update next to it (same backend, device and dtype) and follows it when the net moves.
    """

    declared_arguments = {
        "lr": Real(above=0.0),
        "momentum": Real(at_least=0.0, below=1.0),
        "nesterov": Flag(),
        "weight_decay": Real(at_least=0.0),
    }
    state_keys = ("momentum_buffer",)

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, *, clip_norm=None,
                 decay_filter=None, scheduler=None):
        super().__init__(lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                         clip_norm=clip_norm, decay_filter=decay_filter, scheduler=scheduler)

    def _check_together(self, hyperparameters):
        if hyperparameters["nesterov"] and hyperparameters["momentum"] == 0.0:
            raise ValueError(f"{self._name}: nesterov=True needs momentum > 0")

    def expected_state_keys(self):
        return ("momentum_buffer",) if self.momentum else ()

    def update(self, data, grad, state, *, xp, weight_decay):
        buffer = sgd_update(
            data, grad, state.get("momentum_buffer"), lr=self.lr, momentum=self.momentum,
            nesterov=self.nesterov, weight_decay=weight_decay, xp=xp,
        )
        if buffer is not None:
            state["momentum_buffer"] = buffer
