r"""softmax and log_softmax along one axis, with the maximum subtracted so nothing overflows.

.. math::
    \mathrm{softmax}(x)_k = \frac{e^{x_k - m}}{\sum_j e^{x_j - m}}, \qquad
    \mathrm{log\_softmax}(x)_k = (x_k - m) - \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j

The ndonnx natives are one ONNX ``Softmax`` / ``LogSoftmax`` each, where the portable path
becomes some twenty nodes (ndonnx spells a NaN-propagating maximum with conditionals).
"""

from ._registry import Operation


def _checker(name):
    def check(x, *, axis, xp=None):
        if isinstance(axis, bool) or not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"{name}: axis must be an int in [{-x.ndim}, {x.ndim}) for an "
                             f"array of shape {tuple(x.shape)}; got {axis!r}")
    return check


def _softmax(x, *, axis, xp):
    r"""Probabilities along `axis`: non-negative, summing to one."""
    exponentials = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return exponentials / xp.sum(exponentials, axis=axis, keepdims=True)


def _log_softmax(x, *, axis, xp):
    r"""Log-probabilities along `axis`, finite for logits of any size."""
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


softmax = Operation("softmax", _softmax, check=_checker("softmax"))
log_softmax = Operation("log_softmax", _log_softmax, check=_checker("log_softmax"))
