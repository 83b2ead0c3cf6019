"""Linear: the fully connected layer."""

from ..backend.ops import linear, linear_backward
from ..core import shape_error
from ..core.inferred import InferredInput, input_dim_optional, required
from ..core.params import Initializer, Integer, Optional, check_arguments


@input_dim_optional(lambda first, rest, kwargs: not rest and "output_dim" not in kwargs)
class Linear(InferredInput):
    r"""Fully connected layer, ``y = x W^T + b``.

    Parameters
    ----------
    name : str
    input_dim : int, optional
        Features per sample coming in. Leave it out to take it from the net
        (``Linear("fc", 10)``: one number is the output size, as PyTorch's ``LazyLinear``);
        a size left out is learnt from a (batch, features) input only, so a forgotten Flatten
        after a convolution is still an error. Give it to apply the layer over the last axis
        of a longer shape.
    output_dim : int
        Features per sample going out.
    init : str or callable, keyword-only
        Weight initializer (``"he_uniform"`` by default; see :mod:`tinyml.init`). The bias
        starts at zero.

    Shape
    -----
    input (batch, input_dim) -> output (batch, output_dim); as PyTorch's, any leading axes
    are kept: (batch, T, input_dim) -> (batch, T, output_dim) applies the same map at every
    step of a sequence. ``weight`` is (output_dim, input_dim) and ``bias`` (output_dim,), as
    in PyTorch.

    Notes
    -----
    Forward:

    .. math:: y = x W^\top + b

    Backward, given :math:`g = \partial L / \partial y`:

    .. math::
        \partial L / \partial W \mathrel{+}= g^\top x, \qquad
        \partial L / \partial b \mathrel{+}= \textstyle\sum_{batch} g, \qquad
        \partial L / \partial x = g W

    (with leading axes, the sums run over every row of every axis but the last: x and g are
    taken as (rows, features) matrices).

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import Linear
    >>> fc = Linear("fc", 4, 2)
    >>> tuple(fc.forward(tinyml.asarray(np.ones((3, 4)))).shape)
    (3, 2)
    >>> tinyml.Net([Linear("fc", 2)], input_shape=(4,))["fc"].weight.shape  # input_dim learnt
    (2, 4)
    """

    # (batch, ..., input_dim) in, as PyTorch's; a subclass whose backward takes (N, F) says False
    leading_axes = True

    declared_arguments = {"input_dim": Optional(Integer(1)), "output_dim": Integer(1),
                          "init": Initializer()}

    def __init__(self, name, input_dim=None, output_dim=None, *, init="he_uniform"):
        super().__init__(name)
        # Linear's own declaration, which subclasses (SparseEvolution) extend
        checked = check_arguments(self.describe(), Linear.declared_arguments, {
            "input_dim": input_dim, "init": init,
            "output_dim": required(self, "output_dim", output_dim, f"Linear({name!r}, 10)")})
        self.output_dim, self._init = checked["output_dim"], init
        self.input_dim = None  # set by _build, last
        if checked["input_dim"] is not None:
            self._build(checked["input_dim"])

    def _build(self, input_dim):
        self.weight = self._new_parameter((self.output_dim, input_dim), input_dim,
                                          self.output_dim, self._init)
        self.bias = self._zeros_parameter((self.output_dim,))
        self.input_dim = input_dim

    def _inferred_from(self, input_shape):
        return input_shape[1] if len(input_shape) == 2 else None

    def _declared(self):
        return (None, self.input_dim)

    def output_shape(self, input_shape):
        fits = self.built and len(input_shape) >= 2 and input_shape[-1] in (self.input_dim, None)
        if fits and (len(input_shape) == 2 or self.leading_axes):  # None: not known yet
            return (*input_shape[:-1], self.output_dim)  # leading axes kept, as PyTorch's
        features = self._inferred_from(input_shape)
        if features is None or (self.built and features != self.input_dim):
            fix = "Add a Flatten before it." if len(input_shape) > 2 else ""
            if len(input_shape) > 2 and not self.built:
                fix += (f" (Or give input_dim, Linear({self.name!r}, {input_shape[-1]}, "
                        f"{self.output_dim}), to apply it over the last axis.)")
            expected = self.input_dim if self.built else "features"
            raise shape_error(self, f"(batch, {expected})", input_shape, fix)
        return (input_shape[0], self.output_dim)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(input, output_shape=output_shape)
        return linear(input, self.weight.data, self.bias.data, xp=xp)  # x W^T + b

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self.saved(in_gradient)
        rows, g = input, in_gradient
        if input.ndim > 2:  # leading axes: every row of every step is a sample of the map
            rows = xp.reshape(input, (-1, self.input_dim))
            g = xp.reshape(in_gradient, (-1, self.output_dim))
        d_input = linear_backward(g, rows, self.weight.data, self.weight.grad, self.bias.grad,
                                  input_gradient=input_gradient, xp=xp)
        if d_input is not None and in_gradient.ndim > 2:
            d_input = xp.reshape(d_input, (*in_gradient.shape[:-1], self.input_dim))
        return d_input
