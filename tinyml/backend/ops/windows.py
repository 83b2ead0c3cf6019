r"""The window transforms under convolution and pooling, over NCHW images.

For kernel offset (i, j) with stride s and dilation d, the pixels that offset touches in all
output positions at once form one strided slice of the (padded) image:

    x[:, :, i*d : i*d + s*(OH-1) + 1 : s,  j*d : j*d + s*(OW-1) + 1 : s]    -> (N, C, OH, OW)

The portable paths loop over the kh*kw offsets, each a whole-array operation:

- ``im2col`` stacks the slices into columns, so convolution is one batched matmul;
- ``col2im_matmul`` is its adjoint: it adds per-offset products back into the slices
  (convolution's input gradient, and transposed convolution's forward).

Natives: NumPy and PyTorch build im2col as one strided view copied once, CuPy with one
elementwise kernel (``cupy_kernels.py``); col2im_matmul is one matmul and then
``torch.nn.functional.fold`` on PyTorch, one kernel on CuPy, and adds of contiguous runs on
NumPy (``conv_numpy.py``).
"""

from .._host import device_of
from ._registry import Operation


def window_slices(kh, kw, *, stride, dilation, out_h, out_w):
    """(i, j, (rows, cols)) for each kernel offset, row-major: the slices that offset reads."""
    span_h = stride * (out_h - 1) + 1
    span_w = stride * (out_w - 1) + 1
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dilation, i * dilation + span_h, stride)
            cols = slice(j * dilation, j * dilation + span_w, stride)
            yield i, j, (rows, cols)


def reach(out, kernel, *, stride, dilation):
    """How many rows (or columns) `out` windows of a dilated kernel span: s(out-1) + d(k-1) + 1."""
    return stride * (out - 1) + dilation * (kernel - 1) + 1


