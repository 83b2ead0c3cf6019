r"""Sliding windows over NCHW images, for Conv2D, Deconv2D and MaxPool2D.

For offset (i, j) of a kernel with stride s and dilation d, the pixels that offset touches in
all output positions at once form one strided slice of the (padded) input:

    x[:, :, i*d : i*d + s*(OH-1) + 1 : s,  j*d : j*d + s*(OW-1) + 1 : s]    -> (N, C, OH, OW)

So a loop over the kh*kw offsets, each a whole-array operation, replaces loops over the batch,
the channels and the output pixels. Three uses:

- ``im2col`` stacks the slices into columns, so convolution is one batched matmul;
- ``col2im_matmul`` is the adjoint: it adds per-offset products back into the slices
  (convolution's input gradient, and transposed convolution's forward);
- pooling takes an elementwise maximum over the slices.

``im2col`` and ``col2im_matmul`` are backend operations (:mod:`tinyml.backend.ops`): the
slice loop is their portable path, and NumPy, PyTorch and CuPy have faster native ones.
"""

from ..backend import device_of
from ..backend.ops import col2im_matmul, im2col, window_slices

__all__ = [
    "col2im_matmul",
    "conv_output_size",
    "correlate_columns",
    "crop2d",
    "im2col",
    "pad2d",
    "window_slices",
]


def conv_output_size(size, kernel, *, stride, padding=0, dilation=1):
    """Output extent of a convolution: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad2d(x, padding, *, xp):
    """`x` (N, C, H, W) with `padding` zeros on each side of H and W."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    padded = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype, device=device_of(x))
    padded[:, :, padding:padding + h, padding:padding + w] = x
    return padded


def crop2d(x, padding):
    """The adjoint of pad2d: `x` without `padding` rows and columns on each side."""
    if padding == 0:
        return x
    return x[:, :, padding:x.shape[2] - padding, padding:x.shape[3] - padding]


def correlate_columns(a, cols, *, xp):
    """sum_n a[n] @ cols[n]^T: the weight gradient of a convolution written as im2col.

    a : (N, P, L), cols : (N, K, L)  ->  (P, K)
    """
    return xp.sum(a @ xp.matrix_transpose(cols), axis=0)
