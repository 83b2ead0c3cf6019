"""What the Learner checks before it trains: its arguments, that the loss fits what the net
ends in, and the data against the net and the loss.

Every check here runs on the host, once per ``Learner(...)`` or per ``fit`` / ``evaluate``
call, and refuses a mistake before any step changes a weight.

Whether the labels are classes or targets is the LOSS's call, not the labels' dtype: the
class losses (:data:`tinyml.losses.CLASSIFICATION_LOSSES`) take class indices (N,) or one-hot
rows (N, C) and report accuracy; the target losses (:data:`TARGET_LOSSES`) take targets of the
outputs' shape, and 1-D targets for a net with one output are taken as (N, 1), as Keras does.
A loss of the user's own falls back on the labels: 1-D integers are class indices.

The probability losses need the net to end in the layer that makes their input
(:data:`PROBABILITY_LOSSES`): ``cross_entropy`` a Softmax, ``nll`` a LogSoftmax,
``binary_cross_entropy`` a Sigmoid. A net that ends in any other tinyml layer (a Linear, as a
PyTorch user writes it) is refused with the fix. The check looks through a nested Net to its
last layer, through a layer's own activation (``FullyConnected(..., act_fn="softmax")``) and a
Parallel's merge, and past a trailing Identity or Flatten. A last layer of the user's own is
not refused: tinyml cannot know what it outputs (the values are not read to find out, which
would cost a device wait per step).
"""

import inspect
import warnings
from dataclasses import dataclass

from ..backend import array_namespace, namespace_name
from ..core import Layer, Net
from ..data.batches import as_targets, check_labels, check_pair, is_class_indices, prepare
from ..layers import (
    BatchNorm1D,
    BatchNorm2D,
    Flatten,
    HardSigmoid,
    Identity,
    LogSoftmax,
    Parallel,
    Sigmoid,
    Softmax,
)
from ..losses import (
    CLASSIFICATION_LOSSES,
    LossFamilies,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    cross_entropy_with_logits,
    huber,
    kl_divergence,
    mae,
    mse,
    nll,
    smooth_l1,
)
from ..losses import __all__ as _LOSS_NAMES

# Losses that compare targets with the outputs element by element: never class indices.
TARGET_LOSSES = LossFamilies((mse, mae, huber, smooth_l1, binary_cross_entropy,
                              binary_cross_entropy_with_logits, kl_divergence))

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

# Losses that read one-hot label rows as distributions (hinge reads only each row's argmax).
DISTRIBUTION_LOSSES = LossFamilies((cross_entropy, cross_entropy_with_logits, nll))


# ---------------------------------------------------------------- the Learner's arguments
def check_learner_arguments(net, loss, optimizer):
    """Refuse what cannot be a net, a loss or an optimizer, and a loss that does not fit what
    the net ends in; each message says what to pass instead."""
    _check_net(net)
    _check_loss(loss)
    _check_optimizer(optimizer)
    check_loss_fits_net(net, loss, "Learner")


def _check_net(net):
    if isinstance(net, Net):
        return
    if inspect.isclass(net):
        raise TypeError(f"Learner needs a tinyml.Net; got the class {net.__name__} itself. "
                        "Build one: Net([Linear('fc1', 784, 10), Softmax('softmax')])")
    if isinstance(net, (list, tuple)):
        raise TypeError(f"Learner needs a tinyml.Net; got a {type(net).__name__} of layers. "
                        "Wrap them: tinyml.Net([...])")
    if isinstance(net, Layer):
        raise TypeError(f"Learner needs a tinyml.Net; got the layer {net.describe()}. Wrap it: "
                        "tinyml.Net([layer])")
    raise TypeError(f"Learner needs a tinyml.Net; got {type(net).__name__}")


def _check_loss(loss):
    expected = "loss must be a function (predicted, ground_truth) -> (loss, grad)"
    if isinstance(loss, str):
        raise TypeError(f"{expected}, such as tinyml.losses.mse; got the string {loss!r}. "
                        f"{_spelled_loss(loss)}")
    if _is_optimizer(loss):
        raise TypeError(f"{expected}; got the optimizer {type(loss).__name__}. The order is "
                        "Learner(net, loss, optimizer).")
    if inspect.isclass(loss):
        raise TypeError(f"{expected}; got the class {loss.__name__}. Pass a loss function "
                        "such as tinyml.losses.cross_entropy, or an instance of your class.")
    if isinstance(loss, Layer):
        raise TypeError(f"{expected}; got the layer {loss.describe()}. Put layers in the net "
                        "and pass a loss such as tinyml.losses.cross_entropy.")
    if not callable(loss):
        raise TypeError(f"{expected}; got {loss!r}")


def _spelled_loss(name):
    """The fix for a loss given by name: the function of that name, or the names there are."""
    key = name.strip().lower().replace("-", "_")
    if key in _LOSS_NAMES and key.islower():
        return f"Pass the function: tinyml.losses.{key} (from tinyml.losses import {key})."
    names = ", ".join(n for n in _LOSS_NAMES if n.islower() and "fusion" not in n
                      and n != "configurable")
    return f"Pass one of tinyml.losses' functions: {names}."


def _is_optimizer(value):
    return not inspect.isclass(value) and callable(getattr(value, "step", None))


