r"""The class losses on one (N, C) score per class: the cross-entropies and nll.

Each takes class indices, an integer array of shape (N,), or one-hot (or soft) targets of shape
(N, C), and reduces as PyTorch does: the mean over the batch of per-sample sums. Indices are
not checked to lie in [0, C): that needs the device to report back on every call (an index
outside gives a row of zeros, so that sample adds nothing). ``Learner.fit`` checks them once,
on the host.

Label smoothing (``cross_entropy(label_smoothing=0.1)``, the same for
``cross_entropy_with_logits``) trains on the targets PyTorch uses,

.. math:: \tilde y = (1 - \varepsilon)\, y + \varepsilon / C,

for index and one-hot labels alike.
"""

from ..backend.ops import log_softmax
from ..core.params import Real
from ._checks import dense_targets, namespace
from ._configurable import configurable

#: how much of each target row is spread evenly over the classes
SMOOTHING = {"label_smoothing": Real(at_least=0.0, at_most=1.0)}


def _smoothed(targets, label_smoothing):
    """(1 - eps) y + eps / C; the targets themselves when eps is 0."""
    if label_smoothing == 0.0:
        return targets
    classes = targets.shape[1]
    return targets * (1.0 - label_smoothing) + label_smoothing / classes


@configurable(SMOOTHING)
def cross_entropy(predicted, ground_truth, *, label_smoothing=0.0):
    r"""Cross-entropy of predicted probabilities (the output of a Softmax).

    .. math::
        L = -\frac{1}{N} \sum_{n,k} \tilde y_{nk} \log p_{nk}, \qquad
        \frac{\partial L}{\partial p_{nk}} = -\frac{\tilde y_{nk}}{N\, p_{nk}}

    with :math:`\tilde y = (1 - \varepsilon) y + \varepsilon / C` (:math:`\tilde y = y` without
    label smoothing). Probabilities are clipped below at the dtype's smallest normal number so
    the log stays finite. Dividing by a probability is unstable when it is small: to train, end
    the net in Softmax and let the Learner fuse the pair (gradient :math:`(p - \tilde y) / N`
    at the logits, with the same label smoothing), or use :func:`cross_entropy_with_logits`.

    Parameters
    ----------
    predicted : array (N, C)
        Probabilities; each row sums to one.
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot / soft targets
    label_smoothing : float in [0, 1], keyword only
        Configure with ``cross_entropy(label_smoothing=0.1)``.

    Raises
    ------
    ValueError
        `predicted` is not (N, C), or the labels do not match it in shape; label_smoothing
        outside [0, 1].
    TypeError
        Class indices that are not integers, or arrays from two backends.
    """
    xp = namespace(predicted, ground_truth, "cross_entropy")
    targets = _smoothed(dense_targets(predicted, ground_truth, xp, "cross_entropy"),
                        label_smoothing)
    n = predicted.shape[0]
    smallest = float(xp.finfo(predicted.dtype).smallest_normal)
    clipped = xp.clip(predicted, min=smallest)
    loss = -xp.sum(targets * xp.log(clipped) / n)  # divide first: NumPy 1.26 keeps float32
    return loss, -targets / (clipped * n)


@configurable(SMOOTHING)
def cross_entropy_with_logits(predicted, ground_truth, *, label_smoothing=0.0):
    r"""Cross-entropy of softmax(logits), computed stably from the logits.

    With :math:`\log p = z - m - \log \sum_j e^{z_j - m}` and :math:`m = \max_j z_j`:

    .. math::
        L = -\frac{1}{N} \sum_{n,k} \tilde y_{nk} \log p_{nk}, \qquad
        \frac{\partial L}{\partial z_{nk}} = \frac{p_{nk} \sum_j \tilde y_{nj} - \tilde y_{nk}}{N}

    which is :math:`(p - \tilde y) / N` for one-hot labels; :math:`\tilde y = (1 - \varepsilon)
    y + \varepsilon / C` with label smoothing (:math:`\tilde y = y` without). No probability is
    ever divided by. This is PyTorch's ``cross_entropy(z, y, label_smoothing=eps)``.

    Parameters
    ----------
    predicted : array (N, C)
        Logits (any real numbers).
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot / soft targets
    label_smoothing : float in [0, 1], keyword only
        Configure with ``cross_entropy_with_logits(label_smoothing=0.1)``.

    Raises
    ------
    ValueError, TypeError
        As :func:`cross_entropy`.
    """
    xp = namespace(predicted, ground_truth, "cross_entropy_with_logits")
    targets = _smoothed(dense_targets(predicted, ground_truth, xp, "cross_entropy_with_logits"),
                        label_smoothing)
    n = predicted.shape[0]
    log_probabilities = log_softmax(predicted, axis=1, xp=xp)
    loss = -xp.sum(targets * log_probabilities / n)  # divide first: NumPy 1.26 keeps float32
    mass = xp.sum(targets, axis=1, keepdims=True)
    return loss, (xp.exp(log_probabilities) * mass - targets) / n


def nll(predicted, ground_truth):
    r"""Negative log-likelihood of log-probabilities (the output of a LogSoftmax).

    .. math::
        L = -\frac{1}{N} \sum_{n,k} y_{nk} \log p_{nk}, \qquad
        \frac{\partial L}{\partial \log p_{nk}} = -\frac{y_{nk}}{N}

    so with class indices :math:`L = -\frac{1}{N}\sum_n \log p_{n, y_n}`, PyTorch's
    ``nll_loss``. A net ending in LogSoftmax and trained with ``nll`` is fused by the Learner
    into ``cross_entropy_with_logits`` on the logits (the same loss and gradient).

    Parameters
    ----------
    predicted : array (N, C)
        Log-probabilities (``log_softmax`` of logits); not checked to be ones.
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot / soft targets

    Raises
    ------
    ValueError, TypeError
        As :func:`cross_entropy`.
    """
    xp = namespace(predicted, ground_truth, "nll")
    targets = dense_targets(predicted, ground_truth, xp, "nll")
    scaled = targets * (-1.0 / predicted.shape[0])
    return xp.sum(scaled * predicted), scaled
