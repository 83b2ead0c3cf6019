r"""The binary cross-entropies: one independent yes/no probability per element.

Both reduce as PyTorch does: the mean over every element. Targets have the prediction's exact
shape (for one output per sample, labels of shape (N, 1)); they are usually 0 or 1, but any
value in [0, 1] is a valid soft target. Neither probabilities nor targets are checked to lie in
[0, 1]: that needs the device to report back on every call. A probability outside [0, 1]
gives a NaN loss.
"""

from ..backend.ops.activation_math import sigmoid
from ._checks import count_of, namespace, same_shape_targets

LOG_FLOOR = -100.0  # PyTorch clamps each log at -100, so p = 0 gives a finite loss
PRODUCT_FLOOR = 1e-12  # and p (1 - p) at 1e-12 in the gradient's denominator


def binary_cross_entropy(predicted, ground_truth):
    r"""Binary cross-entropy of probabilities (the output of a Sigmoid), as PyTorch's.

    Over the M elements, with each log clamped below at -100 as PyTorch does:

    .. math::
        L = -\frac{1}{M} \sum_i \Big[ t_i \max(\log p_i, -100)
            + (1 - t_i) \max(\log(1 - p_i), -100) \Big]

    .. math::
        \frac{\partial L}{\partial p_i} = \frac{p_i - t_i}{M \max\big(p_i (1 - p_i),
            10^{-12}\big)}

    The gradient is PyTorch's: the derivative of the unclamped loss with its denominator
    floored, so it stays finite at p = 0 and p = 1 (where the clamped loss is flat). It
    differs from the true derivative only where :math:`p(1 - p) < 10^{-12}`. Dividing by
    :math:`p(1 - p)` is unstable near 0 and 1: to train, end the net in Sigmoid and let the
    Learner fuse the pair into :func:`binary_cross_entropy_with_logits`.

    Parameters
    ----------
    predicted : array, any shape
        Probabilities in [0, 1].
    ground_truth : array of the same shape
        Targets in [0, 1], of any real dtype (cast to the prediction's).

    Raises
    ------
    ValueError
        The shapes differ.
    TypeError
        `predicted` is not floating point, targets that are not real numbers, or arrays from
        two backends.
    """
    xp = namespace(predicted, ground_truth, "binary_cross_entropy")
    targets = same_shape_targets(predicted, ground_truth, xp, "binary_cross_entropy")
    count = count_of(predicted.shape)
    pointwise = (targets * _floored_log(predicted, 0.0, xp)
                 + (1.0 - targets) * _floored_log(predicted, 1.0, xp))
    loss = -xp.sum(pointwise / count)  # divide first: NumPy 1.26 keeps float32
    product = xp.clip(predicted * (1.0 - predicted), min=PRODUCT_FLOOR)
    return loss, (predicted - targets) / (product * count)


def _floored_log(p, zero_at, xp):
    """max(log p, -100) for zero_at=0.0, max(log(1 - p), -100) for zero_at=1.0.

    Where the log would be of 0 it is taken of 1 instead and -100 added, so NumPy warns of no
    division by zero for a saturated probability.
    """
    at_zero = xp.astype(p == zero_at, p.dtype)
    if zero_at == 0.0:
        logs = xp.log(p + at_zero)
    else:
        logs = xp.log1p(at_zero - p)
    return xp.clip(logs, min=LOG_FLOOR) + at_zero * LOG_FLOOR


def binary_cross_entropy_with_logits(predicted, ground_truth):
    r"""Binary cross-entropy of sigmoid(logits), computed stably from the logits.

    Over the M elements, with :math:`\log(1 + e^{-|z|})` never overflowing:

    .. math::
        L = \frac{1}{M} \sum_i \Big[ \max(z_i, 0) - z_i t_i + \log\big(1 + e^{-|z_i|}\big) \Big],
        \qquad
        \frac{\partial L}{\partial z_i} = \frac{\sigma(z_i) - t_i}{M}

    the same as :func:`binary_cross_entropy` of :math:`\sigma(z)` where that is stable, and
    PyTorch's ``binary_cross_entropy_with_logits``.

    Parameters
    ----------
    predicted : array, any shape
        Logits (any real numbers).
    ground_truth : array of the same shape
        Targets in [0, 1], of any real dtype.

    Raises
    ------
    ValueError, TypeError
        As :func:`binary_cross_entropy`.
    """
    xp = namespace(predicted, ground_truth, "binary_cross_entropy_with_logits")
    targets = same_shape_targets(predicted, ground_truth, xp, "binary_cross_entropy_with_logits")
    count = count_of(predicted.shape)
    softplus = xp.log1p(xp.exp(-xp.abs(predicted)))
    pointwise = xp.clip(predicted, min=0.0) - predicted * targets + softplus
    return xp.sum(pointwise / count), (sigmoid(predicted, xp) - targets) / count
