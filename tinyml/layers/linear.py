"""Linear: the fully connected layer."""

from ..backend.ops import linear
from ..core import Layer, check_positive_int, shape_error


class Linear(Layer):
    r"""Fully connected layer, ``y = x W^T + b``.

    Parameters
    ----------
    name : str
    input_dim : int
        Features per sample coming in.
    output_dim : int
        Features per sample going out.
    init : str or callable, keyword-only
        Weight initializer (``"he_uniform"`` by default; see :mod:`tinyml.init`). The bias
        starts at zero.

    Shape
    -----
    input (batch, input_dim) -> output (batch, output_dim).
    ``weight`` is (output_dim, input_dim) and ``bias`` (output_dim,), as in PyTorch.

    Notes
    -----
    Forward:

    .. math:: y = x W^\top + b

    Backward, given :math:`g = \partial L / \partial y`:

    .. math::
        \partial L / \partial W \mathrel{+}= g^\top x, \qquad
        \partial L / \partial b \mathrel{+}= \textstyle\sum_{batch} g, \qquad
        \partial L / \partial x = g W

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import Linear
    >>> fc = Linear("fc", 4, 2)
    >>> tuple(fc.forward(tinyml.asarray(np.ones((3, 4)))).shape)
    (3, 2)
    """

    def __init__(self, name, input_dim, output_dim, *, init="he_uniform"):
        super().__init__(name)
        self.input_dim = check_positive_int(self.describe(), "input_dim", input_dim)
        self.output_dim = check_positive_int(self.describe(), "output_dim", output_dim)
        self.weight = self._new_parameter((self.output_dim, self.input_dim), self.input_dim,
                                          self.output_dim, init)
        self.bias = self._zeros_parameter((self.output_dim,))

    def declared_input_shape(self):
        return (None, self.input_dim)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.input_dim:
            fix = "Add a Flatten before it." if len(input_shape) > 2 else ""
            raise shape_error(self, f"(batch, {self.input_dim})", input_shape, fix)
        return (input_shape[0], self.output_dim)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self._remember(input, output_shape=output_shape)
        return linear(input, self.weight.data, self.bias.data, xp=xp)  # x W^T + b

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self._recall(in_gradient)
        if input.shape[0] == 1:
            # A batch of one makes g^T x an outer product with inner dimension 1, for which
            # NumPy's matmul skips BLAS (5-8x slower); broadcasting is the fast outer product.
            self.weight.grad += xp.reshape(in_gradient, (-1, 1)) * input
        else:
            self.weight.grad += xp.matrix_transpose(in_gradient) @ input
        self.bias.grad += xp.sum(in_gradient, axis=0)
        return in_gradient @ self.weight.data if input_gradient else None
