"""The Layer contract every layer follows, and what the base class finds for it.

- ``forward(input)`` computes the output and keeps what ``backward`` needs as one record,
  in training and in eval mode alike (eval changes what a layer computes: Dropout passes
  everything, BatchNorm uses its running statistics; backpropagating through it is fine, as
  when fine-tuning with frozen statistics). Inside ``with tinyml.no_grad():`` forward keeps
  nothing; ``Learner.predict`` and ``evaluate`` run there, so no memory grows while
  predicting. A forward without its backward leaves its record until ``clear_records()``
  (which each training step calls first) or ``flush_gradients()``.
- ``backward(in_gradient, *, input_gradient=True)`` takes dL/d(output) for the LATEST record
  not yet consumed (last in, first out), ADDS each parameter's gradient into its ``grad``, and
  returns dL/d(input), or None with ``input_gradient=False`` (then it skips that work).
  A layer called T times before backward is backpropagated by T backward calls, in reverse:
  an RNN cell through time, or a layer shared by two branches. Zeroing gradients is the
  training loop's job.
- A layer author keeps a record with ``self.save_for_backward(values..., output_shape=...)``
  in forward and takes it back with ``xp, values... = self.saved(in_gradient)`` in backward
  (PyTorch's ``ctx.save_for_backward`` / ``ctx.saved_tensors``, as methods of the layer).
- A forward may take several inputs and return a tuple of arrays (a recurrent cell's
  ``forward(x, (h, c))`` returns ``(h', c')``): its record keeps every output's shape, its
  backward takes one gradient per output, as a tuple, and returns one gradient per input,
  each shaped as its input (a tuple for a tuple state), as a tuple.
- Parameters, buffers and sub-layers are plain attributes, or items of lists, tuples and
  dicts held in attributes; the base class finds them recursively in definition order.
  Attributes whose names start with ``_`` are private and never searched.
- Keys are dotted paths. A parameter or buffer is keyed by its attribute (``"weight"``; a list
  item ``"weights.0"``, a dict item ``"weights.key"``); a sub-layer's keys start with the
  sub-layer's own name (``"block1.conv.weight"``), wherever it is held, so names must be
  unique among the layers one layer holds. An object reachable twice (a shared layer, tied
  weights) is listed once, under the first key that reaches it.
- ``output_shape(input_shape)`` checks an input shape (batch first; None for unknown) and says
  what comes out, without computing anything.
- The constructor's arguments are recorded (the outermost call, defaults applied) and are the
  layer's ``hyperparameters``; ``config()`` / ``from_config()`` describe and rebuild it as
  JSON. A layer author writes nothing for this; :mod:`tinyml.core.config` says when to.
"""

import functools
import inspect
import operator

from ..backend import array_namespace, device_of, get_backend, resolve_backend
from ..init import get_initializer
from ..io import CONFIG_KEY
from .checks import format_shape
from .parameter import Buffer, Parameter
from .params import check_arguments
from .records import grad_enabled
from .structure import structure_changed, structure_version


