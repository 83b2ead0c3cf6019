"""Softmax and LogSoftmax: activations that normalize along one axis (the elementwise ones
are in :mod:`tinyml.layers.elementwise`).

The stable formulas are the backend operations ``softmax`` and ``log_softmax``
(:mod:`tinyml.backend.ops.softmax`), which the losses on logits (:mod:`tinyml.losses`) compute
with too.
"""

from ..backend import ops
from ..core import Layer
from ..core.params import Integer


class _AlongAxis(Layer):
    """A layer that normalizes along one axis: its name and the checked axis."""

    declared_arguments = {"axis": Integer(None)}  # any int; output_shape checks the range

    def __init__(self, name, axis):
        super().__init__(name, axis=axis)

    def output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"{self.describe()}: axis {self.axis} is out of range for an input "
                             f"of shape {tuple(input_shape)}")
        return tuple(input_shape)


class Softmax(_AlongAxis):
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
        super().__init__(name, axis)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        output = ops.softmax(input, axis=self.axis, xp=xp)  # one ONNX Softmax in an export
        self.save_for_backward(output, output_shape=output_shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, output = self.saved(in_gradient)
        if not input_gradient:
            return None
        dot = xp.sum(in_gradient * output, axis=self.axis, keepdims=True)
        return output * (in_gradient - dot)


class LogSoftmax(_AlongAxis):
    r"""Log-softmax along ``axis``: log-probabilities, for :func:`tinyml.losses.nll`.

    Parameters
    ----------
    name : str
    axis : int
        The class axis (1 for (batch, classes) logits).

    Notes
    -----
    Forward, with the maximum subtracted (``log_softmax``), finite for logits of any size:

    .. math:: y_k = (x_k - m) - \log \sum_j e^{x_j - m}, \qquad m = \max_j x_j

    Backward: :math:`\partial y_k / \partial x_j = \delta_{kj} - p_j` with
    :math:`p = e^{y}` the softmax, so

    .. math:: \partial L/\partial x = g - e^{y} \textstyle\sum_k g_k

    When a net ends in LogSoftmax over the class axis and is trained with ``nll``, the
    training step skips this layer and computes ``cross_entropy_with_logits`` on its input:
    a row of the fusion table, :mod:`tinyml.losses.fusions`.
    """

    def __init__(self, name="log_softmax", axis=1):
        super().__init__(name, axis)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        output = ops.log_softmax(input, axis=self.axis, xp=xp)
        self.save_for_backward(output, output_shape=output_shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, output = self.saved(in_gradient)
        if not input_gradient:
            return None
        total = xp.sum(in_gradient, axis=self.axis, keepdims=True)
        return in_gradient - xp.exp(output) * total
