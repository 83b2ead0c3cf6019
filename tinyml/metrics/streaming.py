"""Metrics that add up over batches on the device and are read once, for the Learner.

The interface every metric object has::

    metric = make_metric("f1", num_classes=None)
    metric.name                    # "f1": the key the Learner logs it under
    metric.reset()                 # forget every batch (start of an epoch or a pass)
    metric.update(outputs, labels) # one batch: adds device sums, never reads the device
    metric.result()                # a Python float over every batch since reset (one read)

``outputs`` are the net's (N, C) score rows (probabilities or logits: their argmax is the
same) and ``labels`` (N,) integer class indices or (N, C) one-hot rows, on one backend and
device. ``update`` checks shapes and dtypes only (free); a class index outside [0, C) cannot
be seen without reading the device, so ``result`` raises on it instead.

Names (``METRIC_NAMES``):

- ``"accuracy"``: the share of rows whose argmax is the label (as ``tinyml.metrics.accuracy``).
- ``"top_<k>"`` (``"top_5"``, ``"top_3"``, ...): the share of rows whose label is among the k
  highest scores, ties counting for the label (as ``tinyml.metrics.top_k_accuracy``).
- ``"precision"``, ``"recall"``, ``"f1"``: macro averages (as ``tinyml.metrics.precision`` and
  so on with ``average="macro"``), from a (C, C) confusion matrix summed on the device.

Streaming over batches gives exactly the one-shot value over their concatenation: every
metric sums integer counts, and divides only in ``result``.
"""

import re

from ..backend import array_namespace, to_numpy
from ._counts import confusion_counts, count, in_range, top_k_hits
from ._inputs import (
    check_k,
    check_lengths,
    check_num_classes,
    class_indices,
    require_scores,
    width_of,
)
from .functional import average_scores

METRIC_NAMES = ("accuracy", "top_<k>", "precision", "recall", "f1")
_TOP_K = re.compile(r"top_(\d+)")


def make_metric(name, num_classes=None):
    """A fresh streaming metric for `name` (see ``METRIC_NAMES``; ``"top_5"`` for k=5).

    Parameters
    ----------
    name : str
        ``"accuracy"``, ``"top_<k>"``, ``"precision"``, ``"recall"`` or ``"f1"``.
    num_classes : int, optional
        C. When given, every batch's outputs must have C columns; otherwise the first batch's
        width is used and later batches must match it.

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones), or k < 1.
    TypeError
        A name that is not a string, or a num_classes that is not an int.
    """
    if not isinstance(name, str):
        raise TypeError(f"make_metric: the metric name must be a string; got {name!r}. "
                        f"Known names: {', '.join(METRIC_NAMES)}")
    check_num_classes(num_classes, f"metric {name!r}")
    top_k = _TOP_K.fullmatch(name)
    if top_k:
        return TopKAccuracy(int(top_k.group(1)), num_classes=num_classes)
    if name == "accuracy":
        return Accuracy(num_classes=num_classes)
    if name in ConfusionScore.SCORES:
        return ConfusionScore(name, num_classes=num_classes)
    raise ValueError(f"make_metric: unknown metric {name!r}; known: {', '.join(METRIC_NAMES)} "
                     "(top_<k> with k a whole number, such as top_5)")


