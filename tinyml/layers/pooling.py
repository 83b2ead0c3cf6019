"""Pooling over NCHW images: Pool2D (numpy-ml's, max or average), MaxPool2D, AvgPool2D,
GlobalAvgPool2D, and MaxUnpool2D, which undoes a MaxPool2D of the same net.

Forward is the backend operation ``max_pool2d_forward`` (an elementwise maximum over the
window's strided slices on the portable path, PyTorch's kernel on the torch backend; it also
returns where the maxima are, for ``max_pool2d_backward``), or, where no record is kept,
``max_pool2d``; average pooling's is ``avg_pool2d`` (the mean of each window's ``im2col``
column on the portable path, the window's slices added up on NumPy, PyTorch's kernel on the
torch backend). Each of those is one ONNX operator in an export. Average pooling's backward
is ``avg_pool2d_backward`` (portably ``col2im_matmul`` with the constant kernel
``1 / (kh kw)``).
"""

from ..backend import array_namespace, device_of
from ..backend.ops import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)
from ..core import (
    Layer,
    channels_hint,
    grad_enabled,
    reshape_target,
    shape_error,
)
from ..core.inferred import InferredInput, input_dim_optional, is_count
from ..core.params import AnyOf, Flag, Integer, OneOf, Optional, Pair, Sizes
from ._windows import (
    conv_output_size,
    first_maxima,
    gather_from_maxima,
    route_to_maxima,
)

MODES = ("max", "average")


def _shifted(first, rest, kwargs):
    """MaxPool2D("pool", 2): a window size (an int or an (h, w) pair, followed by a stride at
    most) where input_dim's (C, H, W) belongs."""
    pair = isinstance(first, (tuple, list)) and len(first) == 2
    return is_count(first) or (pair and len(rest) < 2)


