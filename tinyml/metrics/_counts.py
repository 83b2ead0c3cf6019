r"""The counting behind every metric, in standard calls on the arrays' own device.

Nothing here reads a value back: each function returns device arrays (int64 counts, or
masks), and the caller reads them once. ``scores_from_confusion`` is the exception: it works on
a confusion matrix already read to the host, in that host array's namespace.
"""

from ..backend import array_namespace, device_of

# Sums of 0/1 in float32 are exact up to 2**24; the confusion matmul works in blocks that
# small, so its counts are exact for any N (and on GPUs with TF32 matmuls too: 0 and 1 are
# exact in TF32's 10-bit mantissa and the sums accumulate in float32).
EXACT_FLOAT32_ROWS = 2**24


def count(mask, *, xp):
    """How many entries of boolean `mask` are True, as a 0-d int64 device array."""
    return xp.sum(xp.astype(mask, xp.int64))


def class_row(num_classes, like, *, xp):
    """(1, C) int64 row 0, 1, ..., C-1 on `like`'s device, to compare class indices against."""
    classes = xp.arange(num_classes, dtype=xp.int64, device=device_of(like))
    return xp.reshape(classes, (1, num_classes))


def is_class(indices, classes, *, xp):
    """(N, C) booleans: row i is True at column ``indices[i]`` (all False out of range)."""
    return xp.reshape(indices, (indices.shape[0], 1)) == classes


def in_range(indices, num_classes, *, xp):
    """(N,) booleans: ``0 <= indices[i] < num_classes``."""
    return (indices >= 0) & (indices < num_classes)


def top_k_hits(scores, true, k, *, xp):
    r"""(N,) booleans: True where the true class is among the `k` highest scores of its row.

    .. math:: \mathrm{hit}_i = \#\{c : s_{ic} > s_{i,y_i}\} < k

    O(N C) comparisons, no sort. Ties count for the label: a label whose score equals the k-th
    largest is a hit. A label outside [0, C) is never a hit.
    """
    is_label = is_class(true, class_row(scores.shape[1], scores, xp=xp), xp=xp)
    # where, not a product with the one-hot: -inf * 0 would be nan.
    label_score = xp.sum(xp.where(is_label, scores, xp.zeros_like(scores)), axis=1,
                         keepdims=True)
    higher = xp.sum(xp.astype(scores > label_score, xp.int64), axis=1)
    return (higher < k) & xp.any(is_label, axis=1)


def confusion_counts(true, predicted, num_classes, *, xp):
    r"""(C, C) int64 device counts: entry (i, j) is how many samples of true class i were
    predicted as class j.

    .. math:: M = \mathrm{onehot}(y)^\top \, \mathrm{onehot}(\hat y)

    A one-hot matmul in float32 blocks of at most 2**24 rows (exact), cast to int64 and summed.
    An index outside [0, C) has an all-zero one-hot row, so it lands nowhere: callers compare
    the matrix's total with N to catch it.
    """
    n, classes = true.shape[0], class_row(num_classes, true, xp=xp)
    total = xp.zeros((num_classes, num_classes), dtype=xp.int64, device=device_of(true))
    for start in range(0, n, EXACT_FLOAT32_ROWS):
        # The stop stays inside the array: the standard leaves out-of-bounds stops undefined.
        block = slice(start, min(start + EXACT_FLOAT32_ROWS, n))
        rows = xp.astype(is_class(true[block], classes, xp=xp), xp.float32)
        columns = xp.astype(is_class(predicted[block], classes, xp=xp), xp.float32)
        counts = xp.astype(xp.matrix_transpose(rows) @ columns, xp.int64)
        total = total + counts
    return total


def scores_from_confusion(matrix, score):
    r"""Per-class precision, recall or F1 (float64, shape (C,)) from a host confusion matrix,
    and which classes occur at all (in the labels or the predictions).

    With :math:`TP_c = M_{cc}`, :math:`P_c = \sum_i M_{ic}` (predicted as c) and
    :math:`T_c = \sum_j M_{cj}` (truly c):

    .. math::
        \mathrm{precision}_c = TP_c / P_c, \quad \mathrm{recall}_c = TP_c / T_c, \quad
        F1_c = 2\,TP_c / (P_c + T_c)

    and 0 where the denominator is 0 (scikit-learn's ``zero_division=0``).
    """
    xp = array_namespace(matrix, names=["confusion matrix"], where=score)
    classes = matrix.shape[0]
    hits = xp.sum(matrix * xp.eye(classes, dtype=matrix.dtype), axis=1)
    predicted, actual = xp.sum(matrix, axis=0), xp.sum(matrix, axis=1)
    numerator, denominator = {
        "precision": (hits, predicted),
        "recall": (hits, actual),
        "f1": (2 * hits, predicted + actual),
    }[score]
    numerator = xp.astype(numerator, xp.float64)
    denominator = xp.astype(denominator, xp.float64)
    defined = denominator > 0
    ratio = numerator / xp.where(defined, denominator, xp.ones_like(denominator))
    return xp.where(defined, ratio, xp.zeros_like(ratio)), (predicted + actual) > 0


def macro_mean(per_class, occurs):
    """The mean of `per_class` over the classes that occur (labels or predictions), a float."""
    xp = array_namespace(per_class, occurs, names=["per_class", "occurs"], where="macro_mean")
    kept = xp.where(occurs, per_class, xp.zeros_like(per_class))
    return float(xp.sum(kept)) / float(xp.sum(xp.astype(occurs, xp.float64)))


def micro_mean(matrix):
    """Micro precision = recall = F1 for single-label classes: the diagonal's share, a float."""
    xp = array_namespace(matrix, names=["confusion matrix"], where="micro_mean")
    hits = xp.sum(matrix * xp.eye(matrix.shape[0], dtype=matrix.dtype))
    return float(hits) / float(xp.sum(matrix))