class StreamingMetric:
    """Shared bookkeeping: a device array of integer sums and the host count of samples.

    Subclasses give ``_batch_sums(outputs, true, xp)`` (device int64 sums of one batch, never
    read) and ``_value(host_sums)`` (the float, from those sums read to the host).
    """

    def __init__(self, name, num_classes=None):
        check_num_classes(num_classes, f"metric {name!r}")
        self.name = name
        self.num_classes = num_classes
        self.reset()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, num_classes={self.num_classes!r})"

    def reset(self):
        """Forget every batch seen so far (and a class count learnt from a batch; one given to
        the constructor stays)."""
        self.count = 0
        self._sums = None
        self._classes = self.num_classes

    def update(self, outputs, labels):
        """Add one batch: `outputs` (N, C) score rows, `labels` (N,) indices or (N, C) rows.

        Checks shapes and dtypes only and keeps the sums on the device: nothing is read.
        """
        where = f"metric {self.name!r}"
        xp = array_namespace(outputs, labels, names=["outputs", "labels"], where=where)
        require_scores(outputs, "outputs", where)
        self._classes = width_of((outputs, labels), ("outputs", "labels"), where, self._classes)
        true = class_indices(labels, "labels", where, xp=xp)
        check_lengths(outputs, true, ("outputs", "labels"), where, allow_empty=True)
        sums = self._batch_sums(outputs, true, xp)
        self._sums = sums if self._sums is None else self._sums + sums
        self.count += true.shape[0]

    def merge_processes(self, comm):
        """Count every process's batches from now on: the device sums and the sample count
        become their totals over `comm` (a :class:`tinyml.distributed.Communicator`), for
        data-parallel training. Every process calls it, each after at least one update."""
        (self._sums,) = comm.allreduce_sum([self._sums])
        self.count = int(comm.sum_values([self.count])[0])

    def result(self):
        """The metric over every sample since :meth:`reset`, a Python float (one read).

        Raises
        ------
        RuntimeError
            No sample was given since the last reset.
        ValueError
            A class index was outside [0, C).
        """
        if self.count == 0:
            raise RuntimeError(f"metric {self.name!r}: result() needs at least one sample; "
                               "call update(outputs, labels) first")
        return self._value(to_numpy(self._sums))

    def _require_all_in_range(self, counted):
        if counted != self.count:
            raise ValueError(
                f"metric {self.name!r}: {self.count - counted} of {self.count} labels are "
                f"outside [0, {self._classes}) (the outputs have {self._classes} columns); "
                "class indices must be in that range. Check the labels."
            )


class HitRate(StreamingMetric):
    """The share of rows that are hits, from device sums (hits, labels in range)."""

    def _batch_sums(self, outputs, true, xp):
        hits = self._hits(outputs, true, xp)
        return xp.stack([count(hits, xp=xp), count(in_range(true, self._classes, xp=xp), xp=xp)])

    def _value(self, sums):
        hits, counted = int(sums[0]), int(sums[1])
        self._require_all_in_range(counted)
        return hits / self.count


class Accuracy(HitRate):
    """The share of rows whose argmax is the label (the first largest wins a tie)."""

    def __init__(self, num_classes=None):
        super().__init__("accuracy", num_classes)

    def _hits(self, outputs, true, xp):
        return xp.argmax(outputs, axis=1) == true


class TopKAccuracy(HitRate):
    """The share of rows whose label is among the `k` highest scores (ties count for the
    label, so ``k = C`` gives 1.0). `k` must be at most C: checked against `num_classes`
    here when given, else against each batch's width."""

    def __init__(self, k, num_classes=None):
        name = f"top_{k}"
        check_num_classes(num_classes, f"metric {name!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"metric {name!r}: k must be a whole number >= 1; got {k!r}")
        if num_classes is not None:
            check_k(k, num_classes, f"metric {name!r}")
        self.k = k
        super().__init__(name, num_classes)

    def _hits(self, outputs, true, xp):
        check_k(self.k, self._classes, f"metric {self.name!r}")
        return top_k_hits(outputs, true, self.k, xp=xp)


class ConfusionScore(StreamingMetric):
    """Macro precision, recall or F1 from a (C, C) confusion matrix summed on the device."""

    SCORES = ("precision", "recall", "f1")

    def __init__(self, score, num_classes=None):
        if score not in self.SCORES:
            raise ValueError(f"ConfusionScore: score must be one of {list(self.SCORES)}; got "
                             f"{score!r}")
        super().__init__(score, num_classes)

    def _batch_sums(self, outputs, true, xp):
        return confusion_counts(true, xp.argmax(outputs, axis=1), self._classes, xp=xp)

    def _value(self, matrix):
        self._require_all_in_range(int(array_namespace(matrix).sum(matrix)))
        return average_scores(matrix, self.name, "macro")
