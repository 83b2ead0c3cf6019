"""Architectures as JSON: a layer's hyperparameters, configs of whole nets, and building them.

How it works, with nothing for a layer author to write:

- **Recorded, not declared.** ``Layer.__init_subclass__`` wraps each subclass's ``__init__``
  so that the outermost constructor call keeps its bound arguments, defaults applied
  (``Linear("fc", 4, 3)`` keeps ``{"name": "fc", "input_dim": 4, "output_dim": 3,
  "init": "he_uniform"}``). ``hyperparameters`` is that dict in JSON form.
- **JSON form.** None, bools, ints, floats and strings stay; tuples and lists become lists; dicts
  keep their (string) keys; an initializer function registered in ``tinyml.init.INITIALIZERS``
  becomes its name. A layer becomes its nested config ``{"class", "name", "hyperparameters"}``
  where it first appears (``Residual(name, layers)``, ``Parallel(name, branches, merge)``), and a
  reference ``{"ref": "encoder.pool"}`` (its dotted path from the config's root) wherever it
  appears again, so ``MaxUnpool2D(name, pool)`` points at the pool the net already holds.
  Anything else (an array, a lambda, an unregistered function) is a TypeError when the config
  is asked for, naming the layer, the argument and the fix.
- **Building.** ``Layer.from_config`` looks each class up by the name it was registered under
  (every Layer class in ``tinyml.layers.__all__``, ``Net``, and yours through
  :func:`register_layer`) and calls its constructor with the decoded arguments. Lists of plain
  values (numbers, strings) come back as tuples, since they are shapes and pairs (``input_dim``,
  ``padding=(2, 0)``); lists holding layers or other lists stay lists.

What a layer author must do: nothing, when the constructor's arguments describe the layer and
everything it holds is built from them (or passed in). Otherwise:

- register a class of your own once, where it is defined: ``tinyml.register_layer(MyLayer)``
  (as a decorator too); the program that loads a config must have run that line;
- a layer whose structure changes after construction (as ``Net.add`` changes a Net) overrides
  ``_config_arguments()`` to return the arguments that would build it as it is now;
- pass initializers by name, or register a function first:
  ``tinyml.init.INITIALIZERS["mine"] = mine``.
"""

import inspect
import numbers

from ..init import INITIALIZERS
from .layer import Layer

VERSION = 1
"""The version of the config format that ``net.config()`` writes under ``"version"``."""

MAX_DEPTH = 64
"""How deep layers may nest in a config (a Net in a Net ... 64 levels): ``config()`` refuses
a deeper net (so ``net.save`` keeps the weights only, with a warning) and ``from_config`` a
deeper config, whose building would otherwise end in a RecursionError."""
_MAX_JSON_DEPTH = 4 * MAX_DEPTH + 8  # the dicts and lists of MAX_DEPTH levels of layers

_CLASSES = {}  # registered name -> class
_NAMES = {}  # class -> the name configs write for it
_SCALARS = (type(None), bool, int, float, str)


# ---------------------------------------------------------------- the registry
def register_layer(layer_class, name=None):
    """Let configs name `layer_class` (by ``name``, its class name by default); returns it.

    Configs built by :meth:`tinyml.Layer.from_config` and :func:`tinyml.load_net` find classes
    only in this registry, so a file cannot make tinyml build anything else. Use it as a decorator
    (``@tinyml.register_layer``) or call it once where your class is defined; the program that
    loads the config must have run it too.

    Raises
    ------
    TypeError
        If `layer_class` is not a Layer subclass.
    ValueError
        If `name` is not a non-empty string, or already names a different class.
    """
    if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
        raise TypeError(f"register_layer takes a Layer subclass; got {layer_class!r}")
    name = layer_class.__name__ if name is None else name
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register_layer: a layer class's name must be a non-empty string; "
                         f"got {name!r}")
    known = _CLASSES.get(name)
    if known is not None and known is not layer_class:
        raise ValueError(
            f"register_layer: {name!r} already names {known.__module__}.{known.__qualname__}; "
            f"register {layer_class.__qualname__} under another name: "
            f"register_layer({layer_class.__name__}, name='mypackage.{name}')")
    _CLASSES[name] = layer_class
    if layer_class not in _NAMES or name == layer_class.__name__:
        _NAMES[layer_class] = name
    return layer_class


def register_exported(namespace, names):
    """Register every Layer subclass among `names` of `namespace` (a module's globals)."""
    for name in names:
        value = namespace[name]
        if isinstance(value, type) and issubclass(value, Layer) and value is not Layer:
            register_layer(value, name=name)


def registered_layers():
    """{name: class} of every layer class a config may name."""
    return dict(_CLASSES)


def class_label(layer):
    """The name a summary or config gives `layer`'s class: its registered name, if any."""
    return _NAMES.get(type(layer), type(layer).__name__)