class Layer:
    """Base class of all layers: a name, found parameters/buffers/sub-layers, records, modes."""

    #: True for a layer whose input is integer indices (Embedding). The Learner then keeps a
    #: net's integer data as it is (no cast to float) when the net starts with such a layer,
    #: and calls its ``check_indices(x, where)`` once on the whole data before any step.
    takes_indices = False

    #: True for a layer that normalizes with the statistics of its training batch (BatchNorm),
    #: which a batch of one sample does not have: ``fit`` then refuses batches of one, or
    #: leaves out a last batch of one with a warning, before any step.
    uses_batch_statistics = False

    #: ``{argument: rule}`` (rules of :mod:`tinyml.core.params`) of the constructor's options
    #: that the base checks: a subclass passes them on, ``super().__init__(name, alpha=alpha)``
    #: (or, to check them before its parent's constructor runs, ``self._set_declared(...)``),
    #: and gets each checked value as the attribute of the same name.
    declared_arguments = {}

    def __init__(self, name, **declared):
        if "_init_arguments" not in vars(self):  # a subclass without a constructor of its own
            self._init_arguments = {"name": name}
        self._check_name(name)
        self.name = name
        self.training = True
        self._records = []
        self._set_declared(**declared)

    def _set_declared(self, **values):
        """Check `values` by :attr:`declared_arguments` and set each as an attribute."""
        for argument, value in self._checked(**values).items():
            setattr(self, argument, value)

    def _checked(self, **values):
        """{argument: value} of `values` checked by :attr:`declared_arguments`, for a
        constructor that keeps them its own way (under another name, or once built)."""
        unknown = [argument for argument in values if argument not in self.declared_arguments]
        if unknown:
            raise TypeError(f"{type(self).__name__} passes {unknown} to the base, which "
                            f"checks only its declared_arguments {list(self.declared_arguments)}")
        rules = {argument: rule for argument, rule in self.declared_arguments.items()
                 if argument in values}
        return check_arguments(self.describe(), rules, values)

    def __init_subclass__(cls, **kwargs):
        """Each subclass's constructor records its arguments (see ``hyperparameters``)."""
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_arguments(cls.__dict__["__init__"])

    # ---------------------------------------------------------------- the contract
    def forward(self, input):
        """The layer's output for `input` (batch first); a subclass writes it.

        In a subclass: compute the output in standard Array API calls (the namespace from
        ``self._input_namespace(input)``), keep what backward needs with
        ``self.save_for_backward(value, ..., output_shape=output.shape)``, and return the
        output. A layer may take several inputs (``forward(x, state)``, ``forward(q, k, v)``)
        and return a tuple of arrays; its record then keeps every output's shape.
        """
        raise NotImplementedError(f"{self.describe()} does not implement forward()")

    def backward(self, in_gradient, *, input_gradient=True):
        """Given dL/d(output) of the latest forward not yet backpropagated, ADD each
        parameter's gradient into its ``grad`` and return dL/d(input); a subclass writes it.

        In a subclass: start with ``xp, value, ... = self.saved(in_gradient)`` (the record of
        that forward, consumed), add into ``self.weight.grad`` and the like, and return the
        input's gradient, or None when ``input_gradient`` is False (skip that work then). A
        forward of several inputs returns a tuple here, one gradient per input, each shaped
        as its input (a tuple state gets a tuple); a forward that returned a tuple of arrays
        gets a tuple `in_gradient`, one per output.
        """
        raise NotImplementedError(f"{self.describe()} does not implement backward()")

    def on_epoch_end(self, epoch):
        """Called by ``Learner.fit`` after each training epoch, for every layer of the net
        (sub-layers included), before the callbacks' ``on_epoch_end``. Does nothing here; a
        layer that changes itself between epochs (SparseEvolution rewires its mask) overrides
        it. `epoch` counts from 0."""

    def output_shape(self, input_shape):
        """The output shape for `input_shape` (batch first); raises ValueError if it does not fit.

        The default suits layers that keep the shape (activations, dropout).
        """
        return tuple(input_shape)

    def declared_input_shape(self):
        """The input shape this layer was built for, batch as None; None if it takes any."""
        return None

    def __call__(self, *inputs, **options):
        """``layer(x)`` is ``layer.forward(x)`` (and ``cell(x, state)``, ``forward(x, state)``)."""
        return self.forward(*inputs, **options)

    def __setattr__(self, attribute, value):
        if isinstance(value, (Parameter, Buffer)) and not value.name:
            value.name = attribute
        old = vars(self).get(attribute)
        if not (isinstance(value, _PLAIN) and isinstance(old, _PLAIN)) and (
                attribute[0] != "_" or isinstance(value, Parameter) or
                isinstance(old, Parameter)):
            structure_changed()  # what the layer holds may have changed
        super().__setattr__(attribute, value)

    def __delattr__(self, attribute):
        structure_changed()
        super().__delattr__(attribute)

    # ---------------------------------------------------------------- what a layer holds
    def named_children(self):
        """{name: Layer} of the sub-layers this layer holds directly, in definition order."""
        return {key: member for kind, key, member in self._members() if kind == "layer"}

    def named_layers(self):
        """{dotted name: Layer} of every sub-layer, however deep (not this layer itself)."""
        return _collect(self, "layer")

    def named_parameters(self):
        """{dotted name: Parameter}, recursively, in definition order."""
        return _collect(self, "parameter")

    def named_buffers(self):
        """{dotted name: Buffer}, recursively, in definition order."""
        return _collect(self, "buffer")

    def parameters(self):
        """Every Parameter, sub-layers' included, in definition order (a list)."""
        return list(self.named_parameters().values())

    def buffers(self):
        """Every Buffer, sub-layers' included, in definition order (a list)."""
        return list(self.named_buffers().values())

    def _members(self):
        """[(kind, key, object)] for each Parameter, Buffer and Layer held directly."""
        found = []
        for attribute, value in vars(self).items():
            if attribute[0] != "_" and not isinstance(value, _PLAIN):
                _add_members(found, self, attribute, value)
        return found

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """{dotted name: array} of every parameter and buffer: the live arrays, on their device.

        These keys are the checkpoint format (``net.save``), as PyTorch's are.
        """
        state = {key: parameter.data for key, parameter in self.named_parameters().items()}
        state.update((key, buffer.data) for key, buffer in self.named_buffers().items())
        return state

    def load_state_dict(self, state, strict=True):
        """Copy arrays (host NumPy or any backend's) into the parameters and buffers.

        Each array lands on the backend, device and dtype of the one it replaces. Nothing is
        changed unless every key can load. With ``strict=True`` missing or unexpected keys are
        an error; mis-shaped or non-numeric arrays always are. The key ``"__config__"``
        (``tinyml.io.CONFIG_KEY``, the architecture ``net.save`` stores) is skipped, so
        ``net.load_state_dict(dict(np.load(path)))`` works on any saved file.

        Returns
        -------
        LoadResult(missing_keys, unexpected_keys)
        """
        from .loading import load_into  # the checks are long; they live in their own module

        owned = {**self.named_parameters(), **self.named_buffers()}
        if CONFIG_KEY in state:  # the architecture net.save stores beside the weights
            state = {key: value for key, value in state.items() if key != CONFIG_KEY}
        return load_into(owned, state, strict=strict)

    # ---------------------------------------------------------------- records
    def save_for_backward(self, *values, output_shape):
        """Keep `values` (arrays, or anything else) for the backward of this forward call.

        Call it once in ``forward``; ``backward`` gets the values back from :meth:`saved`.
        `output_shape` is the shape of what forward returns, which the gradient given to
        backward must have: a shape (a tuple of ints), or, for a forward that returns a tuple
        of arrays (an LSTM cell's ``(h, c)``), the tuple of their shapes. Nothing is kept
        inside ``tinyml.no_grad()``. (``_remember`` is the same method, by its older name.)
        """
        if grad_enabled():
            self._records.append((values, _shape_tree(output_shape)))

    def saved(self, in_gradient):
        """``(xp, *values)``: the namespace and the values the latest forward kept with
        :meth:`save_for_backward`, consumed, after checking `in_gradient`.

        Call it first in ``backward``. `in_gradient` is dL/d(output): one array, or for a
        forward that returned a tuple of arrays a tuple with one gradient per output (pass
        zeros for an output the loss does not use). Checked before anything is consumed: it
        has that forward's output shape(s) and lives with the kept arrays and the layer's
        parameters. (``_recall`` is the same method, by its older name.)

        Raises
        ------
        RuntimeError
            When no record is left (backward before forward, or more backwards than forwards).
        ValueError
            When `in_gradient` does not have the shape of the last forward's output.
        TypeError
            When it lives on another library or device, or is not an array (a tuple of them).
        """
        if not self._records:
            raise RuntimeError(
                f"{self.describe()}: backward() called before forward(), or more often than "
                "it: each backward consumes the record of one forward (last in, first out), "
                "and forward keeps none inside tinyml.no_grad()."
            )
        values, output_shape = self._records[-1]
        if type(output_shape) is _OneShape:  # one output: checked here, without recursion
            if not hasattr(in_gradient, "shape") or tuple(in_gradient.shape) != output_shape:
                _gradient_leaves(self, in_gradient, output_shape)  # raises, saying what is wrong
            gradients = [in_gradient]
        else:
            gradients = _gradient_leaves(self, in_gradient, output_shape)
        # The kept arrays too: a layer without parameters (ReLu, MaxPool2D) would otherwise
        # mix backends or devices with no check.
        kept = [value for value in values if hasattr(value, "shape")]
        xp = self._namespace(gradients[0], what="in_gradient", kept=[*gradients[1:], *kept])
        self._records.pop()
        return (xp, *values)

    _remember = save_for_backward  # the names tinyml's own layers were written with
    _recall = saved

    @property
    def pending_records(self):
        """How many forward records wait for a backward in this layer (not its sub-layers)."""
        return len(self._records)

    def clear_records(self, *, recursive=True):
        """Drop every record kept for backward, here and (unless ``recursive=False``) in every
        sub-layer; returns self.

        A training step starts with this, so records that a step did not consume (layers
        before the first trainable one, a forward without backward) never pile up.
        """
        self._records.clear()
        for layer in self.named_layers().values() if recursive else ():
            layer._records.clear()
        return self

    # ---------------------------------------------------------------- modes and moves
    def train(self, mode=True):
        """Training mode for this layer and its sub-layers (Dropout drops); returns self.

        ``train(False)`` is ``eval()``.
        """
        for layer in (self, *self.named_layers().values()):
            layer.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout passes everything through, BatchNorm uses its running
        statistics. Forward still keeps records (``tinyml.no_grad()`` stops that)."""
        return self.train(False)

    def freeze(self):
        """Stop the optimizer from updating this layer's parameters (buffers are untouched)."""
        for parameter in self.parameters():
            parameter.trainable = False
        return self

    def unfreeze(self):
        """Let the optimizer update this layer's parameters again (undoes :meth:`freeze`)."""
        for parameter in self.parameters():
            parameter.trainable = True
        return self

    def zero_grad(self):
        """Zero the gradient of every parameter, sub-layers' included."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def flush_gradients(self):
        """Zero every gradient and drop every record kept for backward, sub-layers' included;
        returns self (numpy-ml's name for ``zero_grad()`` plus ``clear_records()``)."""
        self.zero_grad()
        return self.clear_records()

    # ---------------------------------------------------------------- architecture as JSON
    @property
    def hyperparameters(self):
        """The constructor's arguments as a JSON-serializable dict, defaults included.

        ``Linear("fc", 4, 3).hyperparameters == {"name": "fc", "input_dim": 4,
        "output_dim": 3, "init": "he_uniform"}``. Tuples become lists, a sub-layer its nested
        config, a layer already described earlier a reference ``{"ref": path}``, a registered
        initializer function its name (:mod:`tinyml.core.config`).

        Raises
        ------
        TypeError
            If an argument cannot be JSON (an array, an unregistered function or class),
            naming it and the fix.
        """
        from .config import hyperparameters_of

        return hyperparameters_of(self)

    def _config_arguments(self):
        """{argument: value} that would build this layer as it is now: by default what the
        outermost constructor call got. Override it if the layer changes after construction."""
        return dict(self._init_arguments)

    def config(self):
        """``{"version", "class", "name", "hyperparameters"}``, JSON-serializable: what
        :meth:`from_config` needs to build this layer (and everything it holds) again.

        Raises TypeError if a class is not registered (:func:`tinyml.register_layer`) or an
        argument cannot be JSON.
        """
        from .config import config_of

        return config_of(self)

    @classmethod
    def from_config(cls, config):
        """Build the layer `config` describes, on the current backend, with fresh weights
        from the current random streams (``tinyml.load_net`` brings trained ones).

        Raises
        ------
        ValueError
            For an unknown class, a malformed config or a reference to nothing, and when the
            layer built is not a `cls` (``Net.from_config`` of a Linear's config).
        """
        from .config import from_config

        return from_config(config, expected=cls)

    def summary(self):
        """numpy-ml's summary, a dict: ``class``, ``name``, ``hyperparameters``,
        ``parameters`` and ``buffers`` ({dotted key: a copy of the array}) and ``shapes``
        ({key: list of ints}). :meth:`set_params` takes it back."""
        from .summary import summary_of

        return summary_of(self)

    def set_params(self, summary_dict):
        """Set parameters, buffers and hyperparameters from a dict like :meth:`summary`'s;
        returns the layer.

        Entries left out keep their values; arrays may be any backend's or nested lists and
        land on each parameter's own backend and dtype. A changed hyperparameter rebuilds the
        layer in place (the same object, so nets holding it see the change; its sub-layers
        passed in stay, its Parameter objects are new: optimizers key their state by name), which
        is allowed only where every parameter and buffer keeps its key and shape, and not for
        the name or arguments that hold layers. Nothing changes unless all of it can.

        Raises
        ------
        ValueError
            For another class or name, unknown keys, mis-shaped arrays, or a hyperparameter
            that cannot change in place (the message says to build a new layer).
        TypeError
            For values of the wrong type.
        """
        from .summary import set_params

        try:
            return set_params(self, summary_dict)
        finally:
            structure_changed()  # a rebuild swaps the layer's attributes wholesale

    def to(self, backend, *, device=None, dtype=None):
        """Move every parameter, gradient and buffer to `backend` (a name or Backend).

        Floating arrays take the target's dtype. Records kept for backward are dropped: they
        live on the old device. Returns self.
        """
        target = resolve_backend(backend, device=device, dtype=dtype)
        for owned in (*self.parameters(), *self.buffers()):
            owned.to(target)
        return self.clear_records()

    # ---------------------------------------------------------------- helpers for subclasses
    def describe(self):
        """How error messages name this layer: ``Linear 'fc1'``."""
        return f"{type(self).__name__} '{self.name}'"

    def _namespace(self, x, what="input", kept=()):
        """The namespace of `x`, the Parameters that are this layer's own attributes, and the
        arrays in `kept`; refuses a mix of backends.

        Only direct attributes, not parameters in lists or sub-layers: this runs on every
        forward and backward, where a full walk would cost more than a small layer's math. A
        layer that keeps parameters in a list can pass their arrays in `kept`.
        """
        params = self._own_parameters()
        others = [parameter.data for parameter in params.values()]
        others += kept
        # The usual case first, without building labels: one type of array, on one device.
        if _one_kind(x, others):
            xp = array_namespace(x, names=(what,), where=self.describe)
            if not others:
                return xp
            device = device_of(x)
            for other in others:
                if device_of(other) != device:
                    break
            else:
                return xp

        def names():  # built only for an error message
            return [what, *(f"parameter '{name}'" for name in params),
                    *["what forward kept from its input"] * len(kept)]

        return array_namespace(x, *(p.data for p in params.values()), *kept, names=names,
                               where=self.describe)

    def _own_parameters(self):
        """{attribute: Parameter} of the layer's own attributes, remembered until some layer
        changes what it holds (:func:`structure_changed`)."""
        cached = vars(self).get("_own_parameters_cache")
        version = structure_version()
        if cached is None or cached[0] != version:
            cached = (version, {key: value for key, value in vars(self).items()
                                if isinstance(value, Parameter)})
            vars(self)["_own_parameters_cache"] = cached
        return cached[1]

    def _input_namespace(self, x):
        """For forward: the namespace of `x` and the parameters, and `x` must be floating."""
        xp = self._namespace(x)
        if not _real_floating(xp, x.dtype):
            raise TypeError(f"{self.describe()} expects floating-point input; got {x.dtype}. "
                            "Cast it first (Learner.fit and predict cast for you).")
        return xp

    def _new_parameter(self, shape, fan_in, fan_out, init):
        """A Parameter of `shape` drawn by initializer `init` on the current backend."""
        data = get_backend().asarray(get_initializer(init)(shape, fan_in, fan_out))
        if tuple(data.shape) != tuple(shape):
            raise ValueError(
                f"{self.describe()}: initializer {init!r} returned shape {tuple(data.shape)}, "
                f"expected {format_shape(tuple(shape))}"
            )
        return Parameter(data)

    def _zeros_parameter(self, shape):
        return Parameter(get_backend().zeros(shape))

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

    @staticmethod
    def _check_name(name):
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"a layer's name must be a non-empty string; got {name!r}")
        if "." in name:
            raise ValueError(f"layer name {name!r} must not contain '.': it separates "
                             "layer and parameter in state_dict keys")


