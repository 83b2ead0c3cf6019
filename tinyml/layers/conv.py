"""Conv2D and Deconv2D (transposed convolution), vectorized over batch, channels and pixels.

The math of both, forward and backward, is four backend operations of
:mod:`tinyml.backend.ops` (``conv2d``, ``conv2d_backward``, ``conv_transpose2d``,
``conv_transpose2d_backward``): a portable path built on the window transforms ``im2col`` and
``col2im_matmul`` (``_windows.py``), PyTorch's own kernels on the torch backend, and a
cache-blocked one on NumPy (and one ``Conv`` in an ONNX export). Conv1D (``conv1d.py``,
images one row high) runs the same operations. Each forward keeps its input for backward.
"""


from ..backend.ops import conv2d, conv2d_backward, conv_transpose2d, conv_transpose2d_backward
from ..core import (
    channels_hint,
    shape_error,
)
from ..core.inferred import InferredInput, input_dim_optional, is_count, required
from ..core.params import AnyOf, Initializer, Integer, OneOf, Optional, Pair, Sizes
from ._windows import conv_output_size, same_padding


def padding_rule(*words, pair=None):
    """padding: an int >= 0 or one of `words` (``"same"``), or with `pair` (``"(left,
    right)"``, Conv1D) a pair of ints too. ``"valid"`` is refused with its spelling."""
    sides = [Integer(0)] + ([Pair(Integer(0), pair)] if pair else [])
    spelled = (f"an int, a {pair} pair, " if pair else "an int or ") + \
        OneOf(*words).spelled()
    return AnyOf(*sides, OneOf(*words), spelled=spelled,
                 hints={"valid": " ('valid' is padding=0)"})


# ---------------------------------------------------------------------------- the layers
class _Conv2DBase(InferredInput):
    """What Conv2D and Deconv2D share: argument checks, the input size learnt or given, and
    the (batch, C, H, W) input check."""

    declared_arguments = {"input_dim": Optional(Sizes(3)), "n_filter": Integer(1),
                          "h_filter": Integer(1),
                          "w_filter": Optional(Integer(1)), "stride": Integer(1),
                          "padding": padding_rule("same"), "dilation": Integer(1),
                          "init": Initializer()}

    def _check_common(self, filters_argument, n_filters, h_filter, **declared):
        """Check the sizes, padding and init by the declaration; returns the filters."""
        example = f"{type(self).__name__}({self.name!r}, 16, 3) for 16 filters of 3x3"
        checked = self._checked(
            **{filters_argument: required(self, filters_argument, n_filters, example)},
            h_filter=required(self, "h_filter", h_filter, example), **declared)
        self.h_filter, self.padding = checked["h_filter"], checked["padding"]
        self.w_filter = checked["w_filter"] or self.h_filter  # square by default
        self._init = checked["init"]
        self.input_dim = None
        return checked[filters_argument]

    def _build_if_given(self, input_dim):
        input_dim = self._checked(input_dim=input_dim)["input_dim"]
        if input_dim is not None:
            self._build(input_dim)

    def _check_output(self, out_h, out_w, input_dim):
        if out_h < 1 or out_w < 1:
            dilated = f", dilation {self.dilation}" if self.dilation > 1 else ""
            raise ValueError(
                f"{self.describe()}: a {self.h_filter}x{self.w_filter} kernel with stride "
                f"{self.stride}{dilated} and padding {self.padding} leaves no output for input "
                f"{input_dim}; use a smaller kernel, dilation or padding, or a larger input"
            )
        return out_h, out_w

    def _inferred_from(self, input_shape):
        return tuple(input_shape[1:]) if len(input_shape) == 4 else None

    def output_shape(self, input_shape):
        dims = self._inferred_from(input_shape)
        if dims is None or (self.built and dims != self.input_dim):
            expected = "(batch, C, H, W)" if not self.built else \
                f"(batch, {', '.join(map(str, self.input_dim))})"
            fix = "Reshape flat samples to (batch, C, H, W) first." if len(input_shape) == 2 \
                else channels_hint("input_dim", self.input_dim, input_shape)
            raise shape_error(self, expected, input_shape, fix)
        out_h, out_w = (self.out_h, self.out_w) if self.built else self._geometry(dims)[-2:]
        return (input_shape[0], self.n_filters, out_h, out_w)


def _shifted(first, rest, kwargs):
    """Conv2D("conv", 16, 3): an int where input_dim's (C, H, W) belongs is n_filter."""
    return is_count(first)