def _registered_name(layer):
    name = _NAMES.get(type(layer))
    if name is None:
        cls = type(layer)
        raise TypeError(
            f"{layer.describe()}: its class {cls.__module__}.{cls.__qualname__} is not "
            f"registered, so a config could not build it again. Call "
            f"tinyml.register_layer({cls.__name__}) once where the class is defined (the "
            "program that loads the config needs it too).")
    return name


def _class_named(name, where):
    if not isinstance(name, str) or name not in _CLASSES:
        known = ", ".join(sorted(_CLASSES))
        raise ValueError(
            f"{where} names the layer class {name!r}, which tinyml does not know. Known: "
            f"{known}. If it is your own class, call tinyml.register_layer(YourClass) before "
            "building or loading.")
    return _CLASSES[name]


# ---------------------------------------------------------------- layer -> JSON
def hyperparameters_of(layer):
    """`layer`'s constructor arguments in JSON form (see the module docstring)."""
    return _Writer().arguments(layer, "")


def config_of(layer):
    """``{"version", "class", "name", "hyperparameters"}``: what builds `layer` again."""
    return {"version": VERSION, **_Writer().layer(layer, "")}


def _join(path, name):
    return name if not path else f"{path}.{name}"


class _Writer:
    """Turns layers into configs; a layer met a second time becomes a reference."""

    def __init__(self):
        self.paths = {}  # id(layer) -> its path, or None where two layers share that path
        self.owners = {}  # path -> id of the first layer defined there
        self.keep = []  # the layers written, so their ids stay theirs while this runs
        self.writing = set()  # ids of layers whose config is being written

    def layer(self, layer, path):
        name = _registered_name(layer)
        if path.count(".") >= MAX_DEPTH:
            raise ValueError(f"{layer.describe()} sits {path.count('.') + 1} layers deep, more "
                             f"than the {MAX_DEPTH} a config describes; flatten the nesting.")
        return {"class": name, "name": layer.name,
                "hyperparameters": self.arguments(layer, path)}

    def arguments(self, layer, path):
        """{argument: JSON} of `layer`, defined at `path` once they are written."""
        self.writing.add(id(layer))
        hyperparameters = {argument: self.value(layer, argument, value, path)
                           for argument, value in layer._config_arguments().items()}
        self.writing.discard(id(layer))
        first = self.owners.setdefault(path, id(layer))
        self.paths[id(layer)] = path if first == id(layer) else None
        self.keep.append(layer)
        return hyperparameters

    def value(self, owner, argument, value, path):
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return float(value)
        if isinstance(value, Layer):
            return self.layer_value(owner, argument, value, path)
        if isinstance(value, (list, tuple)):
            return [self.value(owner, argument, item, path) for item in value]
        if isinstance(value, dict):
            return self.dict_value(owner, argument, value, path)
        if callable(value):
            for name, function in INITIALIZERS.items():
                if function is value:
                    return name
        raise _not_json(owner, argument, value)

    def layer_value(self, owner, argument, layer, path):
        if id(layer) in self.writing:
            raise ValueError(f"{owner.describe()}: argument {argument!r} is "
                             f"{layer.describe()}, which holds {owner.describe()}: a config "
                             "cannot describe a layer inside itself")
        if id(layer) in self.paths:
            where = self.paths[id(layer)]
            if where is None:
                raise ValueError(
                    f"{owner.describe()}: argument {argument!r} refers to {layer.describe()}, "
                    "but another layer sits at the same path, so a reference could not say "
                    "which. Give the layers unique names.")
            return {"ref": where}
        if layer.name is None:
            raise ValueError(f"{owner.describe()}: argument {argument!r} is a Net without a "
                             "name; a nested Net needs one: Net([...], name='block')")
        return self.layer(layer, _join(path, layer.name))

    def dict_value(self, owner, argument, value, path):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"{owner.describe()}: argument {argument!r} is a dict with keys "
                            f"that are not strings ({list(value)!r}); JSON keys are strings")
        if "class" in value or set(value) == {"ref"}:
            raise TypeError(f"{owner.describe()}: argument {argument!r} is a dict with the key "
                            f"{'class' if 'class' in value else 'ref'!r}, which a config "
                            "reserves for layers; rename that key")
        return {key: self.value(owner, argument, item, path) for key, item in value.items()}


def _not_json(owner, argument, value):
    if callable(value):
        what = f"the function {getattr(value, '__qualname__', repr(value))}"
        fix = (f"Pass a registered name instead (initializers: {', '.join(INITIALIZERS)}), or "
               "register the function first: tinyml.init.INITIALIZERS['my_init'] = my_init.")
    else:
        what = f"a {type(value).__name__}"
        fix = ("Pass None, a bool, number, string, list, dict or layer; or have the layer "
               "override _config_arguments() to return arguments that are.")
    return TypeError(f"{owner.describe()}: hyperparameter {argument!r} is {what}, which a "
                     f"JSON config cannot hold. {fix}")


