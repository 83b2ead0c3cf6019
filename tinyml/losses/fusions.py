r"""The fusion table: (last layer, loss) pairs that the training step computes as one.

Some pairs are unstable computed apart and stable computed together. Softmax followed by
cross-entropy divides by a probability in its backward (:math:`-y/(N p)`), which blows up as
:math:`p \to 0`; computed from the logits the pair's gradient is simply :math:`(p - y)/N`.

Each row names a layer class, a loss, and the fused loss that takes the layer's INPUT instead
of its output. When a net's last layer and the Learner's loss match a row, the training step
runs the net without that layer (``net.forward(x, skip_last=True)``), calls the fused loss on
what reaches it, and backpropagates from there. The training loop knows no layer or loss by
name: new pairs (LogSoftmax + nll, Sigmoid + binary cross-entropy) are new rows.

The fused loss must compute the same loss as the pair; its outputs (the last layer's inputs,
such as logits) are what the Learner's metrics see, so for classification their argmax must
be the argmax of the pair's output.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..layers import Softmax
from .classification import cross_entropy, cross_entropy_with_logits


@dataclass(frozen=True)
class Fusion:
    """One row: `layer_type` then `loss` is computed as `fused_loss(layer input, labels)`.

    ``applies(layer)`` can narrow a row to some configurations of the layer (Softmax over
    the class axis only).
    """

    layer_type: type
    loss: Callable
    fused_loss: Callable
    applies: Callable = lambda layer: True

    def matches(self, layer, loss):
        return isinstance(layer, self.layer_type) and loss is self.loss and self.applies(layer)


FUSIONS = [
    Fusion(Softmax, cross_entropy, cross_entropy_with_logits,
           applies=lambda softmax: softmax.axis in (1, -1)),
]


def find_fusion(layer, loss):
    """The first row of :data:`FUSIONS` that `layer` (a net's last layer) and `loss` match,
    or None."""
    return next((row for row in FUSIONS if row.matches(layer, loss)), None)


def register_fusion(layer_type, loss, fused_loss, *, applies=None):
    """Add a row (ahead of the built-in ones, so it can override them); returns it."""
    if not isinstance(layer_type, type):
        raise TypeError(f"register_fusion: layer_type must be a layer class; got {layer_type!r}")
    if not callable(loss) or not callable(fused_loss):
        raise TypeError("register_fusion: loss and fused_loss must be functions "
                        "(predicted, ground_truth) -> (loss, gradient)")
    row = Fusion(layer_type, loss, fused_loss, *(() if applies is None else (applies,)))
    FUSIONS.insert(0, row)
    return row


def unregister_fusion(row):
    """Remove a row added by :func:`register_fusion`."""
    FUSIONS.remove(row)