@input_dim_optional(_shifted)
class Pool2D(InferredInput):
    r"""Pooling over ``size`` windows of NCHW images, each channel alone (numpy-ml's name).

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net: ``Pool2D("pool", 2)``.
    size : int or (int, int)
        Window height and width (2 by default).
    stride : int, optional
        The window's step; by default the window's size (windows side by side, as PyTorch).
    mode : ``"max"`` or ``"average"``, keyword-only
        ``Pool2D(..., mode="max")`` computes what ``MaxPool2D`` does, ``"average"`` what
        ``AvgPool2D`` does.

    Shape
    -----
    input (N, C, H, W) -> output (N, C, OH, OW), ``OH = floor((H - kh) / stride) + 1``
    (likewise OW). No padding: a remainder of rows or columns that no window reaches gets no
    gradient, as in PyTorch.

    Notes
    -----
    .. math::
        \text{max:}\quad y_{n,c,p,q} = \max_{i,j} x_{n,c,\,ps+i,\,qs+j}, \qquad
        \partial L/\partial x_{n,c,\,ps+i^*,\,qs+j^*} \mathrel{+}= g_{n,c,p,q}

    with :math:`(i^*, j^*)` the window's first maximum in row-major order;

    .. math::
        \text{average:}\quad y_{n,c,p,q} = \frac{1}{k_h k_w} \sum_{i,j}
            x_{n,c,\,ps+i,\,qs+j}, \qquad
        \partial L/\partial x_{n,c,\,ps+i,\,qs+j} \mathrel{+}= \frac{g_{n,c,p,q}}{k_h k_w}
    """

    declared_arguments = {"input_dim": Optional(Sizes(3)), "size": Pair(Integer(1)),
                          "stride": Optional(Integer(1)),
                          "mode": AnyOf(OneOf(*MODES), spelled="'max' or 'average'",
                                        hints={"avg": ". Use mode='average'.",
                                               "mean": ". Use mode='average'.", str: "."})}

    def __init__(self, name, input_dim=None, size=2, stride=None, *, mode="max"):
        super().__init__(name)
        who = self.describe()
        checked = self._checked(input_dim=input_dim, size=size, stride=stride, mode=mode)
        input_dim = checked["input_dim"]
        self.size, self.mode = checked["size"], checked["mode"]
        if stride is None and self.size[0] != self.size[1]:
            raise TypeError(f"{who}: a {self.size[0]}x{self.size[1]} window needs a stride (one "
                            "int, the same both ways); give stride=...")
        self.stride = self.size[0] if stride is None else checked["stride"]
        self._latest = None  # (input, output) of the last max forward, for a MaxUnpool2D
        self._lends_maxima = False  # set by MaxUnpool2D(pool=self)
        self.input_dim = None
        if input_dim is not None:
            self._build(input_dim)

    def _geometry(self, input_dim):
        """(out_h, out_w) for input (C, H, W)."""
        _, h, w = input_dim
        out_h = conv_output_size(h, self.size[0], stride=self.stride)
        out_w = conv_output_size(w, self.size[1], stride=self.stride)
        if out_h < 1 or out_w < 1:
            raise ValueError(f"{self.describe()}: window {self.size} is larger than the input "
                             f"{(h, w)}")
        return out_h, out_w

    def _build(self, input_dim):
        self.out_h, self.out_w = self._geometry(input_dim)
        self.input_dim = input_dim

    def _inferred_from(self, input_shape):
        return tuple(input_shape[1:]) if len(input_shape) == 4 else None

    def output_shape(self, input_shape):
        dims = self._inferred_from(input_shape)
        if dims is None or (self.built and dims != self.input_dim):
            expected = "(batch, C, H, W)" if not self.built else \
                f"(batch, {', '.join(map(str, self.input_dim))})"
            raise shape_error(self, expected, input_shape,
                              channels_hint("input_dim", self.input_dim, input_shape))
        out_h, out_w = (self.out_h, self.out_w) if self.built else self._geometry(dims)
        return (input_shape[0], dims[0], out_h, out_w)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        if self.mode == "average":
            output = avg_pool2d(input, self.size, stride=self.stride, xp=xp)
            self.save_for_backward(output_shape=output_shape)  # backward needs only the shapes
            return output
        if grad_enabled():
            output, routing = max_pool2d_forward(input, self.size, stride=self.stride, xp=xp)
            self.save_for_backward(input, output, routing, output_shape=output_shape)
        else:  # nothing kept for a backward: no routing either
            output = max_pool2d(input, self.size, stride=self.stride, xp=xp)
        if self._lends_maxima:  # in every mode: an unpool needs it at inference too
            self._latest = (input, output)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, *kept = self.saved(in_gradient)
        if not input_gradient:
            return None
        if self.mode == "average":
            return self._average_backward(in_gradient, xp)
        input, output, routing = kept
        return max_pool2d_backward(in_gradient, input, output, routing, self.size,
                                   stride=self.stride, xp=xp)

    # ---------------------------------------------------------------- average
    def _average_backward(self, in_gradient, xp):
        return avg_pool2d_backward(in_gradient, (in_gradient.shape[0], *self.input_dim),
                                   self.size, stride=self.stride, xp=xp)

    # ---------------------------------------------------------------- for MaxUnpool2D
    def _last_maxima(self, unpool):
        """(input, output) of this pool's latest forward, for `unpool`, or a RuntimeError."""
        if self._latest is None:
            raise RuntimeError(
                f"{unpool.describe()}: its pool {self.describe()} has not run forward since "
                "the unpool was built, so there are no maxima to unpool at. Run the pool "
                "first: put it before the unpool in the net."
            )
        return self._latest


