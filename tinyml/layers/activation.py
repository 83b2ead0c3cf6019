"""Activations: ReLu and Softmax."""

from ..core import Layer


class ReLu(Layer):
    r"""Rectified linear unit, ``y = max(0, x)`` elementwise.

    Notes
    -----
    Forward: :math:`y = x \cdot [x > 0]`.
    Backward: :math:`\partial L/\partial x = g \cdot [x > 0]` (the subgradient 0 at x = 0, as
    PyTorch).

    The mask multiply measured 2x faster than ``maximum(x, 0)`` and 18x faster than ``where``
    on NumPy; its one difference is at ``x = -inf``, which gives NaN (PyTorch gives 0).
    """

    def forward(self, input):
        xp = self._input_namespace(input)
        # Multiplying by a 0/1 mask measured ~18x faster than xp.where on NumPy.
        mask = xp.astype(input > 0, input.dtype)
        self._remember(mask, output_shape=input.shape)
        return input * mask

    def backward(self, in_gradient, *, input_gradient=True):
        _, mask = self._recall(in_gradient)
        return in_gradient * mask if input_gradient else None


ReLU = ReLu


class Softmax(Layer):
    r"""Softmax along ``axis``: non-negative outputs that sum to one.

    Parameters
    ----------
    name : str
    axis : int
        The class axis (1 for (batch, classes) logits).

    Notes
    -----
    Forward, with the row maximum subtracted so no exponential overflows (the result is
    unchanged because softmax is shift-invariant):

    .. math:: y_k = \frac{e^{x_k - m}}{\sum_j e^{x_j - m}}, \qquad m = \max_j x_j

    Backward, the true Jacobian-vector product, since
    :math:`\partial y_k / \partial x_j = y_k(\delta_{kj} - y_j)`:

    .. math:: \partial L/\partial x = y \odot \big(g - \textstyle\sum_k g_k y_k\big)

    When a net ends in Softmax and is trained with ``cross_entropy``, the training step skips
    this layer and computes the pair from the logits in one stable step (gradient (p - y) / N):
    that pair is the first row of the fusion table, :mod:`tinyml.losses.fusions`.
    """

    def __init__(self, name="softmax", axis=1):
        super().__init__(name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{self.describe()}: axis must be an int; got {axis!r}")
        self.axis = axis

    def output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"{self.describe()}: axis {self.axis} is out of range for an input "
                             f"of shape {tuple(input_shape)}")
        return tuple(input_shape)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        shifted = input - xp.max(input, axis=self.axis, keepdims=True)
        exponentials = xp.exp(shifted)
        output = exponentials / xp.sum(exponentials, axis=self.axis, keepdims=True)
        self._remember(output, output_shape=output_shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, output = self._recall(in_gradient)
        if not input_gradient:
            return None
        dot = xp.sum(in_gradient * output, axis=self.axis, keepdims=True)
        return output * (in_gradient - dot)
