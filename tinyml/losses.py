r"""Losses. Each is a function ``loss(predicted, ground_truth) -> (loss, gradient)``.

``loss`` is a 0-d array on the prediction's device: the mean over the batch. ``gradient`` is
dL/d(predicted), the shape of ``predicted``, ready for ``net.backward``.

Labels for the cross-entropies are either class indices, an integer array of shape (N,), or
one-hot (or soft) targets of shape (N, C). Checking that indices lie in [0, C) would need the
device to report back on every call, so the losses do not; ``Learner.fit`` checks the whole
label array once, on the host.
"""

from .backend import array_namespace, device_of, is_floating, is_integral


def cross_entropy(predicted, ground_truth):
    r"""Cross-entropy of predicted probabilities (the output of a Softmax).

    .. math::
        L = -\frac{1}{N} \sum_{n,k} y_{nk} \log p_{nk}, \qquad
        \frac{\partial L}{\partial p_{nk}} = -\frac{y_{nk}}{N\, p_{nk}}

    Probabilities are clipped below at the dtype's smallest normal number so the log stays
    finite. Dividing by a probability is unstable when it is small: to train, end the net in
    Softmax and let the Learner fuse the pair (gradient (p - y) / N at the logits), or use
    :func:`cross_entropy_with_logits`.

    Parameters
    ----------
    predicted : array (N, C)
        Probabilities; each row sums to one.
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot / soft targets

    Raises
    ------
    ValueError
        `predicted` is not (N, C), or the labels do not match it in shape.
    TypeError
        Class indices that are not integers, or arrays from two backends.
    """
    xp = _namespace(predicted, ground_truth, "cross_entropy")
    targets = _targets(predicted, ground_truth, xp, "cross_entropy")
    n = predicted.shape[0]
    smallest = float(xp.finfo(predicted.dtype).smallest_normal)
    clipped = xp.clip(predicted, min=smallest)
    loss = -xp.sum(targets * xp.log(clipped) / n)  # divide first: NumPy 1.26 keeps float32
    return loss, -targets / (clipped * n)


def cross_entropy_with_logits(predicted, ground_truth):
    r"""Cross-entropy of softmax(logits), computed stably from the logits.

    With :math:`\log p = z - m - \log \sum_j e^{z_j - m}` and :math:`m = \max_j z_j`:

    .. math::
        L = -\frac{1}{N} \sum_{n,k} y_{nk} \log p_{nk}, \qquad
        \frac{\partial L}{\partial z_{nk}} = \frac{p_{nk} \sum_j y_{nj} - y_{nk}}{N}

    which is :math:`(p - y) / N` for one-hot labels. No probability is ever divided by.

    Parameters
    ----------
    predicted : array (N, C)
        Logits (any real numbers).
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot / soft targets
    """
    xp = _namespace(predicted, ground_truth, "cross_entropy_with_logits")
    targets = _targets(predicted, ground_truth, xp, "cross_entropy_with_logits")
    n = predicted.shape[0]
    shifted = predicted - xp.max(predicted, axis=1, keepdims=True)
    log_probabilities = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    loss = -xp.sum(targets * log_probabilities / n)  # divide first: NumPy 1.26 keeps float32
    mass = xp.sum(targets, axis=1, keepdims=True)
    return loss, (xp.exp(log_probabilities) * mass - targets) / n


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
    xp = _namespace(predicted, ground_truth, "mse")
    if tuple(ground_truth.shape) != tuple(predicted.shape):
        raise ValueError(f"mse: ground_truth has shape {tuple(ground_truth.shape)} but predicted "
                         f"has {tuple(predicted.shape)}; they must match exactly")
    _require_floating(predicted, "mse")
    difference = predicted - xp.astype(ground_truth, predicted.dtype)
    count = 1
    for extent in predicted.shape:
        count *= extent
    return xp.sum(difference * difference / count), difference * (2.0 / count)


def _namespace(predicted, ground_truth, who):
    return array_namespace(predicted, ground_truth, names=["predicted", "ground_truth"],
                           where=who)


def _require_floating(predicted, who):
    if not is_floating(predicted):
        raise TypeError(f"{who}: predicted must be floating point; got {predicted.dtype}")


def _targets(predicted, ground_truth, xp, who):
    """Dense (N, C) targets in the prediction's dtype, from indices or one-hot labels."""
    _require_floating(predicted, who)
    if predicted.ndim != 2:
        raise ValueError(f"{who}: predicted must have shape (N, C); got "
                         f"{tuple(predicted.shape)}. Flatten it or pick the class axis first.")
    n, classes = predicted.shape
    if ground_truth.ndim == 1:
        if not is_integral(ground_truth):
            raise TypeError(f"{who}: class-index labels must be integers; got dtype "
                            f"{ground_truth.dtype}. Pass one-hot labels of shape (N, C) instead.")
        if ground_truth.shape[0] != n:
            raise ValueError(f"{who}: {ground_truth.shape[0]} labels for {n} predictions")
        indices = xp.reshape(xp.astype(ground_truth, xp.int64), (n, 1))
        classes_row = xp.arange(classes, dtype=xp.int64, device=device_of(predicted))
        return xp.astype(indices == classes_row, predicted.dtype)
    if tuple(ground_truth.shape) == (n, classes):
        return xp.astype(ground_truth, predicted.dtype)
    raise ValueError(f"{who}: ground_truth must be class indices of shape ({n},) or one-hot of "
                     f"shape ({n}, {classes}); got {tuple(ground_truth.shape)}")
