r"""The Kullback-Leibler divergence of predicted log-probabilities from target probabilities."""

from ._checks import namespace, require_floating, same_shape_targets


def kl_divergence(predicted, ground_truth):
    r"""KL divergence :math:`D(t \,\|\, q)` from log-probabilities :math:`\log q` (PyTorch's
    ``kl_div(predicted, ground_truth, reduction="batchmean")``).

    The mean over the batch (the first axis, of length N) of per-sample sums:

    .. math::
        L = \frac{1}{N} \sum_{n,k} t_{nk} \big(\log t_{nk} - \log q_{nk}\big), \qquad
        \frac{\partial L}{\partial \log q_{nk}} = -\frac{t_{nk}}{N}

    with :math:`0 \log 0 = 0`, so a target of zero adds nothing. Against one-hot targets this
    is :func:`nll`.

    Parameters
    ----------
    predicted : array (N, ...)
        Log-probabilities (the output of a LogSoftmax).
    ground_truth : array of the same shape
        Probabilities. Neither is checked to be a distribution (that needs the device to
        report back on every call); a negative target gives NaN.

    Raises
    ------
    ValueError
        The shapes differ, or `predicted` is 0-d (it has no batch axis).
    TypeError
        `predicted` is not floating point, targets that are not real numbers, or arrays from
        two backends.
    """
    xp = namespace(predicted, ground_truth, "kl_divergence")
    require_floating(predicted, "kl_divergence")
    if predicted.ndim == 0:
        raise ValueError("kl_divergence: predicted is 0-d; give log-probabilities of shape "
                         "(N, ...) with the batch first")
    targets = same_shape_targets(predicted, ground_truth, xp, "kl_divergence")
    scaled = targets * (1.0 / predicted.shape[0])
    # t log t with 0 log 0 = 0: the log is taken of 1 where t is 0.
    log_targets = xp.log(targets + xp.astype(targets == 0, targets.dtype))
    return xp.sum(scaled * (log_targets - predicted)), -scaled
