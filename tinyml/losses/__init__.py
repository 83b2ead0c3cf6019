r"""Losses. Each is a function ``loss(predicted, ground_truth) -> (loss, gradient)``.

``loss`` is a 0-d array on the prediction's device: the mean over the batch. ``gradient`` is
dL/d(predicted), the shape of ``predicted``, ready for ``net.backward``.

Labels for the cross-entropies are either class indices, an integer array of shape (N,), or
one-hot (or soft) targets of shape (N, C). Checking that indices lie in [0, C) would need the
device to report back on every call, so the losses do not; ``Learner.fit`` checks the whole
label array once, on the host.
"""

from .classification import cross_entropy, cross_entropy_with_logits
from .fusions import FUSIONS, Fusion, find_fusion, register_fusion, unregister_fusion
from .regression import mse

# Losses whose (N, C) float labels are one-hot classes rather than regression targets.
CLASSIFICATION_LOSSES = (cross_entropy, cross_entropy_with_logits)

__all__ = [
    "CLASSIFICATION_LOSSES",
    "FUSIONS",
    "Fusion",
    "cross_entropy",
    "cross_entropy_with_logits",
    "find_fusion",
    "mse",
    "register_fusion",
    "unregister_fusion",
]
