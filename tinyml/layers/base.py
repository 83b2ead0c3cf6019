"""The Layer contract every layer follows.

- ``forward(input)`` computes the output and keeps what ``backward`` needs.
- ``backward(in_gradient)`` takes dL/d(output), ADDS each parameter's gradient into its
  ``grad``, and returns dL/d(input). Zeroing gradients is the training loop's job.
  ``backward_parameters(in_gradient)`` does the adding without computing dL/d(input).
- Parameters are plain ``Parameter`` attributes, found in definition order.
- ``output_shape(input_shape)`` checks an input shape (batch first; None for unknown) and says
  what comes out, without computing anything: the net uses it for ``summary()`` and to reject
  bad data before training starts.
"""

import numbers

from ..backend import array_namespace, get_backend
from ..init import get_initializer
from ..parameter import Parameter


class Layer:
    """Base class of all layers: a name, parameters found by attribute, train/eval mode."""

    def __init__(self, name):
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"a layer's name must be a non-empty string; got {name!r}")
        if "." in name:
            raise ValueError(f"layer name {name!r} must not contain '.': it separates "
                             "layer and parameter in state_dict keys")
        self.name = name
        self.training = True
        self._cache = None
        self._output_shape = None

    # ---------------------------------------------------------------- the contract
    def forward(self, input):
        raise NotImplementedError(f"{self.describe()} does not implement forward()")

    def backward(self, in_gradient):
        raise NotImplementedError(f"{self.describe()} does not implement backward()")

    def backward_parameters(self, in_gradient):
        """Add this layer's parameter gradients for dL/d(output), without dL/d(input).

        A training step asks this of the first layer that has trainable parameters: nothing
        before it needs a gradient. The default runs ``backward`` and drops the result; layers
        whose input gradient is costly (Conv2D, Deconv2D, Linear) skip that part.
        """
        self.backward(in_gradient)

    def output_shape(self, input_shape):
        """The output shape for `input_shape` (batch first); raises ValueError if it does not fit.

        The default suits layers that keep the shape (activations, dropout).
        """
        return tuple(input_shape)

    def declared_input_shape(self):
        """The input shape this layer was built for, batch as None; None if it takes any."""
        return None

    def __call__(self, input):
        return self.forward(input)

    def __setattr__(self, attribute, value):
        if isinstance(value, Parameter) and not value.name:
            value.name = attribute
        super().__setattr__(attribute, value)

    # ---------------------------------------------------------------- parameters
    def named_parameters(self):
        """{attribute name: Parameter}, in definition order."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Parameter)}

    def parameters(self):
        return list(self.named_parameters().values())

    def freeze(self):
        """Stop the optimizer from updating this layer's parameters."""
        for parameter in self.parameters():
            parameter.trainable = False
        return self

    def unfreeze(self):
        for parameter in self.parameters():
            parameter.trainable = True
        return self

    # ---------------------------------------------------------------- modes
    def train(self, mode=True):
        """Training mode (Dropout drops); ``train(False)`` is ``eval()``."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (Dropout passes everything through)."""
        return self.train(False)

    # ---------------------------------------------------------------- helpers for subclasses
    def describe(self):
        """How error messages name this layer: ``Linear 'fc1'``."""
        return f"{type(self).__name__} '{self.name}'"

    def _namespace(self, x, what="input", kept=()):
        """The namespace of `x`, this layer's parameters and the arrays in `kept`; refuses a
        mix of backends."""
        params = self.named_parameters()

        def names():  # built only for an error message
            return [what, *(f"parameter '{name}'" for name in params),
                    *["what forward kept from its input"] * len(kept)]

        return array_namespace(x, *(p.data for p in params.values()), *kept, names=names,
                               where=self.describe)

    def _input_namespace(self, x):
        """For forward: the namespace of `x` and the parameters, and `x` must be floating."""
        xp = self._namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            raise TypeError(f"{self.describe()} expects floating-point input; got {x.dtype}. "
                            "Cast it first (Learner.fit and predict cast for you).")
        return xp

    def _remember(self, *values, output_shape):
        """Keep `values` for backward, with the shape backward's gradient must have."""
        self._cache = values
        self._output_shape = tuple(output_shape)

    def _recall(self, in_gradient):
        """(namespace, *values kept by forward), after checking `in_gradient` fits.

        Raises RuntimeError when backward comes before forward, ValueError when the gradient
        does not have the output's shape, TypeError/ValueError when it lives elsewhere.
        """
        if self._cache is None:
            raise RuntimeError(
                f"{self.describe()}: backward() called before forward(). Run forward on a "
                "batch first; backward uses what forward kept."
            )
        # The cached arrays too: a layer without parameters (ReLu, MaxPool2D) would otherwise
        # mix backends or devices with no check.
        kept = [value for value in self._cache if hasattr(value, "shape")]
        xp = self._namespace(in_gradient, what="in_gradient", kept=kept)
        if tuple(in_gradient.shape) != self._output_shape:
            raise ValueError(
                f"{self.describe()}: in_gradient has shape {tuple(in_gradient.shape)} but the "
                f"last forward produced {self._output_shape}; backward takes dL/d(output)."
            )
        return (xp, *self._cache)

    def _new_parameter(self, shape, fan_in, fan_out, init):
        """A Parameter of `shape` drawn by initializer `init` on the current backend."""
        data = get_backend().asarray(get_initializer(init)(shape, fan_in, fan_out))
        if tuple(data.shape) != tuple(shape):
            raise ValueError(
                f"{self.describe()}: initializer {init!r} returned shape {tuple(data.shape)}, "
                f"expected {tuple(shape)}"
            )
        return Parameter(data)

    def _zeros_parameter(self, shape):
        return Parameter(get_backend().zeros(shape))

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


def check_positive_int(owner, argument, value, minimum=1):
    """`value` as an int, or a ValueError/TypeError naming `owner` and `argument`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {argument} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {argument} must be >= {minimum}; got {value}")
    return int(value)


def check_input_dim(owner, input_dim, rank):
    """`input_dim` as a tuple of `rank` positive ints, such as (C, H, W) for images."""
    if isinstance(input_dim, int) and rank == 1:
        input_dim = (input_dim,)
    if not isinstance(input_dim, (tuple, list)) or len(input_dim) != rank:
        spell = "(C, H, W)" if rank == 3 else f"a tuple of {rank} ints"
        raise TypeError(f"{owner}: input_dim must be {spell}; got {input_dim!r}")
    return tuple(check_positive_int(owner, "input_dim", extent) for extent in input_dim)


def shape_error(layer, expected, got, fix=""):
    """The ValueError a layer raises for an input of the wrong shape."""
    got = "(" + ", ".join("batch" if d is None else str(d) for d in got) + \
        ("," if len(got) == 1 else "") + ")"
    message = f"{layer.describe()} expects input of shape {expected}; got {got}."
    return ValueError(message + (f" {fix}" if fix else ""))
