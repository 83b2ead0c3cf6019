"""Layers that learn their input size: the shape a net already knows, never written twice.

A layer whose weights depend on its input's size (Linear's ``input_dim``, Conv2D's
``(C, H, W)``, BatchNorm's ``num_features``, ...) may leave that size out. It is then
*unbuilt*: it has no parameters yet, and :meth:`InferredInput.build` gives it the input shape
(batch first, as ``output_shape`` takes it) and creates them. A Net builds its layers for
you: at once when it knows its input (``Net([...], input_shape=(1, 28, 28))``, or a first
layer that declares it), else from the first batch it sees (``fit``, ``forward``), and
``net.build(input_shape)`` builds it on demand. A built layer is exactly the layer built with
the size given: the same parameters, drawn in the same order, and the same config (the size
learnt is written into ``hyperparameters``, so ``load_net`` builds it at once).

A layer class opts in with three pieces:

- :class:`InferredInput` among its bases, with ``_inferred`` naming the constructor argument
  the input gives (``"input_dim"`` or ``"num_features"``);
- ``_inferred_from(input_shape)``, that argument's value for a batch-first input shape (None
  for a shape of the wrong rank; ``output_shape`` then raises the layer's message), and
  ``_build(value)``, which creates the parameters and sets the value last, so a failed build
  leaves the layer unbuilt (the constructor calls it when the value is given);
- optionally :func:`input_dim_optional` on the class, so ``Conv2D("conv", 16, 3)`` (the size
  left out, the rest positional) means ``Conv2D("conv", None, 16, 3)``.
"""

import functools
import inspect
import numbers

from .layer import Layer


class NotBuiltError(RuntimeError, AttributeError):
    """An unbuilt layer's parameter or size was asked for. An AttributeError too, so
    ``getattr(layer, "weight", None)`` and ``hasattr`` still answer."""


class InferredInput(Layer):
    """A layer that may learn its input size from the first input shape it is given."""

    _inferred = "input_dim"  # the constructor argument that the input shape decides
    builds_from_input = True  # what Net looks for before calling build(input_shape)

    @property
    def built(self):
        """True once the input size is known and the parameters exist."""
        return vars(self).get(self._inferred) is not None

    def build(self, input_shape):
        """Learn the input size from `input_shape` (batch first, None for the batch) and create
        the parameters, unless built already; returns the output shape.

        Raises
        ------
        ValueError
            If `input_shape` cannot be this layer's input (the rank, or for a built layer the
            size it was built for), as ``output_shape`` says.
        """
        input_shape = tuple(input_shape)
        if not self.built:
            value = self._inferred_from(input_shape)
            if value is None:
                self.output_shape(input_shape)  # the layer's own shape error
            self._build(value)
        return self.output_shape(input_shape)

    def __call__(self, input):
        """``layer(x)``: build from `x`'s shape if needed, then forward. (A Net calls
        ``forward``, after building its layers.)"""
        if not self.built:
            self.build(tuple(input.shape))
        return self.forward(input)

    def declared_input_shape(self):
        return self._declared() if self.built else None

    def _declared(self):
        """The input shape a built layer takes, batch as None."""
        return (None, *getattr(self, self._inferred))

    def _config_arguments(self):
        """The constructor's arguments with the size learnt, so a config builds it at once."""
        arguments = dict(self._init_arguments)
        if self._inferred in arguments:  # not for a subclass whose constructor fixes it
            arguments[self._inferred] = vars(self).get(self._inferred)
        return arguments

    def _inferred_from(self, input_shape):
        raise NotImplementedError

    def _build(self, value):
        raise NotImplementedError

    def __getattr__(self, attribute):
        """Only reached for an attribute that is not there: say why, when it is because the
        layer is not built yet."""
        if attribute.startswith("_") or vars(self).get(self._inferred, 0) is not None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute "
                                 f"{attribute!r}")
        raise NotBuiltError(
            f"{self.describe()} has no {attribute} yet: its {self._inferred} was left out and "
            "it has not seen an input. Put it in a Net (which builds it from the net's "
            "input_shape or its first batch), call it once (layer(x)), or build it: "
            "layer.build(input_shape), the shape batch first with None for the batch.")


def required(layer, argument, value, example):
    """`value`, or a TypeError saying that `argument` is needed, with `example` a call that
    gives it (constructors whose arguments all got defaults, so that the input size may be
    left out, check the rest here)."""
    if value is None:
        raise TypeError(f"{layer.describe()} needs {argument}; got none. For example: "
                        f"{example}")
    return value


def input_dim_optional(starts_after_input_dim):
    """Class decorator: the positional arguments after the name may leave out ``input_dim``.

    ``starts_after_input_dim(first)`` says whether `first`, the positional argument after the
    name, is already the one after ``input_dim`` (an int where a shape tuple belongs); then
    None is put in ``input_dim``'s place. Runs before the constructor records its arguments,
    so ``hyperparameters`` name every argument rightly. Also refuses a name that is not a
    string with a message that says the name comes first (``Linear(64, 10)`` is PyTorch's
    order).
    """
    def decorate(cls):
        init = cls.__init__
        positional = [p for p in list(inspect.signature(init).parameters.values())[1:]
                      if p.kind is p.POSITIONAL_OR_KEYWORD]

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            if args and not isinstance(args[0], str) and "name" not in kwargs:
                raise _name_first(cls, args, kwargs)
            # Shifted only where it leaves room: AvgPool2D("pool", (4, 4), 2, 2) is a wrong
            # input_dim, which the constructor names, not a window size.
            if 2 <= len(args) < len(positional) and "input_dim" not in kwargs and \
                    starts_after_input_dim(args[1], args[2:], kwargs):
                args = (args[0], None, *args[1:])
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        return cls

    return decorate


def is_count(value):
    """True for an int (not a bool): a size or a count, where a shape tuple would be a tuple."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _name_first(cls, args, kwargs):
    given = [repr(value) for value in args] + [f"{key}={value!r}" for key, value in
                                                 kwargs.items()]
    call = f"{cls.__name__}({', '.join(given)})"
    fixed = f"{cls.__name__}({', '.join([repr(cls.__name__.lower()), *given])})"
    return TypeError(f"{call}: the first argument is the layer's name, a string; got "
                     f"{args[0]!r}. tinyml names every layer (the name keys its weights): "
                     f"{fixed}")