def _one_kind(x, others):
    """True when every array of `others` has the type of `x` (a loop: faster than all() on
    the two or three arrays a layer checks)."""
    kind = type(x)
    for other in others:
        if type(other) is not kind:
            return False
    return True


_FLOATING = {}  # (namespace, dtype) -> bool: isdtype costs 4-5 us through array-api-compat


def _real_floating(xp, dtype):
    """``xp.isdtype(dtype, "real floating")``, remembered."""
    try:
        return _FLOATING[xp, dtype]
    except KeyError:
        answer = _FLOATING[xp, dtype] = bool(xp.isdtype(dtype, "real floating"))
        return answer
    except TypeError:  # a dtype that cannot be a key
        return xp.isdtype(dtype, "real floating")


def _recording_arguments(init):
    """`init`, wrapped so that the outermost constructor call keeps its bound arguments."""
    signature = inspect.signature(init)
    first = next(iter(signature.parameters))

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if "_init_arguments" not in vars(self):  # inner super().__init__ calls keep the outer
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                pass  # the constructor itself raises the TypeError that says what is wrong
            else:
                bound.apply_defaults()
                vars(self)["_init_arguments"] = {key: value for key, value in
                                                 bound.arguments.items() if key != first}
        init(self, *args, **kwargs)

    return __init__


