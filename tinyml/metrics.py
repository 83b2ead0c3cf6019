"""Metrics computed on the device. They return 0-d arrays: read them back once per epoch."""

from .backend import array_namespace


def correct_count(outputs, labels):
    """How many rows of `outputs` (N, C) have their largest entry at the right class.

    `labels` are class indices (N,) or one-hot / probability rows (N, C). Returns a 0-d array
    in the outputs' dtype, on their device.
    """
    xp = array_namespace(outputs, labels, names=["outputs", "labels"], where="correct_count")
    predicted = xp.argmax(outputs, axis=1)
    if labels.ndim == 2:
        labels = xp.argmax(labels, axis=1)
    hits = predicted == xp.astype(labels, predicted.dtype)
    return xp.sum(xp.astype(hits, outputs.dtype))


def accuracy(outputs, labels):
    """The fraction of rows classified right, as a 0-d array on the device."""
    return correct_count(outputs, labels) / outputs.shape[0]
