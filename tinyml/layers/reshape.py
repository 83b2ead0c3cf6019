"""Flatten: (batch, d1, d2, ...) -> (batch, d1*d2*...)."""

import math

from ..core import Layer, reshape_target, shape_error


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
        self._remember(tuple(input.shape), output_shape=output_shape)
        return xp.reshape(input, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input_shape = self._recall(in_gradient)
        if not input_gradient:
            return None
        return xp.reshape(in_gradient, input_shape)
