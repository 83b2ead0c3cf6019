"""NumPy natives of the convolution operations: columns made and used in cache-sized chunks.

The portable path builds the columns of the whole batch (for LeNet at batch 256, 20 MB for
the first layer), keeps them from forward to backward, and scatters the input gradient back
with one strided ``+=`` per kernel offset. Here:

- **Chunks.** The batch is cut into chunks whose columns stay in cache (about
  ``CHUNK_BYTES``); each chunk's columns are made, multiplied and dropped while they are
  still in cache. Backward makes them again (one strided copy) instead of keeping them, so a
  step holds no column buffer (PyTorch keeps only the input too).
- **Whole rows.** With stride 1, the windows of kernel offset (i, j) over all output pixels
  read one contiguous run of the zero-padded image, ``flat[i*d*Wp + j*d :][: OH*Wp]``, if each
  output row is taken Wp wide (Wp the padded width) instead of OW: the ``Wp - OW`` extra
  columns wrap into the next row and are cropped from the result. The im2col copy then moves
  long contiguous runs, and the input gradient's col2im adds contiguous runs too, for
  ``Wp / OW`` more multiply work (1.14x for LeNet's first layer, 1.4x for its second). The
  gradient fed to those extra columns is zero, so they add nothing to dW or dx. Strides above
  1 take each row OW wide (the exact columns).
- **Batched GEMMs** ``(F, K) @ (nb, K, L)``: OpenBLAS runs these shapes faster than one
  ``(F, K) @ (K, nb L)`` GEMM.
- **Scratch reused.** A chunk's padded images, columns and products live in buffers kept per
  thread and reused by every call (a few MB, like a cuDNN workspace). Allocating them anew in
  each call made glibc hand memory back to the system and fault it in again: about a
  thousand page faults, a third of a LeNet step at batch 64. :func:`free_scratch` drops them.
"""

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .windows import reach, sides, windows_fitting

CHUNK_BYTES = 2 << 20  # the columns of one chunk (best of 0.5-8 MB on a 1 MB-L2 EPYC core)

_scratch = threading.local()  # one set of buffers per thread: calls never share one


def scratch(tag, shape, dtype, *, zero=False):
    """An array of `shape` in this thread's buffer `tag` (grown when too small): valid until
    the next request for the same tag. Zeroed when `zero`."""
    size = math.prod(shape)
    buffers = _scratch.__dict__
    key = (tag, np.dtype(dtype).str)
    flat = buffers.get(key)
    if flat is None or flat.size < size:
        flat = buffers[key] = np.empty(size, dtype=dtype)
    array = flat[:size].reshape(shape)
    if zero:
        array.fill(0)
    return array


def free_scratch():
    """Drop this thread's scratch buffers (the next call allocates them again). They grow to
    the largest chunk seen: call this after convolving much larger images than usual."""
    _scratch.__dict__.clear()


def matmul(a, b, tag):
    """``a @ b`` (a 2-D, b a stack of matrices) into this thread's buffer `tag`. An inner
    dimension of 1 (one channel: average pooling's kernel) is an outer product, which
    broadcasting does many times faster than a GEMM per matrix."""
    out = scratch(tag, (b.shape[0], a.shape[-2], b.shape[-1]), np.result_type(a, b))
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)
    return np.matmul(a, b, out=out)


