r"""The training step's operations on lists of arrays: ``sgd_step``, one SGD update of several
parameters at once, in place, and ``zero_arrays``, which zeroes the gradients before a step.

.. math::
    g = \nabla + \lambda w, \qquad
    b \leftarrow \mu b + g \;(b = g \text{ on the first step}), \qquad
    w \leftarrow w - \eta\,(g + \mu b \text{ if Nesterov else } b)

The portable path updates one parameter after the other (:func:`sgd_update`, four array
operations each). The torch native updates all of them with three multi-tensor calls
(``torch._foreach_*``), as PyTorch's own optimizers do with ``foreach=True``: a step of a net
with ten parameters makes three dispatches instead of forty. ``zero_arrays`` is one
``torch._foreach_zero_`` there, where zeroing each gradient is a dispatch of its own.
"""

from .._host import lookup
from ._registry import Operation, portable_forced


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


class ManyArraysOperation(Operation):
    """An :class:`Operation` whose first argument is a list of arrays of one library: the
    library of its first array picks the implementation."""

    def __call__(self, arrays, *args, **kwargs):
        if not isinstance(arrays, (list, tuple)) or not arrays:
            raise TypeError(f"{self.name} expects a non-empty list of arrays as its first "
                            f"argument; got {type(arrays).__name__}.")
        try:
            library, xp = lookup(arrays[0])
        except TypeError:
            raise self._not_an_array(arrays[0]) from None
        if self._check is not None:
            self._check(arrays, *args, **kwargs)
        if kwargs.get("xp") is None:
            kwargs["xp"] = xp
        native = self.natives.get(library)
        if native is None or portable_forced():
            return self.portable(arrays, *args, **kwargs)
        return native(arrays, *args, **kwargs)

    def implementation_for(self, x):
        """As ``Operation.implementation_for``; `x` may be the list of arrays."""
        return super().implementation_for(x[0] if isinstance(x, (list, tuple)) else x)


def _check(datas, grads, buffers, *, lr, momentum, nesterov, weight_decays, xp=None):
    if not len(datas) == len(grads) == len(buffers) == len(weight_decays):
        raise ValueError(
            f"sgd_step takes one gradient, one momentum buffer (or None) and one weight decay "
            f"per parameter; got {len(datas)} parameters, {len(grads)} gradients, "
            f"{len(buffers)} buffers and {len(weight_decays)} weight decays."
        )


def _sgd_step(datas, grads, buffers, *, lr, momentum, nesterov, weight_decays, xp):
    r"""Update each ``datas[i]`` in place by :func:`sgd_update`; returns the list of momentum
    buffers (None entries without momentum; a None buffer starts as a copy of its gradient).

    Parameters
    ----------
    datas, grads : lists of arrays
        The parameters and their gradients (read only), pairwise of one shape.
    buffers : list of arrays or None
        The momentum buffers, updated in place; None on a parameter's first step.
    lr, momentum : float
    nesterov : bool
    weight_decays : list of float
        The weight decay of each parameter (0.0 for none).
    """
    return [sgd_update(data, grad, buffer, lr=lr, momentum=momentum, nesterov=nesterov,
                       weight_decay=weight_decay, xp=xp)
            for data, grad, buffer, weight_decay
            in zip(datas, grads, buffers, weight_decays, strict=True)]


sgd_step = ManyArraysOperation("sgd_step", _sgd_step, check=_check)


def _torch_sgd_step(datas, grads, buffers, *, lr, momentum, nesterov, weight_decays, xp):
    """Multi-tensor momentum SGD: three ``torch._foreach_*`` calls for all parameters.

    Only the plain case (momentum, every buffer there, no weight decay, no Nesterov: the
    steps after the first of ``SGD(lr, momentum)``); the others take the portable path.
    """
    import torch

    if not momentum or nesterov or any(weight_decays) or any(b is None for b in buffers):
        return _sgd_step(datas, grads, buffers, lr=lr, momentum=momentum, nesterov=nesterov,
                         weight_decays=weight_decays, xp=xp)
    torch._foreach_mul_(buffers, momentum)
    torch._foreach_add_(buffers, grads)
    torch._foreach_add_(datas, buffers, alpha=-lr)
    return buffers


def _zero_arrays(arrays, *, xp):
    """Set every element of each floating array in `arrays` to zero, in place
    (``a[...] = 0.0``)."""
    for array in arrays:
        array[...] = 0.0


zero_arrays = ManyArraysOperation("zero_arrays", _zero_arrays)


def _torch_zero_arrays(arrays, *, xp):
    """``torch._foreach_zero_``: one call for all the arrays."""
    import torch

    torch._foreach_zero_(list(arrays))
