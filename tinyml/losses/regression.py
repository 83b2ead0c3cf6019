"""Losses on real-valued targets."""

from ._checks import namespace, require_floating


def mse(predicted, ground_truth):
    r"""Mean squared error over every element.

    .. math::
        L = \frac{1}{M} \sum_i (p_i - t_i)^2, \qquad
        \frac{\partial L}{\partial p_i} = \frac{2 (p_i - t_i)}{M}

    where M is the number of elements (so L is also the batch mean of per-sample means).

    Raises
    ------
    ValueError
        The shapes differ (no broadcasting: a (N,) target against (N, 1) predictions is a
        bug more often than a wish).
    """
    xp = namespace(predicted, ground_truth, "mse")
    if tuple(ground_truth.shape) != tuple(predicted.shape):
        raise ValueError(f"mse: ground_truth has shape {tuple(ground_truth.shape)} but predicted "
                         f"has {tuple(predicted.shape)}; they must match exactly")
    require_floating(predicted, "mse")
    difference = predicted - xp.astype(ground_truth, predicted.dtype)
    count = 1
    for extent in predicted.shape:
        count *= extent
    return xp.sum(difference * difference / count), difference * (2.0 / count)
