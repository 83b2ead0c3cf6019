r"""Classification metrics of whole arrays, computed on the arrays' device.

Each function counts on the device and reads the result back once (twice when it must first
learn ``num_classes``): it returns a Python float, or a host NumPy array for the confusion
matrix and per-class scores. For a sum to keep on the device across batches, use
:func:`correct_count` or the streaming metrics (:mod:`tinyml.metrics.streaming`).

Labels are (N,) integer class indices or (N, C) one-hot rows (their argmax is the class).
Predictions are (N,) integer class indices or (N, C) score rows (probabilities or logits: the
argmax is the same; the first largest wins a tie).

Examples
--------
>>> import numpy as np, tinyml
>>> from tinyml import metrics
>>> metrics.accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]))
0.6666666666666666
>>> metrics.confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2)
array([[1, 1],
       [0, 1]])
"""

from ..backend import array_namespace, to_numpy
from ._counts import (
    confusion_counts,
    count,
    in_range,
    macro_mean,
    micro_mean,
    scores_from_confusion,
    top_k_hits,
)
from ._inputs import (
    check_k,
    check_lengths,
    check_num_classes,
    class_indices,
    require_scores,
    width_of,
)

AVERAGES = ("macro", "micro", None)
PAIR = ("predicted_labels", "labels")


def correct_count(outputs, labels):
    """How many rows of `outputs` (N, C) have their largest entry at the right class.

    `labels` are class indices (N,) or one-hot / probability rows (N, C). Returns a 0-d array
    in the outputs' dtype, on their device (nothing is read back).
    """
    xp = array_namespace(outputs, labels, names=["outputs", "labels"], where="correct_count")
    predicted = xp.argmax(outputs, axis=1)
    if labels.ndim == 2:
        labels = xp.argmax(labels, axis=1)
    hits = predicted == xp.astype(labels, predicted.dtype)
    return xp.sum(xp.astype(hits, outputs.dtype))


def accuracy(predicted_labels, labels):
    r"""The fraction of samples whose predicted class is the true one, a Python float.

    .. math:: \mathrm{accuracy} = \frac{1}{N} \sum_i [\hat y_i = y_i]

    Parameters
    ----------
    predicted_labels : (N,) integer array, or (N, C) score rows (their argmax is taken)
    labels : (N,) integer array, or (N, C) one-hot rows

    Raises
    ------
    TypeError
        Mixed backends, boolean or floating 1-D labels.
    ValueError
        Different lengths, no samples, a 2-D shape mismatch, or arrays on two devices.
    """
    xp, predicted, true = _pair(predicted_labels, labels, "accuracy")
    return float(count(predicted == true, xp=xp)) / true.shape[0]


def top_k_accuracy(scores, labels, k):
    r"""The fraction of rows whose true class is among the `k` highest scores, a Python float.

    .. math:: \mathrm{top\text{-}k} = \frac{1}{N} \sum_i
        \big[\#\{c : s_{ic} > s_{i,y_i}\} < k\big]

    Ties count for the label: it is a hit when its score is at least the k-th largest, so
    ``k=1`` can exceed :func:`accuracy` when a row has tied maxima, and ``k=C`` is always 1.
    No sort: O(N C) comparisons.

    Parameters
    ----------
    scores : (N, C) real array (probabilities or logits)
    labels : (N,) integer class indices in [0, C), or (N, C) one-hot rows
    k : int in [1, C]

    Raises
    ------
    ValueError
        `k` outside [1, C], class indices outside [0, C), or shapes that do not fit.
    TypeError
        Mixed backends, a non-int `k`, or labels of the wrong dtype.
    """
    where = "top_k_accuracy"
    xp = array_namespace(scores, labels, names=["scores", "labels"], where=where)
    require_scores(scores, "scores", where)
    classes = width_of((scores, labels), ("scores", "labels"), where)
    true = class_indices(labels, "labels", where, xp=xp)
    check_lengths(scores, true, ("scores", "labels"), where)
    check_k(k, classes, where)
    hits, valid = (int(total) for total in to_numpy(xp.stack([
        count(top_k_hits(scores, true, k, xp=xp), xp=xp),
        count(in_range(true, classes, xp=xp), xp=xp),
    ])))
    if valid != true.shape[0]:
        _raise_out_of_range(true, "labels", classes, where, f"the scores have {classes} columns",
                            xp=xp)
    return hits / true.shape[0]


def confusion_matrix(predicted_labels, labels, num_classes=None):
    r"""The (C, C) int64 host NumPy array of counts: rows are true classes, columns predicted.

    .. math:: M_{ij} = \#\{n : y_n = i,\ \hat y_n = j\}

    The layout of scikit-learn's ``confusion_matrix(labels, predicted_labels)``: entry (i, j)
    counts samples of class i predicted as j, so the diagonal holds the hits.

    Parameters
    ----------
    predicted_labels : (N,) integer array, or (N, C) score rows
    labels : (N,) integer array, or (N, C) one-hot rows
    num_classes : int, optional
        C. By default the width of a 2-D input, else the largest index seen plus one.

    Raises
    ------
    ValueError
        An index outside [0, num_classes), or the inputs' shapes do not fit.
    """
    xp, predicted, true, num_classes = _classes(predicted_labels, labels, num_classes,
                                                "confusion_matrix")
    return _host_confusion(predicted, true, num_classes, "confusion_matrix", xp=xp)