@input_dim_optional(_shifted)
class Conv2D(_Conv2DBase):
    r"""2-D convolution (cross-correlation, as in every framework) over NCHW images.

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net: ``Conv2D("conv", 16, 3, padding=1)`` is 16
        filters of 3x3 on whatever channels and size reach it.
    n_filter : int
        Output channels F.
    h_filter, w_filter : int
        Kernel height and width (``w_filter`` defaults to ``h_filter``: a square kernel).
    stride : int
        1 by default.
    padding : int or ``"same"``
        Zeros added on each side of H and W; ``"same"``: as many as make the output
        ``ceil(H / stride)`` by ``ceil(W / stride)``, an odd one on the bottom and right (as
        TensorFlow, and PyTorch's ``padding="same"``, which allows only stride 1). 0 by
        default, as PyTorch.
    dilation : int, keyword-only
        Spacing between kernel taps, as PyTorch: 1 is a plain kernel, 2 leaves one pixel
        between taps.
    init : str or callable, keyword-only
        Weight initializer (``"he_uniform"``); the bias starts at zero.

    Shape
    -----
    input (N, C, H, W) -> output (N, F, OH, OW) with
    ``OH = floor((H + top + bottom - dilation (h_filter - 1) - 1) / stride) + 1`` (likewise
    OW), where top = bottom = padding for an int.
    ``weight`` is (F, C, h_filter, w_filter) and ``bias`` (F,), as in PyTorch.

    Notes
    -----
    With :math:`\tilde x` the zero-padded input, :math:`s` the stride and :math:`d` the
    dilation, forward is

    .. math:: y_{n,f,p,q} = b_f + \sum_{c,i,j} W_{f,c,i,j}\, \tilde x_{n,c,\,ps+id,\,qs+jd}

    computed as one batched matmul ``W_(F, C kh kw) @ cols_(N, C kh kw, OH OW)``. Backward,
    given :math:`g = \partial L/\partial y`:

    .. math::
        \partial L/\partial b_f \mathrel{+}= \sum_{n,p,q} g_{n,f,p,q}, \qquad
        \partial L/\partial W_{f,c,i,j} \mathrel{+}= \sum_{n,p,q} g_{n,f,p,q}\,
            \tilde x_{n,c,\,ps+id,\,qs+jd}

    .. math::
        \partial L/\partial \tilde x_{n,c,\,ps+id,\,qs+jd} \mathrel{+}= \sum_f W_{f,c,i,j}\,
            g_{n,f,p,q}

    and the input gradient is that buffer with the padding cropped off.
    """

    def __init__(self, name, input_dim=None, n_filter=None, h_filter=None, w_filter=None,
                 stride=1, padding=0, *, dilation=1, init="he_uniform"):
        super().__init__(name, stride=stride, dilation=dilation)
        self.n_filters = self._check_common("n_filter", n_filter, h_filter, w_filter=w_filter,
                                            padding=padding, init=init)
        self._build_if_given(input_dim)

    def _geometry(self, input_dim):
        """(pads, out_h, out_w) for input (C, H, W)."""
        _, h, w = input_dim
        kh, kw = self.h_filter, self.w_filter
        if self.padding == "same":
            pads = (*same_padding(h, kh, stride=self.stride, dilation=self.dilation),
                    *same_padding(w, kw, stride=self.stride, dilation=self.dilation))
        else:
            pads = (self.padding,) * 4
        top, bottom, left, right = pads
        out_h, out_w = self._check_output(
            conv_output_size(h + top + bottom, kh, stride=self.stride, dilation=self.dilation),
            conv_output_size(w + left + right, kw, stride=self.stride, dilation=self.dilation),
            input_dim)
        return pads, out_h, out_w

    def _build(self, input_dim):
        self.pads, self.out_h, self.out_w = self._geometry(input_dim)
        c, kh, kw, f = input_dim[0], self.h_filter, self.w_filter, self.n_filters
        self.weight = self._new_parameter((f, c, kh, kw), c * kh * kw, f * kh * kw, self._init)
        self.bias = self._zeros_parameter((f,))
        self.input_dim = input_dim

    @property
    def n_filter(self):
        """The seed API's name for the number of filters."""
        return self.n_filters

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(input, output_shape=output_shape)
        return conv2d(input, self.weight.data, self.bias.data, stride=self.stride,
                      dilation=self.dilation, pads=self.pads, xp=xp)

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self.saved(in_gradient)
        d_weight, d_bias, d_input = conv2d_backward(
            in_gradient, input, self.weight.data, stride=self.stride, dilation=self.dilation,
            pads=self.pads, input_gradient=input_gradient, xp=xp)
        self.bias.grad += d_bias
        self.weight.grad += d_weight
        return d_input