class _Windows:
    """Where a kernel's windows lie in a zero-padded copy of the images.

    The copy is (nb, C, hb, wb): the padded image, plus (with whole rows) the extra rows the
    last window's run reaches into, so that every run stays inside its own (n, c) plane.
    Columns are (nb, C*kh*kw, OH*row), ``row`` = wb (whole rows) or OW.
    """

    def __init__(self, image_shape, kernel_hw, *, stride, dilation, pads, out_hw=None):
        _, self.c, self.h, self.w = image_shape
        self.kh, self.kw = kernel_hw
        self.stride, self.dilation = stride, dilation
        self.top, bottom, self.left, right = sides(pads)
        padded_h, self.wb = self.h + self.top + bottom, self.w + self.left + right
        self.oh, self.ow = out_hw or (
            windows_fitting(padded_h, self.kh, stride=stride, dilation=dilation),
            windows_fitting(self.wb, self.kw, stride=stride, dilation=dilation))
        self.whole_rows = stride == 1
        self.row = self.wb if self.whole_rows else self.ow
        last = ((self.kh - 1) * dilation * self.wb + (self.kw - 1) * dilation
                + stride * (self.oh - 1) * self.wb + stride * (self.row - 1))
        self.hb = max(padded_h, last // self.wb + 1)
        self.k = self.c * self.kh * self.kw
        self.length = self.oh * self.row

    def chunks(self, n, itemsize):
        """Slices of the batch whose columns take about CHUNK_BYTES each."""
        size = max(1, CHUNK_BYTES // (self.k * self.length * itemsize))
        return [slice(start, min(start + size, n)) for start in range(0, n, size)]

    def buffer(self, x):
        """`x` (nb, C, h, w) in the zero-padded (nb, C, hb, wb) layout (itself when it is)."""
        if (self.hb, self.wb) == (self.h, self.w) and x.flags.c_contiguous:
            return x
        buffer = scratch("padded", (x.shape[0], self.c, self.hb, self.wb), x.dtype, zero=True)
        buffer[:, :, self.top:self.top + self.h, self.left:self.left + self.w] = x
        return buffer

    def columns(self, buffer):
        """(nb, C*kh*kw, OH*row): one strided view of the padded images, copied once."""
        step = buffer.itemsize
        plane = self.hb * self.wb * step
        d, s = self.dilation * step, self.stride * step
        view = as_strided(buffer, (buffer.shape[0], self.c, self.kh, self.kw, self.oh, self.row),
                          (self.c * plane, plane, d * self.wb, d, s * self.wb, s))
        cols = scratch("columns", view.shape, buffer.dtype)
        np.copyto(cols, view)
        return cols.reshape(buffer.shape[0], self.k, self.length)

    def widen(self, g):
        """g (nb, F, OH, OW) as (nb, F, OH*row), zeros in the extra columns."""
        nb, f = g.shape[0], g.shape[1]
        if self.row == self.ow:
            return np.ascontiguousarray(g).reshape(nb, f, self.length)
        wide = scratch("wide", (nb, f, self.oh, self.row), g.dtype, zero=True)
        wide[..., :self.ow] = g
        return wide.reshape(nb, f, self.length)

    def narrow(self, y, out, bias):
        """Write y (nb, F, OH*row) into out (nb, F, OH, OW), the extra columns cropped, plus
        `bias` (F,) or None."""
        y = y.reshape(out.shape[0], out.shape[1], self.oh, self.row)[..., :self.ow]
        if bias is None:
            out[...] = y
        else:
            np.add(y, bias.reshape(-1, 1, 1), out=out)

    def scatter(self, cols):
        """col2im: the (nb, C, hb, wb) image whose windows' sums the columns (nb, K, OH*row)
        are, cropped to (nb, C, h, w) (a view)."""
        nb = cols.shape[0]
        image = scratch("image", (nb, self.c, self.hb, self.wb), cols.dtype, zero=True)
        cols = cols.reshape(nb, self.c, self.kh, self.kw, self.oh, self.row)
        flat = image.reshape(nb, self.c, self.hb * self.wb)
        d, s = self.dilation, self.stride
        for i in range(self.kh):
            for j in range(self.kw):
                if self.whole_rows:  # contiguous runs
                    start = i * d * self.wb + j * d
                    target = flat[:, :, start:start + self.length]
                    np.add(target, cols[:, :, i, j].reshape(nb, self.c, self.length),
                           out=target)
                else:
                    target = image[:, :, i * d:i * d + s * (self.oh - 1) + 1:s,
                                   j * d:j * d + s * (self.ow - 1) + 1:s]
                    np.add(target, cols[:, :, i, j], out=target)
        return image[:, :, self.top:self.top + self.h, self.left:self.left + self.w]


def _add_weight_gradient(d_weight_t, cols, wide):
    """d_weight_t (K, F) += sum_n cols_n @ wide_n^T: the chunk's part of dW, transposed
    (OpenBLAS runs (K, L) @ (L, F) faster than (F, L) @ (L, K) for these shapes)."""
    product = scratch("weights", (cols.shape[0], cols.shape[1], wide.shape[1]), d_weight_t.dtype)
    np.matmul(cols, wide.transpose(0, 2, 1), out=product)
    d_weight_t += np.sum(product, axis=0)


def _kernels(weight):
    return np.ascontiguousarray(weight).reshape(weight.shape[0], -1)


def _correlate(x, weight, bias, windows):
    """Forward of a convolution, chunk by chunk: y (N, F, OH, OW)."""
    n, f = x.shape[0], weight.shape[0]
    kernels = _kernels(weight)
    y = np.empty((n, f, windows.oh, windows.ow), dtype=np.result_type(x, weight))
    for rows in windows.chunks(n, y.itemsize):
        cols = windows.columns(windows.buffer(x[rows]))
        windows.narrow(matmul(kernels, cols, "product"), y[rows], bias)
    return y


def _numpy_conv2d(x, weight, bias, *, stride, dilation, pads, xp):
    windows = _Windows(x.shape, weight.shape[2:], stride=stride, dilation=dilation, pads=pads)
    return _correlate(x, weight, bias, windows)


def _numpy_conv2d_backward(g, x, weight, *, stride, dilation, pads, input_gradient=True, xp):
    windows = _Windows(x.shape, weight.shape[2:], stride=stride, dilation=dilation, pads=pads)
    n, f = g.shape[0], g.shape[1]
    kernels_t = _kernels(weight).T
    d_weight_t = np.zeros((windows.k, f), dtype=np.result_type(g, x))
    d_input = np.empty(x.shape, dtype=np.result_type(g, weight)) if input_gradient else None
    for rows in windows.chunks(n, d_weight_t.itemsize):
        cols = windows.columns(windows.buffer(x[rows]))
        wide = windows.widen(g[rows])
        _add_weight_gradient(d_weight_t, cols, wide)
        if input_gradient:
            d_input[rows] = windows.scatter(matmul(kernels_t, wide, "product"))
    return d_weight_t.T.reshape(weight.shape), np.sum(g, axis=(0, 2, 3)), d_input


def _numpy_col2im_matmul(g, weight, *, stride, dilation, out_shape, xp):
    """``weight^T @ g`` chunk by chunk, added into the windows by contiguous runs."""
    n, a, h, w = g.shape
    windows = _Windows(out_shape, weight.shape[2:], stride=stride, dilation=dilation,
                       pads=(0, 0, 0, 0), out_hw=(h, w))
    kernels_t = _kernels(weight).T
    out = np.empty(tuple(out_shape), dtype=np.result_type(g, weight))
    for rows in windows.chunks(n, out.itemsize):
        out[rows] = windows.scatter(matmul(kernels_t, windows.widen(g[rows]), "product"))
    return out


def _transposed_windows(x, weight, stride, dilation, padding):
    """The windows of the convolution whose input gradient a transposed convolution is."""
    kh, kw = weight.shape[2:]
    full = (reach(x.shape[2], kh, stride=stride, dilation=dilation),
            reach(x.shape[3], kw, stride=stride, dilation=dilation))
    shape = (x.shape[0], weight.shape[1], full[0] - 2 * padding, full[1] - 2 * padding)
    return _Windows(shape, (kh, kw), stride=stride, dilation=dilation, pads=(padding,) * 4,
                    out_hw=tuple(x.shape[2:]))


def _numpy_conv_transpose2d(x, weight, bias, *, stride, dilation, padding, xp):
    windows = _transposed_windows(x, weight, stride, dilation, padding)
    kernels_t = _kernels(weight).T
    n, f = x.shape[0], weight.shape[1]
    y = np.empty((n, f, windows.h, windows.w), dtype=np.result_type(x, weight))
    for rows in windows.chunks(n, y.itemsize):
        y[rows] = windows.scatter(matmul(kernels_t, windows.widen(x[rows]), "product"))
    if bias is not None:
        y += bias.reshape(-1, 1, 1)
    return y


def _numpy_conv_transpose2d_backward(g, x, weight, *, stride, dilation, padding,
                                     input_gradient=True, xp):
    """The columns of each chunk of g serve both gradients, as on the portable path."""
    windows = _transposed_windows(x, weight, stride, dilation, padding)
    n, c = x.shape[0], x.shape[1]
    kernels = _kernels(weight)
    d_weight_t = np.zeros((windows.k, c), dtype=np.result_type(g, x))
    d_input = np.empty(x.shape, dtype=np.result_type(g, weight)) if input_gradient else None
    for rows in windows.chunks(n, d_weight_t.itemsize):
        cols = windows.columns(windows.buffer(g[rows]))
        _add_weight_gradient(d_weight_t, cols, windows.widen(x[rows]))
        if input_gradient:
            windows.narrow(matmul(kernels, cols, "product"), d_input[rows], None)
    return d_weight_t.T.reshape(weight.shape), np.sum(g, axis=(0, 2, 3)), d_input
