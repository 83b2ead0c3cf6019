"""Conv1D: Conv2D's machinery on sequences, viewed as images one row high."""

from ..backend.ops import conv2d, conv2d_backward
from ..core import (
    reshape_target,
    shape_error,
)
from ..core.inferred import InferredInput, input_dim_optional, is_count, required
from ..core.params import Initializer, Integer, Optional, Sizes
from ._windows import conv_output_size, same_padding
from .conv import padding_rule


@input_dim_optional(lambda first, rest, kwargs: is_count(first))
class Conv1D(InferredInput):
    r"""1-D convolution (cross-correlation) over sequences laid out (N, C, L), as PyTorch.

    Parameters
    ----------
    name : str
    input_dim : (C, L), optional
        Channels and length. Leave it out to take it from the net:
        ``Conv1D("conv", 16, 3, padding="causal")``.
    n_filter : int
        Output channels F.
    kernel_width : int
        K, the taps of each filter.
    stride : int, keyword-only
    padding : int, (left, right), ``"same"`` or ``"causal"``, keyword-only
        Zeros added before and after the sequence: an int on both sides, a pair as given;
        ``"same"``: as many as make the output ``ceil(L / stride)`` long, an odd one on the
        right (as TensorFlow); ``"causal"``: ``dilation (K - 1)`` on the left only, so output
        t sees inputs up to ``t stride`` and no later.
    dilation : int, keyword-only
        Spacing between taps, as PyTorch: 1 is a plain kernel (numpy-ml's 0).
    init : str or callable, keyword-only
        Weight initializer (``"he_uniform"``); the bias starts at zero.

    Shape
    -----
    input (N, C, L) -> output (N, F, OL) with
    ``OL = floor((L + left + right - dilation (K - 1) - 1) / stride) + 1``.
    ``weight`` is (F, C, K) and ``bias`` (F,), PyTorch's ``Conv1d`` layout.

    Notes
    -----
    With :math:`\tilde x` the input padded by (left, right) zeros, :math:`s` the stride and
    :math:`d` the dilation:

    .. math:: y_{n,f,t} = b_f + \sum_{c,k} W_{f,c,k}\, \tilde x_{n,c,\,ts+kd}

    .. math::
        \partial L/\partial b_f \mathrel{+}= \sum_{n,t} g_{n,f,t}, \qquad
        \partial L/\partial W_{f,c,k} \mathrel{+}= \sum_{n,t} g_{n,f,t}\, \tilde x_{n,c,\,ts+kd},
        \qquad
        \partial L/\partial \tilde x_{n,c,\,ts+kd} \mathrel{+}= \sum_f W_{f,c,k}\, g_{n,f,t}

    and the input gradient is the last with the padding cropped off. It runs as Conv2D on
    (N, C, 1, L) with a (F, C, 1, K) kernel: the same im2col columns and matmuls.
    """

    declared_arguments = {
        "input_dim": Optional(Sizes(2)),
        "n_filter": Integer(1),
        "kernel_width": Integer(1),
        "stride": Integer(1),
        "padding": padding_rule("same", "causal", pair="(left, right)"),
        "dilation": Integer(1),
        "init": Initializer(),
    }

    def __init__(self, name, input_dim=None, n_filter=None, kernel_width=None, *, stride=1,
                 padding=0, dilation=1, init="he_uniform"):
        super().__init__(name, stride=stride, dilation=dilation)
        example = f"Conv1D({name!r}, 16, 3) for 16 filters of width 3"
        checked = self._checked(n_filter=required(self, "n_filter", n_filter, example),
                                kernel_width=required(self, "kernel_width", kernel_width,
                                                      example),
                                padding=padding, init=init, input_dim=input_dim)
        input_dim = checked["input_dim"]
        self.n_filters, self.kernel_width = checked["n_filter"], checked["kernel_width"]
        self.padding, self._init = checked["padding"], init
        self.input_dim = None
        if input_dim is not None:
            self._build(input_dim)

    def _geometry(self, input_dim):
        """(pads, out_len) for input (C, L)."""
        length, k = input_dim[1], self.kernel_width
        if self.padding == "same":
            pads = same_padding(length, k, stride=self.stride, dilation=self.dilation)
        elif self.padding == "causal":
            pads = (self.dilation * (k - 1), 0)
        else:
            pads = self.padding if isinstance(self.padding, tuple) else (self.padding,) * 2
        out_len = conv_output_size(length + sum(pads), k, stride=self.stride,
                                   dilation=self.dilation)
        if out_len < 1:
            raise ValueError(
                f"{self.describe()}: a kernel of width {k} with stride {self.stride}, dilation "
                f"{self.dilation} and padding {pads} leaves no output for input length "
                f"{length}; use a smaller kernel or dilation, more padding, or a longer input"
            )
        return pads, out_len

    def _build(self, input_dim):
        self.pads, self.out_len = self._geometry(input_dim)
        c, k, f = input_dim[0], self.kernel_width, self.n_filters
        self.weight = self._new_parameter((f, c, k), c * k, f * k, self._init)
        self.bias = self._zeros_parameter((f,))
        self.input_dim = input_dim

    @property
    def n_filter(self):
        """``n_filters`` by Conv2D's name for it (the output channels)."""
        return self.n_filters

    def _inferred_from(self, input_shape):
        return tuple(input_shape[1:]) if len(input_shape) == 3 else None

    def output_shape(self, input_shape):
        dims = self._inferred_from(input_shape)
        if dims is None or (self.built and dims != self.input_dim):
            expected = ("(batch, C, L)" if not self.built else
                        f"(batch, {self.input_dim[0]}, {self.input_dim[1]})")
            fix = ("Reshape it to (batch, channels, length) first." if len(input_shape) == 2
                   else "")
            raise shape_error(self, expected, input_shape, fix)
        out_len = self.out_len if self.built else self._geometry(dims)[1]
        return (input_shape[0], self.n_filters, out_len)

    def _kernel(self, xp):
        """The weight as a one-row 2-D kernel (F, C, 1, K)."""
        return xp.reshape(self.weight.data, (self.n_filters, self.input_dim[0], 1,
                                             self.kernel_width))

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        n, (c, length) = input.shape[0], self.input_dim
        image = xp.reshape(input, reshape_target((n, c, 1, length)))
        self.save_for_backward(image, output_shape=output_shape)
        output = conv2d(image, self._kernel(xp), self.bias.data, stride=self.stride,
                        dilation=self.dilation, pads=(0, 0, *self.pads), xp=xp)
        return xp.reshape(output, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, image = self.saved(in_gradient)
        n, (c, length) = in_gradient.shape[0], self.input_dim
        d_weight, d_bias, d_input = conv2d_backward(
            xp.reshape(in_gradient, (n, self.n_filters, 1, self.out_len)), image,
            self._kernel(xp), stride=self.stride, dilation=self.dilation,
            pads=(0, 0, *self.pads), input_gradient=input_gradient, xp=xp)
        self.bias.grad += d_bias
        self.weight.grad += xp.reshape(d_weight, self.weight.shape)
        return None if d_input is None else xp.reshape(d_input, (n, c, length))
