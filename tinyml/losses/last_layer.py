"""The last-layer table: which layer a loss needs (or must not have) right before it.

The probability losses need the net to end in the layer that makes their input
(``PROBABILITY_LOSSES``): ``cross_entropy`` a Softmax, ``nll`` a LogSoftmax,
``binary_cross_entropy`` a Sigmoid. A net that ends in any other tinyml layer (a Linear, as a
PyTorch user writes it) is refused with the fix. The losses that take raw scores refuse the
layer that would squash them first (``SCORE_LOSSES``: a Softmax before
``cross_entropy_with_logits`` applies softmax twice).

The check looks through a nested Net to its last layer, through a layer's own activation
(``FullyConnected(..., act_fn="softmax")``) and a Parallel's merge, and past a trailing
Identity or Flatten (``PASS_THROUGH``). A last layer of the user's own is not refused:
tinyml cannot know what it outputs (the values are not read to find out, which would cost a
device wait per step).

The training loop (:mod:`tinyml.train`) calls :func:`check_loss_fits_net` and knows no layer or
loss by name; a new pair is a row here, as a fused pair is a row of :mod:`tinyml.losses.fusions`.
"""

from dataclasses import dataclass

from ..core import Layer, Net
from ..layers import Flatten, HardSigmoid, Identity, LogSoftmax, Parallel, Sigmoid, Softmax
from ._configurable import LossFamilies, loss_name
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, cross_entropy_with_logits, nll
from .divergence import kl_divergence

PASS_THROUGH = (Identity, Flatten)  # a net may end in these after the layer that counts


def _over_classes(layer):
    return getattr(layer, "axis", 1) in (1, -1)


@dataclass(frozen=True)
class NeedsLayer:
    """`loss` reads the output of one of `layers` (where `applies`); `fix` says what else."""

    loss: object
    takes: str
    layers: tuple
    fix: str
    applies: object = lambda layer: True

    def accepts(self, layer):
        """True when `layer` makes what `loss` reads."""
        return isinstance(layer, self.layers) and self.applies(layer)


@dataclass(frozen=True)
class AvoidsLayer:
    """`loss` reads raw numbers that one of `layers` (where `applies`) has already squashed:
    the reverse of :class:`NeedsLayer` (a Softmax before ``cross_entropy_with_logits`` applies
    softmax twice). Training runs, on the wrong numbers; `why` says what goes wrong."""

    loss: object
    takes: str
    layers: tuple
    fix: str
    why: str
    applies: object = lambda layer: True

    def accepts(self, layer):
        """True unless `layer` has already squashed what `loss` reads."""
        return not (isinstance(layer, self.layers) and self.applies(layer))


PROBABILITY_LOSSES = (
    NeedsLayer(cross_entropy, "probabilities over the classes (rows that sum to 1, as a "
               "Softmax over axis 1 gives)", (Softmax,),
               "Use cross_entropy_with_logits, which takes the raw scores (logits) a Linear "
               "gives, or end the net in Softmax('softmax').", _over_classes),
    NeedsLayer(nll, "log-probabilities (as a LogSoftmax over axis 1 gives)", (LogSoftmax,),
               "End the net in LogSoftmax('log_softmax'), or use cross_entropy_with_logits on "
               "raw scores (or cross_entropy after a Softmax).", _over_classes),
    NeedsLayer(binary_cross_entropy, "probabilities in [0, 1] (as a Sigmoid gives)",
               (Sigmoid, HardSigmoid, Softmax),
               "Use binary_cross_entropy_with_logits, which takes raw scores, or end the net in "
               "Sigmoid('sigmoid')."),
)


# The losses that take raw scores (or log-probabilities) and the layers that must not come
# before them. LogSoftmax before cross_entropy_with_logits is fine: log_softmax is idempotent.
SCORE_LOSSES = (
    AvoidsLayer(cross_entropy_with_logits, "raw scores (logits) and applies softmax itself",
                (Softmax,), "Drop the Softmax (the loss applies it), or keep it and use "
                "cross_entropy, which the Learner fuses with it.",
                "softmax twice: training runs, but on flattened scores, and learns worse",
                _over_classes),
    AvoidsLayer(binary_cross_entropy_with_logits, "raw scores (logits) and applies the "
                "sigmoid itself", (Sigmoid, HardSigmoid, Softmax), "Drop the Sigmoid (the "
                "loss applies it), or keep it and use binary_cross_entropy.",
                "a sigmoid of probabilities: training runs, on squashed numbers"),
    AvoidsLayer(kl_divergence, "log-probabilities (as a LogSoftmax gives)",
                (Softmax, Sigmoid, HardSigmoid), "End the net in LogSoftmax('log_softmax') "
                "instead.", "probabilities read as log-probabilities: a wrong loss"),
)


def output_layers(layer):
    """The layers whose output is `layer`'s output, from `layer` inward to the tinyml layer
    that makes it (empty for an empty net).

    A Net's last layer (past a trailing Identity or Flatten, which keep the values), a tinyml
    layer's own activation (FullyConnected, Add, ... with ``act_fn=``) and a Parallel's merge
    are looked into; any other layer ends the chain.
    """
    chain = []
    while layer is not None:
        chain.append(layer)
        layer = _inner_output_layer(layer)
    return chain[1:] if isinstance(chain[0], Net) else chain


def _inner_output_layer(layer):
    if isinstance(layer, Net):
        kept = list(layer.layers)
        while kept and isinstance(kept[-1], PASS_THROUGH):
            kept.pop()
        return kept[-1] if kept else None
    if _is_tinymls(layer) and isinstance(getattr(layer, "activation", None), Layer):
        return layer.activation
    if isinstance(layer, Parallel):
        return layer.merge
    return None


def _is_tinymls(layer):
    """True for a layer of tinyml's own classes (what it outputs is known)."""
    return type(layer).__module__.split(".")[0] == "tinyml"


def check_loss_fits_net(net, loss, who):
    """A probability loss after a layer that does not make its input is a ValueError, and so
    is a raw-score loss after a layer that squashed its scores (see the module notes for what
    is looked through, and why a user's own layer passes)."""
    if not isinstance(net, Net):
        return
    rows = [row for row in (*PROBABILITY_LOSSES, *SCORE_LOSSES)
            if loss in LossFamilies((row.loss,))]
    chain = output_layers(net) if rows else ()
    if not chain or not _is_tinymls(chain[-1]):
        return
    for row in rows:
        if row.accepts(chain[-1]):
            continue
        ends = chain[0].describe()
        if len(chain) > 1:
            ends += f" (whose output is that of {chain[-1].describe()})"
        why = getattr(row, "why", "training would give a negative or NaN loss")
        raise ValueError(f"{who}: {loss_name(loss)} expects {row.takes}, but the net ends in "
                         f"{ends}, which gives other numbers ({why}). {row.fix}")
