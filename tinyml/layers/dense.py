"""FullyConnected: numpy-ml's dense layer, a Linear map followed by an activation."""

from ..backend.ops import linear
from .act_fn import ACT_FN, make_activation
from .linear import Linear


class FullyConnected(Linear):
    r"""Fully connected layer with an activation, ``y = f(x W^T + b)`` (numpy-ml's
    ``FullyConnected``).

    Parameters
    ----------
    name : str
    input_dim : int
        Features per sample coming in.
    output_dim : int
        Features per sample going out.
    act_fn : None, str or Layer, keyword-only
        The activation f: None for the identity, a name such as ``"relu"`` or ``"sigmoid"``
        (see :mod:`tinyml.layers.act_fn`; the layer is built as ``"{name}_{act_fn}"``), or an
        activation layer.
    init : str or callable, keyword-only
        Weight initializer, ``"glorot_uniform"`` as in numpy-ml (see :mod:`tinyml.init`). The
        bias starts at zero.

    Shape
    -----
    input (batch, input_dim) -> output (batch, output_dim).
    ``weight`` is (output_dim, input_dim) and ``bias`` (output_dim,), Linear's names and
    PyTorch's layout, held by this layer itself: in a Net, ``"fc.weight"`` and ``"fc.bias"``.
    The activation is a sub-layer without parameters.

    Notes
    -----
    Forward, with :math:`z = x W^\top + b`:

    .. math:: y = f(z)

    Backward, given :math:`g = \partial L / \partial y`, first through the activation,
    :math:`\delta = \partial L / \partial z = f'(z) \odot g` (the activation layer's own
    backward; :math:`\delta = g` without one), then as Linear:

    .. math::
        \partial L / \partial W \mathrel{+}= \delta^\top x, \qquad
        \partial L / \partial b \mathrel{+}= \textstyle\sum_{batch} \delta, \qquad
        \partial L / \partial x = \delta W

    The fusion table (:mod:`tinyml.losses.fusions`) looks at a net's last layer only: a net
    that should train Softmax + ``cross_entropy`` fused ends in a ``Softmax`` layer, not in
    ``FullyConnected(..., act_fn="softmax")``.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import FullyConnected
    >>> fc = FullyConnected("fc", 4, 2, act_fn="relu")
    >>> tuple(fc.forward(tinyml.asarray(np.ones((3, 4)))).shape)
    (3, 2)
    >>> sorted(tinyml.Net([fc]).state_dict())
    ['fc.bias', 'fc.weight']
    """

    leading_axes = False  # numpy-ml's dense layer takes (batch, input_dim)

    declared_arguments = {**Linear.declared_arguments, "act_fn": ACT_FN}

    def __init__(self, name, input_dim, output_dim, *, act_fn=None, init="glorot_uniform"):
        super().__init__(name, input_dim, output_dim, init=init)  # Linear's checks and weights
        self.init = init
        self.act_fn = act_fn  # as given (a name, a layer or None); the layer built from it:
        self.activation = make_activation(act_fn, self)

    def output_shape(self, input_shape):
        shape = super().output_shape(input_shape)
        return shape if self.activation is None else tuple(self.activation.output_shape(shape))

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        pre_activation = linear(input, self._weight_for_forward(), self.bias.data, xp=xp)
        self.save_for_backward(input, output_shape=output_shape)
        if self.activation is None:
            return pre_activation
        return self.activation.forward(pre_activation)

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self.saved(in_gradient)
        if self.activation is not None:
            in_gradient = self.activation.backward(in_gradient)
        if input.shape[0] == 1:
            # As in Linear: for a batch of one, broadcasting is the fast outer product.
            weight_gradient = xp.reshape(in_gradient, (-1, 1)) * input
        else:
            weight_gradient = xp.matrix_transpose(in_gradient) @ input
        self._add_weight_gradient(weight_gradient)
        self.bias.grad += xp.sum(in_gradient, axis=0)
        return in_gradient @ self.weight.data if input_gradient else None

    # ---------------------------------------------------------------- what SparseEvolution changes
    def _weight_for_forward(self):
        """The weight forward multiplies by (SparseEvolution masks it first)."""
        return self.weight.data

    def _add_weight_gradient(self, gradient):
        """Add dL/dW into the weight's grad (SparseEvolution masks it first)."""
        self.weight.grad += gradient
