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

These live in :mod:`tinyml.backend.ops` and are re-exported here: ``im2col`` and
``col2im_matmul`` are backend operations (the slice loop is their portable path; NumPy, PyTorch
and CuPy have faster native ones), and so are the layers' whole convolutions and max pooling
(``conv2d``, ``max_pool2d``, ... : PyTorch runs its own kernels).
"""

from ..backend.ops import (
    col2im_matmul,
    crop2d,
    first_maxima,
    gather_from_maxima,
    im2col,
    max_windows,
    pad2d,
    reach,
    route_to_maxima,
    window_slices,
)

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
