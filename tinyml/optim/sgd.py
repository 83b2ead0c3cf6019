"""Optimizers. The class validates hyperparameters and keeps per-parameter state; a pure
function of arrays does the arithmetic."""

import math
import numbers

from ..backend import array_namespace, resolve_backend


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


class SGD:
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    Parameters
    ----------
    lr : float > 0
        Learning rate.
    momentum : float in [0, 1)
    nesterov : bool
        Nesterov momentum (needs momentum > 0).
    weight_decay : float >= 0
        L2 penalty added to the gradient.

    Momentum buffers are created on first use next to each parameter (same backend, device
    and dtype). If the net moves, call ``optimizer.to(...)`` too.
    """

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.lr = _hyperparameter("lr", lr, low=0.0, low_open=True)
        self.momentum = _hyperparameter("momentum", momentum, low=0.0, high=1.0)
        self.weight_decay = _hyperparameter("weight_decay", weight_decay, low=0.0)
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD: nesterov must be True or False; got {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = nesterov
        self.state = {}  # Parameter -> momentum buffer

    def step(self, parameters):
        """Update every trainable parameter from its ``grad``."""
        for parameter in parameters:
            if parameter.trainable:
                self._update(parameter)

    def _update(self, parameter):
        buffer = self.state.get(parameter)
        arrays = [parameter.data, parameter.grad] + ([] if buffer is None else [buffer])
        names = ["data", "grad", "momentum buffer"][:len(arrays)]
        xp = array_namespace(*arrays, names=names, where=f"SGD on parameter '{parameter.name}'")
        buffer = sgd_update(
            parameter.data, parameter.grad, buffer, lr=self.lr, momentum=self.momentum,
            nesterov=self.nesterov, weight_decay=self.weight_decay, xp=xp,
        )
        if buffer is not None:
            self.state[parameter] = buffer

    def to(self, backend, *, device=None, dtype=None):
        """Move the momentum buffers to `backend` (after ``net.to(...)``)."""
        target = resolve_backend(backend, device=device, dtype=dtype)
        self.state = {p: target.asarray(b) for p, b in self.state.items()}
        return self

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay})")


def _hyperparameter(name, value, *, low, high=None, low_open=False):
    """`value` as a Python float within bounds, or an error naming the hyperparameter.

    Python floats only: a 0-d float64 array would silently upcast float32 parameters on NumPy
    and is an error on array_api_strict.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"SGD: {name} must be a Python number; got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or (high is not None and value >= high):
        bounds = f"{'>' if low_open else '>='} {low}" + (f" and < {high}" if high else "")
        raise ValueError(f"SGD: invalid {name} {value}; it must be {bounds}")
    return value