class _OneShape(tuple):
    """The shape of a forward's one output array: a tuple of ints, marked so that backward's
    check need not look inside it again."""

    __slots__ = ()


def _shape_tree(shape):
    """`shape` as a tuple of ints, or a tuple of such shapes (nested) for a tuple output."""
    try:  # the usual case first: one array's shape, already ints (a torch.Size among them)
        return _OneShape(map(operator.index, shape))
    except TypeError:
        pass
    if _is_shape(shape):
        return _OneShape(int(extent) for extent in shape)
    if isinstance(shape, (tuple, list)):
        return tuple(_shape_tree(each) for each in shape)
    raise TypeError(f"output_shape must be a shape (a tuple of ints), or a tuple of shapes for "
                    f"a forward that returns several arrays; got {shape!r}")


def _is_shape(shape):
    return isinstance(shape, (tuple, list)) and all(
        not isinstance(extent, (tuple, list)) for extent in shape)


def _gradient_leaves(layer, in_gradient, output_shape, where="in_gradient"):
    """The arrays of `in_gradient`, in order, after checking them against `output_shape`."""
    if _is_shape(output_shape):
        if not hasattr(in_gradient, "shape"):
            raise TypeError(f"{layer.describe()}: {where} must be an array of shape "
                            f"{output_shape}; got {type(in_gradient).__name__}")
        if tuple(in_gradient.shape) != output_shape:
            raise ValueError(
                f"{layer.describe()}: {where} has shape {tuple(in_gradient.shape)} but the "
                f"last forward produced {output_shape}; backward takes dL/d(output).")
        return [in_gradient]
    if not isinstance(in_gradient, (tuple, list)) or len(in_gradient) != len(output_shape):
        raise TypeError(
            f"{layer.describe()}: the last forward returned {len(output_shape)} arrays, so "
            f"backward takes a tuple of {len(output_shape)} gradients, one per output (zeros "
            f"for an output the loss does not use); got {_describe_value(in_gradient)}")
    leaves = []
    for index, (gradient, shape) in enumerate(zip(in_gradient, output_shape, strict=True)):
        leaves += _gradient_leaves(layer, gradient, shape, where=f"{where}[{index}]")
    return leaves