@input_dim_optional(_shifted)
class MaxPool2D(Pool2D):
    r"""Max pooling over ``size`` x ``size`` windows of NCHW images.

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net: ``MaxPool2D("pool", 2)``.
    size : int or (int, int)
        Window height and width (2 by default).
    stride : int, optional
        By default the window's size.
    return_index : bool
        When True, ``forward`` returns ``(output, indices)``, where ``indices`` (int64, the
        output's shape) is the flat position ``h * W + w`` of each maximum in its input plane,
        as PyTorch's ``return_indices``. A Net passes one array between layers, so use it on a
        standalone layer; inside a Net, ``MaxUnpool2D(name, pool)`` unpools without them.

    Shape
    -----
    input (N, C, H, W) -> output (N, C, OH, OW), ``OH = floor((H - size) / stride) + 1``.

    Notes
    -----
    Forward is a running elementwise maximum over the window's kh*kw strided slices:

    .. math:: y_{n,c,p,q} = \max_{i,j}\; x_{n,c,\,ps+i,\,qs+j}

    Backward sends each output's gradient to the first position (in row-major window order)
    that holds the maximum, as PyTorch does with ties:

    .. math::
        \partial L/\partial x_{n,c,\,ps+i,\,qs+j} \mathrel{+}= g_{n,c,p,q}\,
            [\,(i, j) \text{ is the first argmax of window } (p, q)\,]

    Overlapping windows (stride < size) add up.
    """

    declared_arguments = {**Pool2D.declared_arguments, "return_index": Flag()}

    def __init__(self, name, input_dim=None, size=2, stride=None, return_index=False):
        super().__init__(name, input_dim, size, stride, mode="max")
        self._set_declared(return_index=return_index)

    def forward(self, input):
        output = super().forward(input)
        if self.return_index:
            return output, self._indices(input, output, self._namespace(input))
        return output

    def _indices(self, input, output, xp):
        width = self.input_dim[2]
        rows = xp.arange(self.out_h, dtype=xp.int64, device=device_of(output)) * self.stride
        cols = xp.arange(self.out_w, dtype=xp.int64, device=device_of(output)) * self.stride
        corner = xp.reshape(rows * width, (self.out_h, 1)) + cols  # window (p, q)'s top left
        indices = xp.zeros_like(output, dtype=xp.int64)
        for (i, j, _), chosen in first_maxima(input, output, self.size, stride=self.stride,
                                              xp=xp):
            indices += xp.astype(chosen, xp.int64) * (corner + (i * width + j))
        return indices


@input_dim_optional(_shifted)
class AvgPool2D(Pool2D):
    r"""Average pooling over ``size`` windows of NCHW images (PyTorch's ``avg_pool2d``
    without padding).

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net: ``AvgPool2D("pool", 2)``.
    size : int or (int, int)
        Window height and width (kh, kw); 2 by default.
    stride : int, optional
        By default the window's size.

    Shape
    -----
    input (N, C, H, W) -> output (N, C, OH, OW), ``OH = floor((H - kh) / stride) + 1``.

    Notes
    -----
    .. math::
        y_{n,c,p,q} = \frac{1}{k_h k_w} \sum_{i,j} x_{n,c,\,ps+i,\,qs+j}, \qquad
        \partial L/\partial x_{n,c,\,ps+i,\,qs+j} \mathrel{+}= \frac{g_{n,c,p,q}}{k_h k_w}

    summed over the windows that hold each pixel. Forward and backward are the backend
    operations ``avg_pool2d`` and ``avg_pool2d_backward`` (portably im2col of each channel
    alone and a mean over the window axis, and ``col2im_matmul`` with the constant kernel).
    """

    def __init__(self, name, input_dim=None, size=2, stride=None):
        super().__init__(name, input_dim, size, stride, mode="average")


class GlobalAvgPool2D(Layer):
    r"""The mean of each channel over all its pixels: (N, C, H, W) -> (N, C).

    Takes any C, H and W (nothing is declared), as PyTorch's ``adaptive_avg_pool2d(x, 1)``
    followed by a flatten.

    Notes
    -----
    .. math::
        y_{n,c} = \frac{1}{HW} \sum_{h,w} x_{n,c,h,w}, \qquad
        \partial L/\partial x_{n,c,h,w} = \frac{g_{n,c}}{HW}
    """

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise shape_error(self, "(batch, C, H, W)", input_shape,
                              "It pools images; reshape the input to NCHW first.")
        return tuple(input_shape[:2])

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        self.save_for_backward(tuple(input.shape), output_shape=output_shape)
        return xp.mean(input, axis=(2, 3))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, shape = self.saved(in_gradient)
        if not input_gradient:
            return None
        n, c, h, w = shape
        spread = xp.zeros(shape, dtype=in_gradient.dtype, device=device_of(in_gradient))
        return spread + xp.reshape(in_gradient, (n, c, 1, 1)) * (1.0 / (h * w))


