"""What the Learner checks before it trains: its arguments, that the loss fits what the net
ends in, and the data against the net and the loss.

Every check here runs on the host, once per ``Learner(...)`` or per ``fit`` / ``evaluate``
call, and refuses a mistake before any step changes a weight.

Whether the labels are classes or targets is the LOSS's call, not the labels' dtype: the
class losses (``tinyml.losses.CLASSIFICATION_LOSSES``) take class indices (N,) or one-hot
rows (N, C) and report accuracy; the target losses (``tinyml.losses.TARGET_LOSSES``) take
targets of the outputs' shape, and 1-D targets for a net with one output are taken as (N, 1),
as Keras does. A loss of the user's own falls back on the labels: 1-D integers are class
indices.

Which loss needs which last layer (``cross_entropy`` a Softmax, ...) is the table of
:mod:`tinyml.losses.last_layer`: this module names no loss of tinyml's own, and no layer but
BatchNorm (:func:`batch_statistics_layer`, until such layers say so themselves).
"""

import inspect
import warnings

from ..backend import array_namespace, namespace_name
from ..core import Layer, Net
from ..data.batches import as_targets, check_labels, check_pair, is_class_indices, prepare
from ..losses import CLASSIFICATION_LOSSES, DISTRIBUTION_LOSSES, TARGET_LOSSES
from ..losses import __all__ as _LOSS_NAMES
from ..losses._configurable import loss_name
from ..losses.last_layer import check_loss_fits_net


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
                        f"{loss_name(optimizer)}. The order is Learner(net, loss, optimizer).")
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
    if not net.built:  # layers that left out their input size learn it from the data
        net.build(tuple(x.shape[1:]))
    declared = net.declared_input_shape()
    check_pair(x, y, who, sample_shape=None if declared is None else declared[1:])
    output_shape = tuple(net.output_shape(tuple(x.shape)))
    if loss in CLASSIFICATION_LOSSES:
        check_labels(y, output_shape, who, distributions=loss in DISTRIBUTION_LOSSES)
        return x, y, True
    if loss in TARGET_LOSSES:
        return x, as_targets(y, output_shape, backend, who, loss_name=loss_name(loss)), False
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
    training batch (``Layer.uses_batch_statistics``: BatchNorm), which a batch of one sample
    does not have; or None."""
    for layer in (net, *net.named_layers().values()):
        if layer.uses_batch_statistics:
            return layer
    return None