def _describe_value(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"one array of shape {tuple(value.shape)}" if hasattr(value, "shape") else \
        type(value).__name__


# Values that hold no parameters, skipped at once: most of a layer's attributes are these.
_PLAIN = (int, float, str, bool, type(None), bytes)


def _add_members(found, owner, key, value):
    """Append (kind, key, object) for what `value` (held under `key`) contains, depth first."""
    if isinstance(value, Parameter):
        found.append(("parameter", key, value))
    elif isinstance(value, Buffer):
        found.append(("buffer", key, value))
    elif isinstance(value, Layer):
        if value.name is None:
            raise ValueError(f"{owner.describe()} holds a Net without a name under {key!r}; a "
                             "nested Net needs one: Net([...], name='block')")
        found.append(("layer", value.name, value))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if not isinstance(item, _PLAIN):
                _add_members(found, owner, f"{key}.{index}", item)
    elif isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(item, _PLAIN):
                _add_members(found, owner, f"{key}.{name}", item)


def _collect(root, kind):
    """{dotted key: object} of every `kind` ("parameter", "buffer", "layer") under `root`.

    Each object once (the first key that reaches it); two different objects under one key
    are an error, since the key could not say which one a checkpoint holds.
    """
    found, seen, visited = {}, set(), {id(root)}

    def walk(layer, prefix):
        for member_kind, key, member in layer._members():
            path = prefix + key
            if member_kind == kind and id(member) not in seen:
                if path in found:
                    raise ValueError(f"two different {kind}s are both keyed {path!r} in "
                                     f"{root.describe()}; give the layers unique names")
                found[path] = member
                seen.add(id(member))
            if member_kind == "layer" and id(member) not in visited:
                visited.add(id(member))
                walk(member, path + ".")

    walk(root, "")
    return found
