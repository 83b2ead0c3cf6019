r"""Sliding windows over NCHW images, for the convolution and pooling layers.

For offset (i, j) of a kernel with stride s and dilation d, the pixels that offset touches in
all output positions at once form one strided slice of the (padded) input:

    x[:, :, i*d : i*d + s*(OH-1) + 1 : s,  j*d : j*d + s*(OW-1) + 1 : s]    -> (N, C, OH, OW)

So a loop over the kh*kw offsets, each a whole-array operation, replaces loops over the batch,
the channels and the output pixels. Three uses:

- ``im2col`` stacks the slices into columns, so convolution is one batched matmul;
- ``col2im_matmul`` is the adjoint: it adds per-offset products back into the slices
  (convolution's input gradient, and transposed convolution's forward);
- max pooling takes an elementwise maximum over the slices; ``route_to_maxima`` sends values
  to each window's first maximum (max pooling's backward, unpooling's forward) and
  ``gather_from_maxima`` reads them back (its adjoint: unpooling's backward).

``im2col`` and ``col2im_matmul`` are backend operations (:mod:`tinyml.backend.ops`): the
slice loop is their portable path, and NumPy, PyTorch and CuPy have faster native ones.
"""

from ..backend import device_of
from ..backend.ops import col2im_matmul, crop2d, im2col, pad2d, reach, window_slices

__all__ = [
    "col2im_matmul",
    "conv_output_size",
    "correlate_columns",
    "crop2d",
    "first_maxima",
    "gather_from_maxima",
    "im2col",
    "max_windows",
    "pad2d",
    "route_to_maxima",
    "same_padding",
    "window_slices",
]


def conv_output_size(size, kernel, *, stride, padding=0, dilation=1):
    """Output extent of a convolution: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(size, kernel, *, stride, dilation=1):
    """(before, after): the zeros that make ``ceil(size / stride)`` windows fit, the odd one
    after (TensorFlow's "same"; PyTorch's too, where it allows "same")."""
    out = -(-size // stride)
    total = max(reach(out, kernel, stride=stride, dilation=dilation) - size, 0)
    return total // 2, total - total // 2


def correlate_columns(a, cols, *, xp):
    """sum_n a[n] @ cols[n]^T: the weight gradient of a convolution written as im2col.

    a : (N, P, L), cols : (N, K, L)  ->  (P, K)
    """
    return xp.sum(a @ xp.matrix_transpose(cols), axis=0)


# ---------------------------------------------------------------------------- max windows
def max_windows(x, size, *, stride, out_h, out_w):
    """((i, j, (rows, cols)), view) per offset of a `size` (kh, kw) window, row-major; each
    view (N, C, OH, OW) holds what that offset sees in every window."""
    for i, j, where in window_slices(*size, stride=stride, dilation=1, out_h=out_h, out_w=out_w):
        yield (i, j, where), x[:, :, where[0], where[1]]


def first_maxima(x, y, size, *, stride, xp):
    """((i, j, (rows, cols)), mask) per window offset: where offset (i, j) holds its window's
    FIRST maximum in row-major order (PyTorch's rule for ties); `y` is the max-pooled `x`."""
    unclaimed = xp.ones_like(y, dtype=xp.bool)
    for offset, view in max_windows(x, size, stride=stride, out_h=y.shape[2], out_w=y.shape[3]):
        hit = view == y
        yield offset, hit & unclaimed
        unclaimed = unclaimed & ~hit


def route_to_maxima(values, x, y, size, *, stride, xp):
    r"""Zeros of `x`'s shape with each of `values` (y's shape) added at its window's first
    maximum: :math:`out_{n,c,ps+i,qs+j} \mathrel{+}= v_{n,c,p,q} [(i, j) = \arg\max]`.

    Max pooling's backward, and max unpooling's forward. Windows that share a maximum add.
    """
    out = xp.zeros_like(x, dtype=values.dtype)
    for (_, _, (rows, cols)), chosen in first_maxima(x, y, size, stride=stride, xp=xp):
        out[:, :, rows, cols] += values * xp.astype(chosen, values.dtype)
    return out


def gather_from_maxima(g, x, y, size, *, stride, xp):
    r"""The adjoint of route_to_maxima: each window reads `g` (x's shape) at its first maximum,
    :math:`out_{n,c,p,q} = g_{n,c,\,ps+i^*,\,qs+j^*}`; shape of `y`."""
    out = xp.zeros(y.shape, dtype=g.dtype, device=device_of(g))
    for (_, _, (rows, cols)), chosen in first_maxima(x, y, size, stride=stride, xp=xp):
        out += g[:, :, rows, cols] * xp.astype(chosen, g.dtype)
    return out
