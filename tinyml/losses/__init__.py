r"""Losses. Each is a function ``loss(predicted, ground_truth) -> (loss, gradient)``.

``loss`` is a 0-d array on the prediction's device; ``gradient`` is dL/d(predicted), the shape
of ``predicted``, ready for ``net.backward``. Reductions are PyTorch's defaults, so numbers
compare: the element-wise losses (``mse``, ``mae``, ``huber``, ``smooth_l1``, the binary
cross-entropies) are the mean over every element; the class losses (the cross-entropies,
``nll``, ``hinge``) and ``kl_divergence`` are the mean over the batch of per-sample sums.

A loss with options is configured by calling it with keywords only: ``huber(delta=2.0)`` and
``cross_entropy_with_logits(label_smoothing=0.1)`` return the configured loss, which keeps the
``(predicted, ground_truth)`` call; ``huber(predicted, ground_truth)`` computes with the
defaults. Configured losses compare equal when their function and options are equal. Write
your own with the :func:`configurable` decorator.

Labels for the class losses are either class indices, an integer array of shape (N,), or
one-hot (or soft) targets of shape (N, C). Checking that indices lie in [0, C), or that
probabilities lie in [0, 1], would need the device to report back on every call, so the losses
do not; ``Learner.fit`` checks class indices once, on the host. Shapes and dtypes are checked
on every call.
"""

from ._configurable import Loss, LossFamilies, configurable
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, cross_entropy_with_logits, nll
from .divergence import kl_divergence
from .fusions import FUSIONS, Fusion, find_fusion, register_fusion, unregister_fusion
from .margin import hinge
from .regression import huber, mae, mse, smooth_l1

# Losses whose (N, C) float labels are one-hot classes rather than regression targets.
# ``in`` matches every configuration: cross_entropy(label_smoothing=0.1) is one of them.
CLASSIFICATION_LOSSES = LossFamilies((cross_entropy, cross_entropy_with_logits, nll, hinge))

# Losses that compare targets with the outputs element by element: never class indices.
TARGET_LOSSES = LossFamilies((mse, mae, huber, smooth_l1, binary_cross_entropy,
                              binary_cross_entropy_with_logits, kl_divergence))

# Losses that read one-hot label rows as distributions (hinge reads only each row's argmax).
DISTRIBUTION_LOSSES = LossFamilies((cross_entropy, cross_entropy_with_logits, nll))

__all__ = [
    "CLASSIFICATION_LOSSES",
    "DISTRIBUTION_LOSSES",
    "FUSIONS",
    "Fusion",
    "Loss",
    "TARGET_LOSSES",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "configurable",
    "cross_entropy",
    "cross_entropy_with_logits",
    "find_fusion",
    "hinge",
    "huber",
    "kl_divergence",
    "mae",
    "mse",
    "nll",
    "register_fusion",
    "smooth_l1",
    "unregister_fusion",
]
