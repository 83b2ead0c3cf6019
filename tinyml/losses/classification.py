"""The cross-entropies: on probabilities (after a Softmax) and on logits."""

from ._checks import dense_targets, namespace


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
    xp = namespace(predicted, ground_truth, "cross_entropy")
    targets = dense_targets(predicted, ground_truth, xp, "cross_entropy")
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
    xp = namespace(predicted, ground_truth, "cross_entropy_with_logits")
    targets = dense_targets(predicted, ground_truth, xp, "cross_entropy_with_logits")
    n = predicted.shape[0]
    shifted = predicted - xp.max(predicted, axis=1, keepdims=True)
    log_probabilities = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    loss = -xp.sum(targets * log_probabilities / n)  # divide first: NumPy 1.26 keeps float32
    mass = xp.sum(targets, axis=1, keepdims=True)
    return loss, (xp.exp(log_probabilities) * mass - targets) / n
