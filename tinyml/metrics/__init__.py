"""Classification metrics computed on the device.

- :mod:`~tinyml.metrics.functional`: whole-array metrics that read back once and return a
  Python float (or a host NumPy array for the confusion matrix and per-class scores):
  :func:`accuracy`, :func:`top_k_accuracy`, :func:`confusion_matrix`, :func:`precision`,
  :func:`recall`, :func:`f1`; and :func:`correct_count`, a 0-d device array for running sums.
- :mod:`~tinyml.metrics.streaming`: :func:`make_metric` objects that add batches up on the
  device (``update`` never reads it) and read once in ``result()``, for the Learner.
"""

from .functional import (
    accuracy,
    confusion_matrix,
    correct_count,
    f1,
    precision,
    recall,
    top_k_accuracy,
)
from .streaming import (
    METRIC_NAMES,
    Accuracy,
    ConfusionScore,
    StreamingMetric,
    TopKAccuracy,
    make_metric,
)

__all__ = [
    "METRIC_NAMES",
    "Accuracy",
    "ConfusionScore",
    "StreamingMetric",
    "TopKAccuracy",
    "accuracy",
    "confusion_matrix",
    "correct_count",
    "f1",
    "make_metric",
    "precision",
    "recall",
    "top_k_accuracy",
]