class MaxUnpool2D(Layer):
    r"""The inverse of a max pool in the same net: each value goes back to where `pool`'s
    latest forward found its window's maximum, zeros elsewhere (PyTorch's ``max_unpool2d``),
    as in SegNet's decoder.

    Parameters
    ----------
    name : str
    pool : MaxPool2D (or a Pool2D with ``mode="max"``)
        The pool whose maxima this layer unpools at; it must run forward before this layer
        (earlier in the net).

    Shape
    -----
    input (N, C, OH, OW), the pool's output shape -> output (N, C, H, W), the pool's input
    shape (PyTorch's ``output_size=(H, W)``).

    Notes
    -----
    With :math:`x` and :math:`y` the pool's latest input and output, and
    :math:`(i^*, j^*)` the first maximum of window :math:`(p, q)` in row-major order (the
    position the pool's backward routes to):

    .. math::
        u_{n,c,\,ps+i^*,\,qs+j^*} \mathrel{+}= z_{n,c,p,q}, \qquad
        \partial L/\partial z_{n,c,p,q} = g_{n,c,\,ps+i^*,\,qs+j^*}

    Forward is exactly the pool's backward map applied to :math:`z`, and backward gathers.
    Where overlapping windows (stride < size) share a maximum, their values add; PyTorch
    keeps one of them.

    The positions: the pool keeps a reference to its latest forward's input and output (only
    once an unpool is built on it, and in every mode, since an unpool in eval mode needs them
    too), and this layer's forward reads them. Its own record keeps those arrays, so its
    backward uses the positions its forward used even after the pool has run again: nets
    like ``[pool, ..., unpool]`` backpropagate in reverse, and a forward repeated before
    backward (two records) unwinds in order. The pool is held privately (``self._pool``,
    read through ``pool``): it belongs to the net it sits in, so this layer's ``train``,
    ``eval``, ``clear_records``, ``to`` and ``freeze`` leave it alone and it is not listed
    as this layer's sub-layer.
    """

    def __init__(self, name, pool):
        super().__init__(name)
        if not isinstance(pool, Pool2D) or pool.mode != "max":
            got = pool.describe() if isinstance(pool, Layer) else type(pool).__name__
            raise TypeError(f"{self.describe()}: pool must be the MaxPool2D whose maxima it "
                            f"unpools at; got {got}. Pass the MaxPool2D layer of the same net.")
        self._pool = pool
        pool._lends_maxima = True

    @property
    def pool(self):
        """The MaxPool2D whose maxima this layer unpools at."""
        return self._pool

    def declared_input_shape(self):
        if not self._pool.built:
            return None
        return (None, self._pool.input_dim[0], self._pool.out_h, self._pool.out_w)

    def output_shape(self, input_shape):
        pool = self._pool
        if not pool.built:
            raise ValueError(f"{self.describe()}: its pool {pool.describe()} has not learnt its "
                             "input size yet; put the pool before the unpool in the net")
        c = pool.input_dim[0]
        if len(input_shape) != 4 or tuple(input_shape[1:]) != (c, pool.out_h, pool.out_w):
            raise shape_error(self, f"(batch, {c}, {pool.out_h}, {pool.out_w})", input_shape,
                              f"It takes what {pool.describe()} puts out.")
        return (input_shape[0], *pool.input_dim)

    def forward(self, input):
        self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        pooled_input, pooled = self._pool._last_maxima(self)
        if pooled.shape[0] != input.shape[0]:
            raise ValueError(
                f"{self.describe()}: got a batch of {input.shape[0]}, but the latest forward "
                f"of {self._pool.describe()} pooled a batch of {pooled.shape[0]}; run the pool "
                "on the same batch first."
            )
        xp = array_namespace(input, pooled_input, pooled, where=self.describe,
                             names=lambda: ["input", f"the latest input of {self._pool.describe()}",
                                            f"the latest output of {self._pool.describe()}"])
        self.save_for_backward(pooled_input, pooled, output_shape=output_shape)
        output = route_to_maxima(input, pooled_input, pooled, self._pool.size,
                                 stride=self._pool.stride, xp=xp)
        # A view on NumPy; on ndonnx (an ONNX export) it gives back the static shape that
        # the in-place additions lose, which a Flatten after it needs.
        return xp.reshape(output, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, pooled_input, pooled = self.saved(in_gradient)
        if not input_gradient:
            return None
        return gather_from_maxima(in_gradient, pooled_input, pooled, self._pool.size,
                                  stride=self._pool.stride, xp=xp)
