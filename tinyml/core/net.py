"""Net: layers in a row. A Net is itself a layer, so a Net can hold a Net."""

import contextlib
import math
import warnings

from .. import io
from ..backend import (
    AllocationRefused,
    allocation_budget,
    backend_of,
    get_backend,
    use_backend,
    use_seed,
)
from .checks import format_shape
from .config import register_layer
from .layer import Layer


class Net(Layer):
    """A stack of layers, run in order.

    Parameters
    ----------
    layers : iterable of Layer
        In order; names must be unique (they start the ``state_dict`` keys).
    name : str, optional
        Needed when this Net sits inside another layer: it starts its keys
        (``"block.fc.weight"``). A top-level Net may go without.

    Examples
    --------
    >>> import tinyml
    >>> from tinyml.layers import Flatten, Linear, ReLu, Softmax
    >>> block = tinyml.Net([Linear("fc", 32, 32), ReLu("relu")], name="block")
    >>> net = tinyml.Net([Flatten("flat"), Linear("fc1", 64, 32), ReLu("relu"), block,
    ...                   Linear("fc2", 32, 10), Softmax("softmax")])
    >>> list(net.state_dict())[:4]
    ['fc1.weight', 'fc1.bias', 'block.fc.weight', 'block.fc.bias']
    """

    def __init__(self, layers=(), name=None):
        super().__init__(name)
        self.layers = []
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
        return self

    @staticmethod
    def _check_name(name):
        if name is not None:
            Layer._check_name(name)

    def describe(self):
        return "Net" if self.name is None else f"Net '{self.name}'"

    # ---------------------------------------------------------------- forward and backward
    def forward(self, input, *, skip_last=False):
        """The output of the last layer for `input` (of the one before it with ``skip_last``,
        which is how the training step fuses a last layer with the loss)."""
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
        """The backend the parameters (or buffers) live on; the current one for a net without
        any."""
        owned = self.parameters() or self.buffers()
        return backend_of(owned[0].data) if owned else get_backend()

    def _config_arguments(self):
        """The layers the net holds now (``add`` changes them after construction). A subclass
        with a constructor of its own is described by that constructor's arguments."""
        if type(self).__init__ is not Net.__init__:
            return super()._config_arguments()
        return {"layers": list(self.layers), "name": self.name}

    # ---------------------------------------------------------------- checkpoints
    def save(self, path, *, config=None):
        """Write parameters and buffers to `path` as ``.npz``, with the net's architecture
        (atomically; loads without pickle).

        The arrays are keyed as ``state_dict``; :meth:`config` is stored beside them as one
        more array, UTF-8 JSON bytes under the key ``tinyml.io.CONFIG_KEY`` (``"__config__"``),
        so :func:`tinyml.load_net` can rebuild the net from the file alone (see :mod:`tinyml.io`
        for the format). :meth:`load` and ``load_state_dict`` skip that key: a net you build
        decides its architecture, and the stored one is not compared with it (weights trained
        with Dropout(0.5) load into the same net built with Dropout(0.0)).

        Parameters
        ----------
        config : bool or None
            None (the default): store the config when the net can describe itself, otherwise
            save the weights only and warn why (an unregistered layer class, a function as a
            hyperparameter). True: the config is required (its TypeError or ValueError is
            raised). False: weights only.
        """
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
        io.save_state(state, path)

    def load(self, path, strict=True):
        """Read a file written by :meth:`save` onto this net's backend; returns the net.

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
        """
        expected = {key: tuple(value.shape) for key, value in self.state_dict().items()}
        state = io.load_state(path, expected=expected, strict=strict, max_bytes=None)
        self.load_state_dict(state, strict=strict)
        return self

    # ---------------------------------------------------------------- shapes
    def declared_input_shape(self):
        return self.layers[0].declared_input_shape() if self.layers else None

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
        :meth:`set_params` takes.

        Parameters
        ----------
        input_shape : tuple, optional
            One sample's shape (without the batch axis). By default the first layer that
            declares an input size (Linear, Conv2D, ...) starts the shape inference; shapes
            before it show as "?".
        print_fn : callable or None
            Receives the table as one string; None: print nothing, return the summary dict.
        """
        if print_fn is None:
            return super().summary()
        shape = None if input_shape is None else (None, *input_shape)
        rows = [("Layer (type)", "Output shape", "Params")]
        _summary_rows(self.layers, "", shape, rows)
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        rule = "-" * len(lines[0])
        parameters = self.parameters()
        total = sum(parameter.size for parameter in parameters)
        trainable = sum(p.size for p in parameters if p.trainable)
        table = [lines[0], rule, *lines[1:], rule,
                 f"Total params: {total:,} (trainable: {trainable:,})"]
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


def load_net(path, *, backend=None):
    """The net saved at `path` by ``net.save``, rebuilt from the file alone, trained weights in.

    The architecture comes from the config stored in the file (see :meth:`Net.save`); the
    layers' classes must be tinyml's or registered (:func:`tinyml.register_layer`). Building
    draws no random numbers from the caller's streams. The net comes back in training mode,
    as a newly built one; call ``eval()`` to predict.

    The stored config is not trusted further than the weights beside it: the file's headers
    are read first (no data), and the net is built within what they hold, so no array larger
    than what is left of the stored values is allocated, and no more parameters and buffers
    are made than are stored (:func:`tinyml.backend.allocation_budget`); layers may nest at
    most :data:`tinyml.core.config.MAX_DEPTH` deep. Then the weights' names and shapes are
    checked against the net built, and only then is their data read.

    Parameters
    ----------
    path : str or os.PathLike
    backend : str or Backend, optional
        Where the net lives, as ``tinyml.use_backend(backend)`` would make it current (a name
        such as ``"cupy"``, or a Backend); the current backend by default.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        If the file holds weights only (build the net in code and call ``net.load(path)``),
        its config is damaged, names an unknown class or does not describe the weights stored
        beside it, or it is not a weights file; the message names the file.
    """
    headers = io.state_headers(path)
    if io.CONFIG_KEY not in headers:
        raise ValueError(f"{path} holds weights only, no architecture (saved with "
                         "config=False, by an older tinyml or by another program), so "
                         "load_net cannot rebuild the net. Build the net in code and call "
                         f"net.load({str(path)!r}).")
    weights = {name: header for name, header in headers.items() if name != io.CONFIG_KEY}
    stored = sum(math.prod(header.shape) * header.dtype.itemsize for header in weights.values())
    if stored > io.MAX_BYTES:
        raise ValueError(f"{path} holds {stored:,} bytes of weights, more than the "
                         f"{io.MAX_BYTES:,} load_net reads; build the net in code and call "
                         f"net.load({str(path)!r}), which checks the shapes against it.")
    member = io.load_state(path, expected={io.CONFIG_KEY: headers[io.CONFIG_KEY].shape},
                           strict=False)
    config = io.decode_config(member[io.CONFIG_KEY], path)
    place = contextlib.nullcontext() if backend is None else use_backend(backend)
    budget = allocation_budget(sum(math.prod(header.shape) for header in weights.values()),
                               len(weights))
    try:
        with place, use_seed(0), budget:
            net = Net.from_config(config)
    except (TypeError, ValueError, AllocationRefused) as error:
        raise ValueError(f"{path}: the architecture stored in it cannot be built: {error}. "
                         "The file is damaged or was not written by net.save; build the net in "
                         f"code and call net.load({str(path)!r}).") from None
    return net.load(path)


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
        rows.append((f"{prefix}{layer.name} ({type(layer).__name__})",
                     format_shape(output, unknown="None"),
                     f"{sum(parameter.size for parameter in owned):,}"))
        for stack, stack_input in stacks(shape) if stacks is not None else ():
            _summary_rows(stack, f"{prefix}{layer.name}.", stack_input, rows)
        shape = output
    return shape