def _check_optimizer(optimizer):
    if inspect.isclass(optimizer):
        raise TypeError(f"optimizer is the class {optimizer.__name__}; pass an instance: "
                        f"{_example_call(optimizer)}")
    if _is_optimizer(optimizer):
        return
    if callable(optimizer) and _is_tinyml_loss(optimizer):
        raise TypeError(f"optimizer must have a step(parameters) method; got the loss "
                        f"{_loss_name(optimizer)}. The order is Learner(net, loss, optimizer).")
    got = f"the string {optimizer!r}" if isinstance(optimizer, str) else repr(optimizer)
    raise TypeError(f"optimizer must have a step(parameters) method, as tinyml.optim.SGD; got "
                    f"{got}. Pass an instance such as tinyml.optim.SGD(lr=0.1).")


def _example_call(cls):
    """``SGD(lr=0.1)``, or ``Adam(lr=0.001)`` with the class's own default lr."""
    try:
        lr = inspect.signature(cls).parameters.get("lr")
    except (TypeError, ValueError):
        lr = None
    if lr is None:
        return f"{cls.__name__}(...)"
    value = 0.1 if lr.default is inspect.Parameter.empty else lr.default
    return f"{cls.__name__}(lr={value})"


def _is_tinyml_loss(value):
    function = getattr(value, "function", value)
    return getattr(function, "__module__", "").startswith("tinyml.losses")


def _loss_name(loss):
    function = getattr(loss, "function", loss)  # a configured Loss keeps its function there
    return getattr(function, "__name__", repr(loss))


# ---------------------------------------------------------------- the loss and the net's end
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
    """A probability loss after a layer that does not make its input is a ValueError.

    See the module notes for what is looked through, and why a user's own layer passes.
    """
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
        raise ValueError(f"{who}: {_loss_name(loss)} expects {row.takes}, but the net ends in "
                         f"{ends}, which gives other numbers ({why}). {row.fix}")


# ---------------------------------------------------------------- the data
def index_layer(net):
    """The layer that takes the net's input when it takes integer indices (an Embedding
    first, looked for through nested Nets), else None."""
    layer = net
    while isinstance(layer, Net) and layer.layers:
        layer = layer.layers[0]
    return layer if layer.takes_indices else None


def prepare_inputs(net, x, backend, who):
    """`x` ready for batching: floats of the backend's dtype, or, for a net that starts with a
    layer of integer indices (Embedding), the integers as they are, their range checked once
    here, on the host for host data (a single read for data on a device)."""
    indices = index_layer(net)
    x = prepare(x, backend, f"{who}: x", inputs=True, keep_dtype=indices is not None)
    if indices is not None and x.ndim > 0:
        indices.check_indices(x, who)
    return x


def checked_data(net, loss, x, y, backend, who, *, unscaled_warning=True):
    """(x, y, classify): the data prepared for batching and checked against the net and the
    loss before any compute; `classify` says whether accuracy is counted. Host uint8 samples
    above 1 are warned about (:func:`warn_if_unscaled`) unless `unscaled_warning` is False
    (a DataLoader's arrays, which its transform may scale)."""
    check_loss_fits_net(net, loss, who)
    if y is None:
        raise ValueError(f"{who}: y is None; training and scoring need labels (or targets), "
                         "one per sample: pass them as y (a DataLoader holds them: "
                         "DataLoader(x, y, ...))")
    if unscaled_warning and index_layer(net) is None:  # token ids are not pixels
        warn_if_unscaled(x, who)
    x = prepare_inputs(net, x, backend, who)
    y = prepare(y, backend, f"{who}: y")
    declared = net.declared_input_shape()
    check_pair(x, y, who, sample_shape=None if declared is None else declared[1:])
    output_shape = tuple(net.output_shape(tuple(x.shape)))
    if loss in CLASSIFICATION_LOSSES:
        check_labels(y, output_shape, who, distributions=loss in DISTRIBUTION_LOSSES)
        return x, y, True
    if loss in TARGET_LOSSES:
        return x, as_targets(y, output_shape, backend, who, loss_name=_loss_name(loss)), False
    if y.ndim == 1 and output_shape[1:] == (1,):  # a loss of the user's own, one output
        return x, as_targets(y, output_shape, backend, who), False
    check_labels(y, output_shape, who)
    return x, y, is_class_indices(y)


def warn_if_unscaled(x, who):
    """A RuntimeWarning for host uint8 samples above 1: images of 0-255 that were not scaled
    (a net then meets inputs hundreds of times larger than its initialization expects, and
    trains to a huge loss). Host data only: reading a device's maximum would wait for it."""
    if str(getattr(x, "dtype", "")) != "uint8" or namespace_name(x) != "numpy":
        return
    xp = array_namespace(x)
    if x.ndim == 0 or x.shape[0] == 0 or int(xp.max(x)) <= 1:
        return
    warnings.warn(f"{who}: x is uint8 with values above 1 (images of 0-255?), used as they "
                  "are: a net meets inputs far larger than its initialization expects (huge "
                  "losses, poor accuracy), and a net trained on [0, 1] sees nothing it knows. "
                  "Scale them first: x.astype('float32') / 255.", RuntimeWarning, stacklevel=4)


def batch_statistics_layer(net):
    """The first layer of `net` (itself included) that normalizes with the statistics of its
    training batch (BatchNorm1D, BatchNorm2D), which a batch of one sample does not have; or
    None."""
    for layer in (net, *net.named_layers().values()):
        if isinstance(layer, (BatchNorm1D, BatchNorm2D)):
            return layer
    return None