@input_dim_optional(_shifted)
class Deconv2D(_Conv2DBase):
    r"""Transposed convolution ("deconvolution"): the adjoint of a strided convolution.

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net (``Deconv2D("up", 8, 2, stride=2)``).
    n_filters : int
        Output channels F.
    h_filter, w_filter : int
        Kernel height and width (``w_filter`` defaults to ``h_filter``).
    stride : int
        How far apart input pixels land in the output (1 by default).
    dilation : int
        Spacing between kernel taps.
    padding : int
        Rows and columns cropped from each side of the result.
    init : str or callable, keyword-only
        Weight initializer (``"he_uniform"``); the bias starts at zero.

    Shape
    -----
    input (N, C, H, W) -> output (N, F, OH, OW) with
    ``OH = (H - 1) stride - 2 padding + dilation (h_filter - 1) + 1`` (likewise OW), as
    PyTorch's ``ConvTranspose2d`` with ``output_padding=0``. ``weight`` is
    (C, F, h_filter, w_filter) and ``bias`` (F,), PyTorch's layout.

    Notes
    -----
    Each input pixel scatters a weighted copy of the kernel into the output. With
    :math:`\tilde y` the uncropped output, :math:`s` the stride and :math:`d` the dilation:

    .. math::
        \tilde y_{n,f,\,ps+id,\,qs+jd} \mathrel{+}= \sum_c W_{c,f,i,j}\, x_{n,c,p,q},
        \qquad y = \mathrm{crop}_{padding}(\tilde y) + b

    Backward, given :math:`g = \partial L/\partial y` and :math:`\tilde g` it zero-padded back
    to the uncropped size, is a convolution of :math:`\tilde g` with the same weights:

    .. math::
        \partial L/\partial x_{n,c,p,q} = \sum_{f,i,j} W_{c,f,i,j}\, \tilde g_{n,f,\,ps+id,\,qs+jd}

    .. math::
        \partial L/\partial W_{c,f,i,j} \mathrel{+}= \sum_{n,p,q} x_{n,c,p,q}\,
            \tilde g_{n,f,\,ps+id,\,qs+jd}, \qquad
        \partial L/\partial b_f \mathrel{+}= \sum_{n,p,q} g_{n,f,p,q}
    """

    declared_arguments = {"input_dim": Optional(Sizes(3)), "n_filters": Integer(1),
                          "h_filter": Integer(1),
                          "w_filter": Optional(Integer(1)), "stride": Integer(1),
                          "dilation": Integer(1), "padding": Integer(0), "init": Initializer()}

    def __init__(self, name, input_dim=None, n_filters=None, h_filter=None, w_filter=None,
                 stride=1, dilation=1, padding=0, *, init="he_uniform"):
        super().__init__(name, stride=stride, dilation=dilation)
        self.n_filters = self._check_common("n_filters", n_filters, h_filter,
                                            w_filter=w_filter, padding=padding, init=init)
        self._build_if_given(input_dim)

    def _geometry(self, input_dim):
        """(full_h, full_w, out_h, out_w) for input (C, H, W): the uncropped size, then the
        output's."""
        _, h, w = input_dim
        kh, kw = self.h_filter, self.w_filter
        full_h = (h - 1) * self.stride + self.dilation * (kh - 1) + 1
        full_w = (w - 1) * self.stride + self.dilation * (kw - 1) + 1
        return (full_h, full_w, *self._check_output(full_h - 2 * self.padding,
                                                    full_w - 2 * self.padding, input_dim))

    def _build(self, input_dim):
        self.full_h, self.full_w, self.out_h, self.out_w = self._geometry(input_dim)
        c, kh, kw, f = input_dim[0], self.h_filter, self.w_filter, self.n_filters
        self.weight = self._new_parameter((c, f, kh, kw), c * kh * kw, f * kh * kw, self._init)
        self.bias = self._zeros_parameter((f,))
        self.input_dim = input_dim

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(input, output_shape=output_shape)
        return conv_transpose2d(input, self.weight.data, self.bias.data, stride=self.stride,
                                dilation=self.dilation, padding=self.padding, xp=xp)

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self.saved(in_gradient)
        d_weight, d_bias, d_input = conv_transpose2d_backward(
            in_gradient, input, self.weight.data, stride=self.stride, dilation=self.dilation,
            padding=self.padding, input_gradient=input_gradient, xp=xp)
        self.bias.grad += d_bias
        self.weight.grad += d_weight
        return d_input