def precision(predicted_labels, labels, num_classes=None, average="macro"):
    r"""Precision :math:`TP_c / (TP_c + FP_c)`: of the samples predicted as c, the share
    truly c. See :func:`f1` for the arguments and the averages."""
    return _averaged("precision", predicted_labels, labels, num_classes, average)


def recall(predicted_labels, labels, num_classes=None, average="macro"):
    r"""Recall :math:`TP_c / (TP_c + FN_c)`: of the samples truly c, the share predicted as
    c. See :func:`f1` for the arguments and the averages."""
    return _averaged("recall", predicted_labels, labels, num_classes, average)


def f1(predicted_labels, labels, num_classes=None, average="macro"):
    r"""F1 :math:`2\,TP_c / (2\,TP_c + FP_c + FN_c)`, the harmonic mean of each class's
    precision and recall.

    Parameters
    ----------
    predicted_labels : (N,) integer array, or (N, C) score rows
    labels : (N,) integer array, or (N, C) one-hot rows
    num_classes : int, optional
        C. By default the width of a 2-D input, else the largest index seen plus one.
    average : "macro" (default), "micro" or None
        - ``"macro"``: the plain mean of the per-class scores over the classes that occur in
          `labels` or in the predictions (a float). A class with no predicted samples has
          precision 0, one with no true samples recall 0 (scikit-learn's ``zero_division=0``);
          a class in neither has no score and is left out of the mean, as scikit-learn's
          default ``labels`` does. (F1's macro mean is of the per-class F1, not the harmonic
          mean of macro precision and recall.)
        - ``"micro"``: counts pooled over classes first; with one label per sample, micro
          precision, recall and F1 all equal the accuracy (a float).
        - ``None``: a float64 host NumPy array of shape (C,), one score per class (0 for a
          class whose denominator is 0).

    Raises
    ------
    ValueError
        An unknown `average`, an index outside [0, num_classes), or shapes that do not fit.
    """
    return _averaged("f1", predicted_labels, labels, num_classes, average)


# ---------------------------------------------------------------------------- shared steps
def _pair(predicted_labels, labels, where):
    """(xp, predicted indices, true indices), checked for namespace, dtypes and lengths."""
    xp = array_namespace(predicted_labels, labels, names=list(PAIR), where=where)
    width_of((predicted_labels, labels), PAIR, where)
    predicted = class_indices(predicted_labels, "predicted_labels", where, xp=xp)
    true = class_indices(labels, "labels", where, xp=xp)
    check_lengths(predicted, true, PAIR, where)
    return xp, predicted, true


def _classes(predicted_labels, labels, num_classes, where):
    """:func:`_pair` plus the number of classes (given, a 2-D input's width, or read)."""
    check_num_classes(num_classes, where)
    xp, predicted, true = _pair(predicted_labels, labels, where)
    num_classes = width_of((predicted_labels, labels), PAIR, where, num_classes)
    if num_classes is None:  # one read: the largest index of either
        largest = to_numpy(xp.max(xp.stack([xp.max(predicted), xp.max(true)])))
        num_classes = max(int(largest), 0) + 1
    return xp, predicted, true, num_classes


def _host_confusion(predicted, true, num_classes, where, *, xp):
    """The confusion matrix read to the host, after checking no index fell outside it."""
    matrix = to_numpy(confusion_counts(true, predicted, num_classes, xp=xp))
    n = true.shape[0]
    if int(array_namespace(matrix).sum(matrix)) != n:  # some index landed nowhere
        for indices, name in ((true, "labels"), (predicted, "predicted_labels")):
            if int(count(in_range(indices, num_classes, xp=xp), xp=xp)) != n:
                _raise_out_of_range(indices, name, num_classes, where,
                                    f"num_classes is {num_classes}", xp=xp, widen=True)
    return matrix


def _raise_out_of_range(indices, name, num_classes, where, reason, *, xp, widen=False):
    """ValueError for class indices outside [0, num_classes), with how many and the extremes
    (read only now: an error may wait for the device). `widen`: suggest a larger num_classes."""
    outside = int(count(~in_range(indices, num_classes, xp=xp), xp=xp))
    low, high = int(xp.min(indices)), int(xp.max(indices))
    fix = f", or pass num_classes > {high}" if high >= num_classes and widen else ""
    raise ValueError(f"{where}: {outside} of {indices.shape[0]} {name} are outside "
                     f"[0, {num_classes}) ({reason}; smallest {low}, largest {high}). Class "
                     f"indices must be in that range: check the {name}{fix}.")


def _averaged(score, predicted_labels, labels, num_classes, average):
    if average not in AVERAGES:
        raise ValueError(f"{score}: average must be one of {list(AVERAGES)}; got {average!r}")
    xp, predicted, true, num_classes = _classes(predicted_labels, labels, num_classes, score)
    matrix = _host_confusion(predicted, true, num_classes, score, xp=xp)
    return average_scores(matrix, score, average)


def average_scores(matrix, score, average):
    """`score` ("precision", "recall" or "f1") of a host confusion matrix, averaged as
    :func:`f1` describes: a float, or a (C,) float64 host array for ``average=None``."""
    if average == "micro":
        return micro_mean(matrix)
    per_class, occurs = scores_from_confusion(matrix, score)
    return per_class if average is None else macro_mean(per_class, occurs)
