r"""Sliding windows over NCHW images, in standard Array API calls only.

Every 2-D layer here works one kernel offset at a time. For offset (i, j) of a kernel with
stride s and dilation d, the pixels that offset touches in all output positions at once form
one strided slice of the (padded) input:

    x[:, :, i*d : i*d + s*(OH-1) + 1 : s,  j*d : j*d + s*(OW-1) + 1 : s]    -> (N, C, OH, OW)

So a loop over the kh*kw offsets, each a whole-array operation, replaces loops over the batch,
the channels and the output pixels. Three uses:

- ``im2col`` stacks the slices into columns, so convolution is one batched matmul;
- ``col2im_matmul`` is the adjoint: it adds per-offset products back into the slices
  (convolution's input gradient, and transposed convolution's forward);
- pooling takes an elementwise maximum over the slices.
"""

from ..backend import device_of


def conv_output_size(size, kernel, *, stride, padding=0, dilation=1):
    """Output extent of a convolution: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def window_slices(kh, kw, *, stride, dilation, out_h, out_w):
    """(i, j, (rows, cols)) for each kernel offset: the slices that offset reads."""
    span_h = stride * (out_h - 1) + 1
    span_w = stride * (out_w - 1) + 1
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dilation, i * dilation + span_h, stride)
            cols = slice(j * dilation, j * dilation + span_w, stride)
            yield i, j, (rows, cols)


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


def im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp):
    """Columns of `x` (N, C, H, W) under a kh x kw kernel: shape (N, C*kh*kw, OH*OW).

    Row ``c*kh*kw + i*kw + j`` holds what kernel weight (c, i, j) multiplies at each output
    pixel, matching ``reshape(weight, (F, C*kh*kw))``.
    """
    n, c = x.shape[0], x.shape[1]
    views = [x[:, :, rows, cols] for _, _, (rows, cols)
             in window_slices(kh, kw, stride=stride, dilation=dilation, out_h=out_h, out_w=out_w)]
    stacked = xp.stack(views, axis=2)  # (N, C, kh*kw, OH, OW)
    return xp.reshape(stacked, (n, c * kh * kw, out_h * out_w))


def col2im_matmul(g, weight, *, stride, dilation, out_shape, xp):
    r"""Scatter ``weight[:, :, i, j]^T @ g`` into the window slices and sum the overlaps.

    Parameters
    ----------
    g : array (N, A, h, w)
        Values at the window positions.
    weight : array (A, B, kh, kw)
    out_shape : (N, B, H, W)
        The (padded) image the windows slide over.

    Returns
    -------
    out : array `out_shape`, with
        ``out[n, b, y*s + i*d, x*s + j*d] += sum_a weight[a, b, i, j] * g[n, a, y, x]``.

    This is convolution's input gradient (A = filters, B = channels) and transposed
    convolution's forward (A = input channels, B = output channels). One small matmul per
    kernel offset and a strided ``+=`` measured about 2x faster here than an im2col-shaped
    formulation (see PERFORMANCE.md).
    """
    n, a, h, w = g.shape
    b, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    out = xp.zeros(out_shape, dtype=g.dtype, device=device_of(g))
    flat = xp.reshape(g, (n, a, h * w))
    for i, j, (rows, cols) in window_slices(kh, kw, stride=stride, dilation=dilation,
                                            out_h=h, out_w=w):
        product = xp.matrix_transpose(weight[:, :, i, j]) @ flat  # (N, B, h*w)
        out[:, :, rows, cols] += xp.reshape(product, (n, b, h, w))
    return out


def correlate_columns(a, cols, *, xp):
    """sum_n a[n] @ cols[n]^T: the weight gradient of a convolution written as im2col.

    a : (N, P, L), cols : (N, K, L)  ->  (P, K)
    """
    return xp.sum(a @ xp.matrix_transpose(cols), axis=0)