# ---------------------------------------------------------------- JSON -> layer
def from_config(config, expected=Layer):
    """The layer `config` (what ``config()`` returned) describes, built on the current backend
    from the current random streams; a ValueError unless it is an instance of `expected`."""
    if not isinstance(config, dict):
        raise TypeError(f"from_config takes the dict that config() returns; got "
                        f"{type(config).__name__}")
    version = config.get("version", VERSION)
    if version != VERSION:
        raise ValueError(f"this config is of format version {version!r}; this tinyml reads "
                         f"version {VERSION}. Build it with the tinyml that wrote it.")
    depth = json_depth(config)
    if depth > _MAX_JSON_DEPTH:
        raise ValueError(f"this config nests {depth} dicts and lists deep, more than the "
                         f"{_MAX_JSON_DEPTH} of {MAX_DEPTH} levels of layers; it is damaged, "
                         "or describes a net nested deeper than a config can")
    layer = _Builder().layer({key: value for key, value in config.items() if key != "version"},
                             "the config")
    if not isinstance(layer, expected):
        raise ValueError(f"the config describes {layer.describe()}, not a {expected.__name__}; "
                         f"build it with tinyml.Layer.from_config or {type(layer).__name__}"
                         ".from_config")
    return layer


def json_depth(value):
    """How deep dicts and lists nest in `value` (0 for a scalar), found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((item, depth + 1) for item in value)
    return deepest


class _Builder:
    """Builds configs in the order they were written, so references find their layer."""

    def __init__(self):
        self.built = {}  # path -> the first layer built there

    def layer(self, config, where, parent=None):
        """The layer `config` describes; `parent` is the path of the layer whose argument it
        is (None for the config's root)."""
        if set(config) != {"class", "name", "hyperparameters"}:
            raise ValueError(f"{where} should be a layer config with the keys class, name and "
                             f"hyperparameters; got the keys {sorted(config)}")
        cls = _class_named(config["class"], where)
        name = config["name"]
        if parent is not None and not isinstance(name, str):
            raise ValueError(f"{where}: a nested layer config needs a string name; got "
                             f"{name!r}")
        path = "" if parent is None else _join(parent, name)
        where = f"{where} ({config['class']}{'' if name is None else f' {name!r}'})"
        if path.count(".") >= MAX_DEPTH:
            raise ValueError(f"{where} nests {path.count('.') + 1} layers deep, more than the "
                             f"{MAX_DEPTH} a config describes")
        hyperparameters = config["hyperparameters"]
        if not isinstance(hyperparameters, dict):
            raise ValueError(f"{where}: hyperparameters should be a dict; got "
                             f"{type(hyperparameters).__name__}")
        arguments = {argument: self.value(value, path, f"{where}, argument {argument!r}")
                     for argument, value in hyperparameters.items()}
        layer = construct(cls, arguments, where)
        if layer.name != name:
            raise ValueError(f"{where}: the layer built is named {layer.name!r}, not "
                             f"{name!r}; the config is inconsistent")
        self.built.setdefault(path, layer)
        return layer

    def value(self, value, path, where):
        if isinstance(value, dict):
            if "class" in value:
                return self.layer(value, where, parent=path)
            if set(value) == {"ref"}:
                return self.reference(value["ref"], where)
            return {key: self.value(item, path, where) for key, item in value.items()}
        if isinstance(value, list):
            items = [self.value(item, path, where) for item in value]
            plain = items and all(isinstance(item, _SCALARS) for item in items)
            return tuple(items) if plain else items
        return value

    def reference(self, path, where):
        if path not in self.built:
            raise ValueError(f"{where} refers to the layer {path!r}, which the config does not "
                             f"define before it (defined so far: {sorted(self.built)}). A "
                             "reference names, by dotted path, a layer that appears earlier.")
        return self.built[path]


def decoded(value, where):
    """A JSON value as a constructor gets it (lists of plain values as tuples); no layers."""
    return _Builder().value(value, "", where)


def construct(cls, arguments, where):
    """``cls(...)`` called with {argument: value}, as its constructor's signature orders them."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    unknown = sorted(set(arguments) - {parameter.name for parameter in parameters})
    if unknown:
        raise ValueError(f"{where}: {cls.__name__}'s constructor takes no argument "
                         f"{', '.join(unknown)}; it takes "
                         f"{', '.join(p.name for p in parameters)}")
    args, kwargs, missing = [], {}, []
    for parameter in parameters:
        present = parameter.name in arguments
        value = arguments.get(parameter.name, parameter.default)
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.extend(value if present else ())
        elif parameter.kind is parameter.VAR_KEYWORD:
            kwargs.update(value if present else {})
        elif not present and parameter.default is parameter.empty:
            missing.append(parameter.name)
        elif parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    if missing:
        raise ValueError(f"{where}: the config lacks {cls.__name__}'s required argument(s) "
                         f"{', '.join(missing)}")
    return cls(*args, **kwargs)
