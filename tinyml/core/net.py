"""Net: layers in a row. A Net is itself a layer, so a Net can hold a Net."""

import warnings

from .. import io
from ..backend import (
    backend_of,
    get_backend,
    resolve_backend,
    use_backend,
)
from .building import build_stack, is_built, sample_shape
from .checks import format_shape
from .config import register_layer
from .layer import Layer
from .structure import LayerList, structure_changed


class Net(Layer):
    """A stack of layers, run in order.

    Parameters
    ----------
    layers : iterable of Layer
        In order; names must be unique (they start the ``state_dict`` keys).
    name : str, optional
        Needed when this Net sits inside another layer: it starts its keys
        (``"block.fc.weight"``). A top-level Net may go without.
    input_shape : tuple of int, optional
        One sample's shape, without the batch axis (``(1, 28, 28)`` for MNIST images). Layers
        that left out their input size (``Conv2D("conv", 16, 3)``, ``Linear("fc", 10)``;
        see :mod:`tinyml.core.inferred`) learn it as they are added, so the parameters exist
        at once. Without it the first layer's declared input starts the chain (a Conv2D given
        ``input_dim``); with neither, the net learns its input shape from the first batch it
        sees (``fit``, ``forward``), or from :meth:`build`.

    Every layer is checked against what the layer before it puts out as soon as that is
    known, so a mismatched chain is a ValueError when the net is built, naming both layers
    and the shape.

    Examples
    --------
    >>> import tinyml
    >>> from tinyml.layers import Flatten, Linear, ReLu, Softmax
    >>> block = tinyml.Net([Linear("fc", 32, 32), ReLu("relu")], name="block")
    >>> net = tinyml.Net([Flatten("flat"), Linear("fc1", 64, 32), ReLu("relu"), block,
    ...                   Linear("fc2", 32, 10), Softmax("softmax")])
    >>> list(net.state_dict())[:4]
    ['fc1.weight', 'fc1.bias', 'block.fc.weight', 'block.fc.bias']

    The same net, each size written once:

    >>> net = tinyml.Net([Flatten("flat"), Linear("fc1", 32), ReLu("relu"),
    ...                   Linear("fc2", 10), Softmax("softmax")], input_shape=(8, 8))
    >>> net["fc1"].weight.shape
    (32, 64)
    """

    def __init__(self, layers=(), name=None, input_shape=None):
        super().__init__(name)
        self.layers = LayerList()
        self.input_shape = None if input_shape is None else sample_shape(input_shape)
        self._needs_build = False  # a layer is waiting for its input size
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        """Append `layer`; returns the net so calls chain."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Net.add takes a tinyml Layer; got {type(layer).__name__}")
        if layer is self:
            raise ValueError(f"{self.describe()} cannot hold itself")
        if layer.name is None:
            raise ValueError("a Net inside another Net needs a name, which starts its "
                             "state_dict keys: Net([...], name='block')")
        if any(existing.name == layer.name for existing in self.layers):
            raise ValueError(f"the net already has a layer named {layer.name!r}; layer names "
                             "key the state_dict, so each must be unique")
        if getattr(layer, "return_index", False):
            raise ValueError(f"{layer.describe()} has return_index=True and returns (output, "
                             "indices); a Net passes one array between layers. Use "
                             "return_index=False inside a Net.")
        self.layers.append(layer)
        structure_changed()
        start = self._start_shape()
        if start is None:
            self._needs_build = self._needs_build or not is_built(layer)
            return self
        try:
            self._build_for(start)  # builds the new layer, or checks that it fits
        except ValueError:
            self.layers.pop()
            raise
        return self

    @staticmethod
    def _check_name(name):
        if name is not None:
            Layer._check_name(name)

    def describe(self):
        return "Net" if self.name is None else f"Net '{self.name}'"

    # ---------------------------------------------------------------- building
    @property
    def built(self):
        """True when every layer, however deep, knows its input size (has its parameters)."""
        # Every layer below, however deep, is in named_layers(): ask each one that is not a Net
        # itself (asking nested Nets too would walk each subtree again, for every level).
        return all(is_built(layer) for layer in self.named_layers().values()
                   if not isinstance(layer, Net))

    def build(self, input_shape):
        """Give the layers that left out their input size the size that reaches them, from
        one sample's shape `input_shape` (without the batch axis); returns the net.

        Parameters are created on the net's backend (where its other parameters live, or
        where :meth:`to` sent it, or the current one) from the current random streams. A
        built net is only checked.

        Raises
        ------
        ValueError
            If a layer cannot take what reaches it, naming it, the layer before it and the
            shape; or if the net was built for another input shape.
        """
        shape = sample_shape(input_shape)
        known = vars(self).get("input_shape")
        if known is not None and shape != known:
            raise ValueError(f"{self.describe()} takes samples of shape {known}; "
                             f"got input_shape={shape}. Build a new net for other samples.")
        self._build_for((None, *shape))
        return self

    def _start_shape(self):
        """The batch-first shape that enters the first layer, when it is known."""
        if vars(self).get("input_shape") is not None:
            return (None, *self.input_shape)
        return self.layers[0].declared_input_shape() if self.layers else None

    def _build_for(self, input_shape):
        """Build (or check) every layer for a batch-first `input_shape`; the output shape."""
        with use_backend(self.backend):
            output = build_stack(self.layers, tuple(input_shape), self)
        if vars(self).get("input_shape") is None and None not in input_shape[1:]:
            # (a sequence of any length, declared (None, None, F), records no input shape)
            self.input_shape = tuple(input_shape[1:])
        self._needs_build = False
        return output

    def to(self, backend, *, device=None, dtype=None):
        """Move every parameter, gradient and buffer to `backend` (see :meth:`Layer.to`);
        layers not built yet will create theirs there. Returns the net."""
        super().to(backend, device=device, dtype=dtype)
        self._home = resolve_backend(backend, device=device, dtype=dtype)
        return self

    # ---------------------------------------------------------------- forward and backward
    def forward(self, input, *, skip_last=False):
        """The output of the last layer for `input` (of the one before it with ``skip_last``,
        which is how the training step fuses a last layer with the loss). A net that has not
        learnt its input shape learns it here, from `input`'s (see :meth:`build`)."""
        if vars(self).get("_needs_build"):
            self._build_for((None, *input.shape[1:]))
        for layer in self.layers[:-1] if skip_last else self.layers:
            input = layer.forward(input)
        return input

    def backward(self, in_gradient, *, input_gradient=True, skip_last=False):
        """Backpropagate dL/d(output) through the layers in reverse; returns dL/d(input).

        Each layer adds into its parameters' ``grad``. With ``skip_last`` the gradient is
        dL/d(input of the last layer) and the last layer is skipped (see ``forward``).

        With ``input_gradient=False`` (a training step, where nothing uses dL/d(input)) it stops
        at the first layer that has trainable parameters, asks it for parameter gradients only,
        and returns None. For a net that starts with Conv2D this skips the largest scatter-add
        of the step. The layers before it keep their records until ``clear_records()``, which
        the training step calls first.
        """
        layers = self.layers[:-1] if skip_last else self.layers
        return backward_through(layers, in_gradient, input_gradient=input_gradient)

    def update(self, optimizer):
        """Let `optimizer` update every trainable parameter from its gradient."""
        optimizer.step(self.named_parameters())

    @property
    def backend(self):
        """The backend the parameters (or buffers) live on; for a net without any, where
        :meth:`to` sent it, or the current one."""
        owned = self.parameters() or self.buffers()
        if owned:
            return backend_of(owned[0].data)
        return vars(self).get("_home") or get_backend()

    def _config_arguments(self):
        """The layers the net holds now (``add`` changes them after construction) and its
        input shape. A subclass with a constructor of its own is described by that
        constructor's arguments."""
        if type(self).__init__ is not Net.__init__:
            return super()._config_arguments()
        return {"layers": list(self.layers), "name": self.name,
                "input_shape": vars(self).get("input_shape")}

    # ---------------------------------------------------------------- checkpoints
    def save(self, path, *, config=None):
        """Write parameters and buffers to `path` as ``.npz``, with the net's architecture
        (atomically; loads without pickle).

        The arrays are keyed as ``state_dict``; :meth:`~tinyml.Layer.config` is stored beside
        them as one more array, UTF-8 JSON bytes under the key ``tinyml.io.CONFIG_KEY``
        (``"__config__"``), so :func:`tinyml.load_net` can rebuild the net from the file alone
        (see :mod:`tinyml.io` for the format). :meth:`load` and ``load_state_dict`` skip that
        key: a net you build decides its architecture, and the stored one is not compared with
        it (weights trained with Dropout(0.5) load into the same net built with Dropout(0.0)).

        Parameters
        ----------
        config : bool or None
            None (the default): store the config when the net can describe itself, otherwise
            save the weights only and warn why (an unregistered layer class, a function as a
            hyperparameter). True: the config is required (its TypeError or ValueError is
            raised). False: weights only.
        """
        if not self.built:
            raise RuntimeError(f"{self.describe()} is not built yet: layers that left out their "
                               "input size have no weights to save. Train it, or build it "
                               "first: net.build(input_shape), one sample's shape.")
        state = self.state_dict()
        if config is None:
            try:
                described = self.config()
            except (TypeError, ValueError) as error:
                warnings.warn(f"{path}: saved the weights only, without the architecture, "
                              f"because {error} net.load reads the file; tinyml.load_net cannot. "
                              "Pass config=False to save weights only without this warning.",
                              stacklevel=2)
                described = None
        else:
            described = self.config() if config else None
        if described is not None:
            state[io.CONFIG_KEY] = io.encode_config(described)
        if self.metadata:
            state[io.METADATA_KEY] = io.encode_config(self.metadata)
        io.save_state(state, path)

    @property
    def metadata(self):
        """A dict of JSON values that travels with the net's files: ``save`` and training
        checkpoints store it, ``load_net`` gives it back (``{}`` when there is none). The
        command line keeps the dataset, input shape and class names there."""
        return vars(self).setdefault("_metadata", {})

    @metadata.setter
    def metadata(self, value):
        if not isinstance(value, dict):
            raise TypeError(f"net.metadata must be a dict of JSON values; got "
                            f"{type(value).__name__}")
        self._metadata = dict(value)

    def load_state_dict(self, state, strict=True):
        """As :meth:`Layer.load_state_dict`; the descriptions a file keeps beside the weights
        (``tinyml.io.RESERVED_KEYS``: architecture, metadata) are skipped."""
        state = {key: value for key, value in state.items() if key not in io.RESERVED_KEYS}
        return super().load_state_dict(state, strict=strict)

    def load(self, path, strict=True):
        """Read the weights in `path` onto this net's backend; returns the net.

        `path` is a file written by :meth:`save`, or a training checkpoint
        (``learner.save_checkpoint``): its net's weights are read, the optimizer's state and
        the rest are not (``learner.load_checkpoint(path)`` or ``fit(resume_from=path)`` take
        all of it). A net not built yet is first built for the input shape the file records.
        The file's keys, dtypes and shapes are checked against the net's from its headers
        before any array is read, so a file that does not fit costs nothing (no size limit is
        needed: the net's shapes bound what is read). Nothing changes unless all of it loads.

        Raises
        ------
        FileNotFoundError
            If there is no file at `path`.
        ValueError
            If the file is damaged, not a weights file, or does not fit the net (missing or,
            with ``strict=True``, unexpected keys; mis-shaped arrays), naming what is wrong.
        RuntimeError
            If the net is not built and the file does not record an input shape.
        """
        prefix = io.weights_prefix(io.stored_names(path))
        if not self.built:
            from .files import build_from_saved  # files.py builds on this module

            build_from_saved(self, path)
        expected = {key: tuple(value.shape) for key, value in self.state_dict().items()}
        state = io.load_state(path, expected=expected, strict=strict, max_bytes=None,
                              prefix=prefix)
        self.load_state_dict(state, strict=strict)
        return self

    # ---------------------------------------------------------------- shapes
    def declared_input_shape(self):
        return self._start_shape()

    def output_shape(self, input_shape):
        """The net's output shape for `input_shape` (batch first); a layer's ValueError if any
        layer cannot take what reaches it."""
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def summary(self, input_shape=None, print_fn=print):
        """Print a table of layers (nested nets expanded, dotted names), output shapes and
        parameter counts. A container such as Residual or Parallel has a row of its own (the
        parameters it holds directly), then a row per inner layer (``res.conv``). With
        ``print_fn=None`` it returns the dict every layer's ``summary()`` returns instead
        (class, name, hyperparameters, arrays, shapes; see :meth:`Layer.summary`), which
        :meth:`~tinyml.Layer.set_params` takes.

        Parameters
        ----------
        input_shape : tuple, optional
            One sample's shape (without the batch axis). By default the net's own (given to
            it, learnt, or declared by its first layer) starts the shape inference; shapes
            before the first layer that declares one show as "?". A net not built yet is
            built for it first (:meth:`build`), so every parameter is counted.
        print_fn : callable or None
            Receives the table as one string; None: print nothing, return the summary dict.
        """
        if print_fn is None:
            return super().summary()
        if input_shape is not None and not self.built:
            self.build(input_shape)
        start = self._start_shape()
        shape = start if input_shape is None else (None, *input_shape)
        rows = [("Layer (type)", "Output shape", "Params")]
        _summary_rows(self.layers, "", shape, rows)
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        rule = "-" * len(lines[0])
        parameters = self.parameters()
        total = sum(parameter.size for parameter in parameters)
        trainable = sum(p.size for p in parameters if p.trainable)
        table = [lines[0], rule, *lines[1:], rule,
                 f"Total params: {total:,} (trainable: {trainable:,})" if self.built else
                 f"Total params: {total:,} so far; the layers marked ? learn their input size "
                 "from the net's input shape: give it (Net([...], input_shape=...), "
                 "net.build(shape)) or train"]
        buffers = self.buffers()
        if buffers:
            table.append(f"Buffers: {sum(b.size for b in buffers):,} values (not trained)")
        print_fn("\n".join(table))

    # ---------------------------------------------------------------- container
    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, key):
        """A layer by position or by name."""
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no layer named {key!r}; layers: {[lay.name for lay in self.layers]}")
        return self.layers[key]

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        named = "" if self.name is None else f", name={self.name!r}"
        return f"Net([{inner}]{named})"


