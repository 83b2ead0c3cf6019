"""MaxPool2D: the largest value in each window, as an elementwise maximum over window slices."""

from ..backend import device_of
from ..core import Layer, check_input_dim, check_positive_int, shape_error
from ._windows import conv_output_size, window_slices


class MaxPool2D(Layer):
    r"""Max pooling over ``size`` x ``size`` windows of NCHW images.

    Parameters
    ----------
    name : str
    input_dim : (C, H, W)
    size : int or (int, int)
        Window height and width.
    stride : int
    return_index : bool
        When True, ``forward`` returns ``(output, indices)``, where ``indices`` (int64, the
        output's shape) is the flat position ``h * W + w`` of each maximum in its input plane,
        as PyTorch's ``return_indices``. A Net passes one array between layers, so use it on a
        standalone layer (for unpooling, say).

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

    def __init__(self, name, input_dim, size, stride, return_index=False):
        super().__init__(name)
        who = self.describe()
        self.input_dim = check_input_dim(who, input_dim, 3)
        if isinstance(size, (tuple, list)):
            if len(size) != 2:
                raise TypeError(f"{who}: size must be an int or an (h, w) pair; got {size!r}")
            self.size = tuple(check_positive_int(who, "size", extent) for extent in size)
        else:
            self.size = (check_positive_int(who, "size", size),) * 2
        self.stride = check_positive_int(who, "stride", stride)
        self.return_index = bool(return_index)
        c, h, w = self.input_dim
        self.out_h = conv_output_size(h, self.size[0], stride=self.stride)
        self.out_w = conv_output_size(w, self.size[1], stride=self.stride)
        if self.out_h < 1 or self.out_w < 1:
            raise ValueError(f"{who}: window {self.size} is larger than the input {(h, w)}")

    def declared_input_shape(self):
        return (None, *self.input_dim)

    def output_shape(self, input_shape):
        if len(input_shape) != 4 or tuple(input_shape[1:]) != self.input_dim:
            c, h, w = self.input_dim
            raise shape_error(self, f"(batch, {c}, {h}, {w})", input_shape)
        return (input_shape[0], self.input_dim[0], self.out_h, self.out_w)

    def _windows(self, input):
        """(slices, view) per window offset, row-major."""
        for i, j, where in window_slices(*self.size, stride=self.stride, dilation=1,
                                         out_h=self.out_h, out_w=self.out_w):
            yield (i, j, where), input[:, :, where[0], where[1]]

    def _first_hits(self, input, output, xp):
        """(offset, mask) per window offset: where that offset is the window's first maximum."""
        unclaimed = xp.ones(output.shape, dtype=xp.bool, device=device_of(output))
        for offset, view in self._windows(input):
            hit = view == output
            yield offset, hit & unclaimed
            unclaimed = unclaimed & ~hit

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        output = None
        for _, view in self._windows(input):
            output = view if output is None else xp.maximum(output, view)
        self._remember(input, output, output_shape=output_shape)
        if self.return_index:
            return output, self._indices(input, output, xp)
        return output

    def _indices(self, input, output, xp):
        width = self.input_dim[2]
        rows = xp.arange(self.out_h, dtype=xp.int64, device=device_of(output)) * self.stride
        cols = xp.arange(self.out_w, dtype=xp.int64, device=device_of(output)) * self.stride
        corner = xp.reshape(rows * width, (self.out_h, 1)) + cols  # window (p, q)'s top left
        indices = xp.zeros(output.shape, dtype=xp.int64, device=device_of(output))
        for (i, j, _), chosen in self._first_hits(input, output, xp):
            indices += xp.astype(chosen, xp.int64) * (corner + (i * width + j))
        return indices

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input, output = self._recall(in_gradient)
        if not input_gradient:
            return None
        grad = xp.zeros_like(input)
        for (_, _, (rows, cols)), chosen in self._first_hits(input, output, xp):
            grad[:, :, rows, cols] += in_gradient * xp.astype(chosen, in_gradient.dtype)
        return grad
