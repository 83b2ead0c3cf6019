"""Layers that move values between shapes, batch axis kept: Flatten (batch, d1, d2, ...) ->
(batch, d1*d2*...), Reshape to any sample shape, Permute the sample's axes."""

import math

from ..core import Layer, format_shape, reshape_target, shape_error
from ..core.params import Rule


class Permutation(Rule):
    """Permute's axes: a tuple of ints, a permutation of 1..k (the batch axis 0 stays)."""

    def check(self, owner, argument, value, known):
        if not isinstance(value, (tuple, list)) or not all(
                isinstance(axis, int) and not isinstance(axis, bool) for axis in value):
            raise TypeError(f"{owner}: {argument} must be a tuple of ints, such as (2, 1); got "
                            f"{value!r}")
        axes = tuple(value)
        if sorted(axes) != list(range(1, len(axes) + 1)):
            raise ValueError(f"{owner}: {argument} must be a permutation of 1..{len(axes)}, the "
                             f"sample's axes (the batch axis 0 stays first); got {axes}. For "
                             "(N, C, L) -> (N, L, C) pass (2, 1).")
        return axes

    def bad_values(self, known):
        return [((0, 2, 1), ValueError, ["must be a permutation of 1..3", "batch axis 0"]),
                ((1, 1), ValueError, ["must be a permutation of 1..2"]),
                ("21", TypeError, ["must be a tuple of ints"]),
                ((2.0, 1), TypeError, ["must be a tuple of ints"])]

    def example(self, known):
        return (2, 1)


class SampleShape(Rule):
    """Reshape's shape: a non-empty tuple of positive ints, -1 allowed once."""

    def check(self, owner, argument, value, known):
        if not isinstance(value, (tuple, list)) or not value or not all(
                isinstance(extent, int) and not isinstance(extent, bool) for extent in value):
            raise TypeError(f"{owner}: {argument} must be a non-empty tuple of ints (one "
                            "sample's shape, without the batch axis), such as (8, 8); got "
                            f"{value!r}")
        shape = tuple(value)
        if shape.count(-1) > 1 or any(extent < 1 and extent != -1 for extent in shape):
            raise ValueError(f"{owner}: {argument} must hold positive extents and at most one "
                             f"-1 (to infer); got {shape}")
        return shape

    def bad_values(self, known):
        return [((-1, -1), ValueError, ["at most one -1"]),
                ((4, 0), ValueError, ["positive extents"]),
                ((), TypeError, ["must be a non-empty tuple of ints"]),
                (8, TypeError, ["must be a non-empty tuple of ints"])]

    def example(self, known):
        return (2, -1)


class Flatten(Layer):
    r"""Flatten every sample to a vector, keeping the batch axis.

    Notes
    -----
    Forward: :math:`y_{n,:} = \mathrm{vec}(x_{n,\ldots})` in row-major (C) order, so an NCHW
    image becomes ``[c0 pixels..., c1 pixels...]``, as PyTorch's ``flatten(1)``.
    Backward: the gradient reshaped back to the input's shape.
    """

    def output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise shape_error(self, "(batch, ...) with at least 2 dimensions", input_shape)
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(tuple(input.shape), output_shape=output_shape)
        return xp.reshape(input, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input_shape = self.saved(in_gradient)
        if not input_gradient:
            return None
        return xp.reshape(in_gradient, input_shape)


class Permute(Layer):
    r"""Reorder the axes of every sample, keeping the batch axis first (Keras's Permute).

    Parameters
    ----------
    name : str
    axes : tuple of ints
        A permutation of ``1, ..., k`` for samples of k axes, counted as the input's axes
        (the batch is axis 0 and stays): output axis j is input axis ``axes[j - 1]``.
        ``Permute("p", (2, 1))`` turns Conv1D's (N, C, L) into the recurrent layers' (N, L, C).

    Shape
    -----
    input (batch, d_1, ..., d_k) -> output (batch, d_axes[0], ..., d_axes[k-1]).

    Notes
    -----
    Forward: :math:`y = \mathrm{permute}(x, (0, a_1, \ldots, a_k))`, PyTorch's
    ``x.permute(0, *axes)``.
    Backward: the gradient permuted back by the inverse permutation,
    :math:`\partial L / \partial x = \mathrm{permute}(g, a^{-1})` with
    :math:`a^{-1}_{a_j} = j`.
    """

    declared_arguments = {"axes": Permutation()}

    def __init__(self, name, axes):
        super().__init__(name, axes=axes)

    def output_shape(self, input_shape):
        if len(input_shape) != len(self.axes) + 1:
            raise shape_error(self, f"(batch, ...) with {len(self.axes)} axes per sample, "
                              f"which axes={self.axes} reorders", input_shape)
        return (input_shape[0], *(input_shape[axis] for axis in self.axes))

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(output_shape=output_shape)
        return xp.permute_dims(input, (0, *self.axes))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, = self.saved(in_gradient)
        if not input_gradient:
            return None
        inverse = [0] * (len(self.axes) + 1)
        for position, axis in enumerate((0, *self.axes)):
            inverse[axis] = position
        return xp.permute_dims(in_gradient, tuple(inverse))


class Reshape(Layer):
    r"""Give every sample a new shape, keeping the batch axis (Keras's Reshape).

    Parameters
    ----------
    name : str
    shape : tuple of ints
        One sample's new shape, without the batch axis; one extent may be -1, inferred from
        the sample's size. ``Reshape("r", (8, 8))`` turns (N, 64) rows into 8 steps of 8
        features; ``Reshape("r", (1, 28, 28))`` turns them into images.

    Shape
    -----
    input (batch, d_1, ..., d_k) -> output ``(batch, *shape)``, where the product of `shape`
    equals :math:`d_1 \cdots d_k`.

    Notes
    -----
    Forward: :math:`y_{n} = \mathrm{reshape}(x_{n}, \mathrm{shape})` in row-major (C)
    order, as PyTorch's ``x.reshape(len(x), *shape)``.
    Backward: the gradient reshaped back to the input's shape.
    """

    declared_arguments = {"shape": SampleShape()}

    def __init__(self, name, shape):
        super().__init__(name, shape=shape)

    def output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise shape_error(self, "(batch, ...) with at least 2 dimensions", input_shape)
        size = None if None in input_shape[1:] else math.prod(input_shape[1:])
        known = math.prod(extent for extent in self.shape if extent != -1)
        if -1 in self.shape:
            if size is None:
                return (input_shape[0], *(None if e == -1 else e for e in self.shape))
            if size % known == 0:
                return (input_shape[0], *(size // known if e == -1 else e for e in self.shape))
        elif size is None or size == known:
            return (input_shape[0], *self.shape)
        fits = f"a multiple of {known}" if -1 in self.shape else f"exactly {known}"
        raise ValueError(f"{self.describe()} reshapes each sample to {self.shape}, which needs "
                         f"{fits} values; the input {format_shape(tuple(input_shape))} has "
                         f"{size} per sample. Fix the shape, or the layer before it.")

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(tuple(input.shape), output_shape=output_shape)
        # -1 for the batch: its size is None in a net traced for ONNX with a dynamic batch
        return xp.reshape(input, (-1, *output_shape[1:]))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input_shape = self.saved(in_gradient)
        return xp.reshape(in_gradient, input_shape) if input_gradient else None