register_layer(Net)


def backward_through(layers, in_gradient, *, input_gradient=True):
    """Backpropagate through `layers`, a stack that forward ran in order: Net.backward's rule,
    shared with the containers that hold stacks (Residual, Parallel).

    With ``input_gradient=False`` it stops at the first layer with trainable parameters (asked
    for parameter gradients only) and returns None; the layers before it are not called and
    keep their records until ``clear_records()``.
    """
    first = 0
    if not input_gradient:
        first = next((index for index, layer in enumerate(layers) if _trains(layer)), None)
        if first is None:
            return None
    for index in range(len(layers) - 1, first - 1, -1):
        wanted = input_gradient or index > first
        in_gradient = layers[index].backward(in_gradient, input_gradient=wanted)
    return in_gradient


def _trains(layer):
    return any(parameter.trainable for parameter in layer.parameters())


def _summary_rows(layers, prefix, shape, rows):
    """Append a row per layer of `layers` (recursing into nested nets) and returns the output
    shape.

    A container other than Net (Residual, Parallel) lists what it holds through
    ``summary_stacks(input_shape) -> [(layers, their input shape), ...]``: its own row (with
    the parameters it holds directly) comes first, then a row per inner layer, dotted.
    """
    for layer in layers:
        if shape is None:
            shape = layer.declared_input_shape()
        if isinstance(layer, Net):
            shape = _summary_rows(layer.layers, f"{prefix}{layer.name}.", shape, rows)
            continue
        output = None if shape is None else layer.output_shape(shape)
        stacks = getattr(layer, "summary_stacks", None)
        owned = (layer.parameters() if stacks is None else
                 [member for kind, _, member in layer._members() if kind == "parameter"])
        count = sum(parameter.size for parameter in owned)
        rows.append((f"{prefix}{layer.name} ({type(layer).__name__})",
                     format_shape(output, unknown="None"),
                     f"{count:,}" if is_built(layer) else "?"))
        for stack, stack_input in stacks(shape) if stacks is not None else ():
            _summary_rows(stack, f"{prefix}{layer.name}.", stack_input, rows)
        shape = output
    return shape