def windows_fitting(size, kernel, *, stride, dilation):
    """How many windows of a dilated kernel fit in `size` rows:
    floor((size - d(k-1) - 1) / s) + 1."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def sides(padding):
    """(top, bottom, left, right) from an int (all four) or a 4-tuple."""
    return (padding,) * 4 if isinstance(padding, int) else tuple(padding)


def pad2d(x, padding, *, xp):
    """`x` (N, C, H, W) with zeros around H and W: `padding` on each side, or
    ``(top, bottom, left, right)``."""
    top, bottom, left, right = sides(padding)
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    padded = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype,
                      device=device_of(x))
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def crop2d(x, padding):
    """The adjoint of pad2d: `x` without the padded rows and columns (the same `padding`)."""
    top, bottom, left, right = sides(padding)
    if top == bottom == left == right == 0:
        return x
    return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


# ---------------------------------------------------------------------------- im2col
def _check_im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp=None):
    need = (reach(out_h, kh, stride=stride, dilation=dilation),
            reach(out_w, kw, stride=stride, dilation=dilation))
    if len(x.shape) != 4 or out_h < 1 or out_w < 1 or x.shape[2] < need[0] \
            or x.shape[3] < need[1]:
        raise ValueError(
            f"im2col: {out_h}x{out_w} windows of a {kh}x{kw} kernel (stride {stride}, dilation "
            f"{dilation}) need an image (N, C, H, W) with H, W >= {need}; got shape "
            f"{tuple(x.shape)}. Pad the image or ask for fewer windows."
        )


def _im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp):
    r"""Columns of `x` (N, C, H, W) under a kh x kw kernel: shape (N, C*kh*kw, OH*OW).

    .. math:: \mathrm{cols}_{n,\,c k_h k_w + i k_w + j,\; p\,OW + q}
              = x_{n,c,\; ps + id,\; qs + jd}

    so row ``c*kh*kw + i*kw + j`` holds what kernel weight (c, i, j) multiplies at each output
    pixel, matching ``reshape(weight, (F, C*kh*kw))``. The image may be larger than the
    windows reach; the rest is not read.
    """
    n, c = x.shape[0], x.shape[1]
    views = [x[:, :, rows, cols] for _, _, (rows, cols)
             in window_slices(kh, kw, stride=stride, dilation=dilation, out_h=out_h, out_w=out_w)]
    stacked = xp.stack(views, axis=2)  # (N, C, kh*kw, OH, OW)
    return xp.reshape(stacked, (n, c * kh * kw, out_h * out_w))


im2col = Operation("im2col", _im2col, check=_check_im2col)


def _numpy_im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp):
    """One strided view (N, C, kh, kw, OH, OW) of `x` (strides in bytes), copied once in C
    order."""
    import numpy as np
    from numpy.lib.stride_tricks import as_strided

    n, c = x.shape[0], x.shape[1]
    step_n, step_c, step_h, step_w = x.strides
    view = as_strided(
        x, (n, c, kh, kw, out_h, out_w),
        (step_n, step_c, dilation * step_h, dilation * step_w, stride * step_h, stride * step_w),
    )
    return np.array(view, order="C").reshape(n, c * kh * kw, out_h * out_w)


def _torch_im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp):
    """The same strided view with ``Tensor.as_strided`` (strides in elements), copied once.
    ``torch.nn.functional.unfold`` gives the same columns but measured 2-4x slower on the CPU
    than even the portable path (bench/bench_ops.py)."""
    import torch

    n, c = x.shape[0], x.shape[1]
    step_n, step_c, step_h, step_w = x.stride()
    view = x.as_strided(
        (n, c, kh, kw, out_h, out_w),
        (step_n, step_c, dilation * step_h, dilation * step_w, stride * step_h, stride * step_w),
    )
    return view.clone(memory_format=torch.contiguous_format).reshape(n, c * kh * kw,
                                                                     out_h * out_w)


# ---------------------------------------------------------------------------- col2im_matmul
def _check_col2im(g, weight, *, stride, dilation, out_shape, xp=None):
    if len(g.shape) != 4 or len(weight.shape) != 4 or g.shape[1] != weight.shape[0]:
        raise ValueError(
            f"col2im_matmul expects g (N, A, h, w) and weight (A, B, kh, kw); got shapes "
            f"{tuple(g.shape)} and {tuple(weight.shape)}."
        )
    n, _, h, w = g.shape
    b, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    need = (reach(h, kh, stride=stride, dilation=dilation),
            reach(w, kw, stride=stride, dilation=dilation))
    if len(out_shape) != 4 or tuple(out_shape[:2]) != (n, b) or out_shape[2] < need[0] \
            or out_shape[3] < need[1]:
        raise ValueError(
            f"col2im_matmul: out_shape must be ({n}, {b}, H, W) with H, W >= {need} for {h}x{w} "
            f"windows of a {kh}x{kw} kernel (stride {stride}, dilation {dilation}); got "
            f"{tuple(out_shape)}."
        )


def _col2im_matmul(g, weight, *, stride, dilation, out_shape, xp):
    r"""Scatter ``weight[:, :, i, j]^T @ g`` into the window slices and sum the overlaps.

    Parameters
    ----------
    g : array (N, A, h, w)
        Values at the window positions.
    weight : array (A, B, kh, kw)
    out_shape : (N, B, H, W)
        The (padded) image the windows slide over; it may be larger than they reach.

    Returns
    -------
    out : array `out_shape`, with
        ``out[n, b, y*s + i*d, x*s + j*d] += sum_a weight[a, b, i, j] * g[n, a, y, x]``.

    This is convolution's input gradient (A = filters, B = channels) and transposed
    convolution's forward (A = input channels, B = output channels). One small matmul per
    kernel offset and a strided ``+=`` measured about 2x faster on NumPy than an
    im2col-shaped formulation (see PERFORMANCE.md).
    """
    n, a, h, w = g.shape
    b, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    out = xp.zeros(tuple(out_shape), dtype=g.dtype, device=device_of(g))
    flat = xp.reshape(g, (n, a, h * w))
    for i, j, (rows, cols) in window_slices(kh, kw, stride=stride, dilation=dilation,
                                            out_h=h, out_w=w):
        product = xp.matrix_transpose(weight[:, :, i, j]) @ flat  # (N, B, h*w)
        out[:, :, rows, cols] += xp.reshape(product, (n, b, h, w))
    return out


col2im_matmul = Operation("col2im_matmul", _col2im_matmul, check=_check_col2im)


def _torch_col2im_matmul(g, weight, *, stride, dilation, out_shape, xp):
    """One matmul ``weight^T @ g`` to columns (N, B*kh*kw, h*w), then
    ``torch.nn.functional.fold`` sums them into the windows; zeros pad the part of
    `out_shape` the windows do not reach (floating dtypes; portable for the others)."""
    if not g.is_floating_point():
        return _col2im_matmul(g, weight, stride=stride, dilation=dilation, out_shape=out_shape,
                              xp=xp)
    from torch.nn.functional import fold, pad

    n, a, h, w = g.shape
    b, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    cols = weight.reshape(a, b * kh * kw).T @ g.reshape(n, a, h * w)
    size = (reach(h, kh, stride=stride, dilation=dilation),
            reach(w, kw, stride=stride, dilation=dilation))
    out = fold(cols, size, (kh, kw), dilation=dilation, stride=stride)
    extra_h, extra_w = out_shape[2] - size[0], out_shape[3] - size[1]
    return pad(out, (0, extra_w, 0, extra_h)) if extra_h or extra_w else out
