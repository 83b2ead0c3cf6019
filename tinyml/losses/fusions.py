r"""The fusion table: (last layer, loss) pairs that the training step computes as one.

Some pairs are unstable computed apart and stable computed together. Softmax followed by
cross-entropy divides by a probability in its backward (:math:`-y/(N p)`), which blows up as
:math:`p \to 0`; computed from the logits the pair's gradient is simply :math:`(p - y)/N`.

Each row names a layer class, a loss, and the fused loss that takes the layer's INPUT instead
of its output. When a net's last layer and the Learner's loss match a row, the training step
runs the net without that layer (``net.forward(x, skip_last=True)``), calls the fused loss on
what reaches it, and backpropagates from there. The training loop knows no layer or loss by
name: each pair is a row.

Configured losses (:mod:`tinyml.losses._configurable`) match by family. A row whose loss is at
its defaults (``cross_entropy``) matches every configuration of it, and hands the options that
differ from the defaults to its fused loss: ``cross_entropy(label_smoothing=0.1)`` after a
Softmax trains through ``cross_entropy_with_logits(label_smoothing=0.1)``. If the fused loss
cannot take those options, the row does not match and the step runs unfused. A row whose loss
is configured (``huber(delta=2.0)``) matches that configuration only.

The fused loss must compute the same loss as the pair; its outputs (the last layer's inputs,
such as logits) are what the Learner's metrics see, so for classification their argmax must
be the argmax of the pair's output.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from ..layers import LogSoftmax, Sigmoid, Softmax
from ._configurable import Loss, changed_options_of, family_of, is_default
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, cross_entropy_with_logits, nll


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
        """True when this row applies to (`layer`, `loss`) (see :meth:`bind`)."""
        return self.bind(layer, loss) is not None

    def bind(self, layer, loss):
        """This row as it applies to (`layer`, `loss`), or None when it does not.

        The row itself when `loss` is the row's loss (equal: the same function with the same
        options); a copy whose loss is `loss` and whose fused loss carries `loss`'s options when
        `loss` is another configuration of a row loss that is at its defaults.
        """
        if not isinstance(layer, self.layer_type) or not self.applies(layer):
            return None
        if loss is self.loss or loss == self.loss:
            return self
        if family_of(loss) is not family_of(self.loss) or not is_default(self.loss):
            return None
        options = changed_options_of(loss)
        fused = self.fused_loss
        if not isinstance(fused, Loss) or not set(options) <= set(fused.defaults):
            return None
        return dataclasses.replace(self, loss=loss, fused_loss=fused.configure(**options))


def _over_classes(layer):
    return layer.axis in (1, -1)


FUSIONS = [
    Fusion(Softmax, cross_entropy, cross_entropy_with_logits, applies=_over_classes),
    Fusion(LogSoftmax, nll, cross_entropy_with_logits, applies=_over_classes),
    Fusion(Sigmoid, binary_cross_entropy, binary_cross_entropy_with_logits),
]


def find_fusion(layer, loss):
    """The first row of ``FUSIONS`` that `layer` (a net's last layer) and `loss` match,
    bound to them (see :meth:`Fusion.bind`), or None."""
    for row in FUSIONS:
        bound = row.bind(layer, loss)
        if bound is not None:
            return bound
    return None


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
