"""numpy-ml's summary() and set_params() for every layer: the arrays and hyperparameters of a
layer as a dict, and setting them back, all or nothing."""

import numbers

from ..backend import backend_of, dtype_kind, get_backend, use_backend, use_seed
from .config import class_label, construct, decoded
from .layer import Layer

_SUMMARY_KEYS = ("class", "name", "hyperparameters", "parameters", "buffers", "shapes")


def summary_of(layer):
    """numpy-ml's summary: class, name, hyperparameters, copies of the arrays, their shapes."""
    parameters = layer.named_parameters()
    buffers = layer.named_buffers()
    return {
        "class": class_label(layer),
        "name": layer.name,
        "hyperparameters": layer.hyperparameters,
        "parameters": {key: _copy(owned.data) for key, owned in parameters.items()},
        "buffers": {key: _copy(owned.data) for key, owned in buffers.items()},
        "shapes": {key: list(owned.shape) for key, owned in {**parameters, **buffers}.items()},
    }


def _copy(array):
    return backend_of(array).asarray(array, dtype=array.dtype)


def set_params(layer, summary):
    """Set `layer`'s arrays and hyperparameters from a summary-like dict, all or nothing."""
    where = f"{layer.describe()}.set_params"
    if not isinstance(summary, dict):
        raise TypeError(f"{where} takes a dict like the one summary() returns; got "
                        f"{type(summary).__name__}")
    unknown = sorted(set(summary) - set(_SUMMARY_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; a summary has the keys "
                         f"{', '.join(_SUMMARY_KEYS)}")
    if "class" in summary and summary["class"] != class_label(layer):
        raise ValueError(f"{where}: the summary is of a {summary['class']}, not a "
                         f"{class_label(layer)}; build that class instead "
                         "(tinyml.Layer.from_config)")
    if "name" in summary and summary["name"] != layer.name:
        raise ValueError(f"{where}: the summary is of the layer {summary['name']!r}, not "
                         f"{layer.name!r}; names key the state_dict, so they must match")
    arrays = _checked_arrays(layer, summary, where)
    if "hyperparameters" in summary:
        _set_hyperparameters(layer, summary["hyperparameters"], where)
    owned = {**layer.named_parameters(), **layer.named_buffers()}
    for key, array in arrays.items():
        owned[key].data = array
    return layer


def _checked_arrays(layer, summary, where):
    """{key: array on the owner's backend and dtype}, every key and shape checked first."""
    arrays = {}
    for kind, owned in (("parameters", layer.named_parameters()),
                        ("buffers", layer.named_buffers())):
        given = summary.get(kind, {})
        if not isinstance(given, dict):
            raise TypeError(f"{where}: {kind} should be a dict {{key: array}}; got "
                            f"{type(given).__name__}")
        unknown = sorted(set(given) - set(owned))
        if unknown:
            raise ValueError(f"{where}: {layer.describe()} has no {kind} {unknown}; its "
                             f"{kind} are {list(owned)}")
        for key, value in given.items():
            target = owned[key].data
            if hasattr(value, "shape") and dtype_kind(value) not in "biuf":
                raise ValueError(f"{where}: {kind} {key!r} has dtype kind "
                                 f"{dtype_kind(value)!r}; it must hold real numbers")
            try:
                array = backend_of(target).asarray(value, dtype=target.dtype)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where}: {kind} {key!r} is not an array of numbers "
                                 f"({error})") from None
            if tuple(array.shape) != tuple(target.shape):
                raise ValueError(f"{where}: {kind} {key!r} has shape {tuple(array.shape)}; "
                                 f"{layer.describe()}'s is {tuple(target.shape)}")
            arrays[key] = array
    return arrays


def _as_json(value):
    """A summary's value as JSON would give it back: tuples as lists, numbers as Python's."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(item) for item in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _holds_layers(value):
    if isinstance(value, Layer):
        return True
    if isinstance(value, dict):
        return "class" in value or set(value) == {"ref"} or any(map(_holds_layers,
                                                                     value.values()))
    if isinstance(value, (list, tuple)):
        return any(map(_holds_layers, value))
    return False


def _set_hyperparameters(layer, new, where):
    """Rebuild `layer` in place from its arguments with `new`'s changes, where that keeps every
    parameter and buffer key and shape; otherwise change nothing and say why."""
    if not isinstance(new, dict):
        raise TypeError(f"{where}: hyperparameters should be a dict; got {type(new).__name__}")
    current = layer.hyperparameters
    unknown = sorted(set(new) - set(current))
    if unknown:
        raise ValueError(f"{where}: {layer.describe()} has no hyperparameters {unknown}; it "
                         f"has {list(current)}")
    changed = [key for key in new if _as_json(new[key]) != current[key]]
    if not changed:
        return
    for key in changed:
        if key == "name":
            raise ValueError(f"{where}: hyperparameter 'name' cannot change; names key the "
                             "state_dict. Build a new layer with the name you want.")
        raw = layer._config_arguments()[key]
        if _holds_layers(raw) or _holds_layers(new[key]):
            raise ValueError(f"{where}: hyperparameter {key!r} holds layers, which set_params "
                             "cannot swap; build a new layer (tinyml.Layer.from_config) "
                             "instead")
    arguments = dict(layer._config_arguments())
    arguments.update((key, decoded(new[key], where)) for key in changed)
    owned = layer.parameters() or layer.buffers()
    home = backend_of(owned[0].data) if owned else get_backend()
    with use_backend(home), use_seed(0):  # the caller's random streams stay untouched
        fresh = construct(type(layer), arguments, where)
    shapes = _shapes(layer)
    if _shapes(fresh) != shapes:
        raise ValueError(
            f"{where}: changing {', '.join(changed)} changes the parameters or buffers (from "
            f"{shapes} to {_shapes(fresh)}), so the layer cannot change in place. Build a new "
            "layer with these hyperparameters (tinyml.Layer.from_config) instead.")
    _adopt(layer, fresh)


def _shapes(layer):
    owned = {**layer.named_parameters(), **layer.named_buffers()}
    return {key: value.shape for key, value in owned.items()}


def _adopt(layer, fresh):
    """`layer` becomes `fresh` (same object, so nets and references keep it), with its own
    arrays, frozen flags and mode."""
    state = layer.state_dict()
    frozen = {key for key, parameter in layer.named_parameters().items()
              if not parameter.trainable}
    training = layer.training
    vars(layer).clear()
    vars(layer).update(vars(fresh))
    for key, owned in {**layer.named_parameters(), **layer.named_buffers()}.items():
        owned.data = state[key]
    for key, parameter in layer.named_parameters().items():
        parameter.trainable = key not in frozen
        parameter.zero_grad()
    layer.train(training)
