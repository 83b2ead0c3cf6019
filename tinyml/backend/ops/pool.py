r"""Max and average pooling as backend operations, and the window maxima that MaxUnpool2D
shares.

- ``max_pool2d(x, size, *, stride)`` -> y (N, C, OH, OW), the maximum of each ``size``
  (kh, kw) window: a forward that keeps nothing for backward.
- ``max_pool2d_forward(x, size, *, stride)`` -> ``(y, routing)``: the same y, and what the
  implementation found out about where the maxima are, for its backward (PyTorch's indices),
  or None.
- ``max_pool2d_backward(g, x, y, routing, size, *, stride)`` -> dx: each window's gradient
  added at its FIRST maximum in row-major order (PyTorch's rule for ties). Every
  implementation accepts ``routing=None`` (it then finds the maxima again from x and y), so a
  forward on one path and a backward on another agree.

- ``avg_pool2d(x, size, *, stride)`` -> the mean of each window;
  ``avg_pool2d_backward(g, x_shape, size, *, stride)`` -> dx of `x_shape`, each window's
  gradient spread evenly over it (overlapping windows add).

Portable path: an elementwise maximum over the window's kh*kw strided slices, and first-hit
masks for the backward (``hit = view == y; chosen = hit & free; free &= ~hit``); average
pooling by ``im2col`` and ``col2im_matmul`` with the constant kernel.
"""

from .._host import device_of, is_floating
from ._registry import Operation
from .windows import col2im_matmul, im2col, window_slices, windows_fitting


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


def pooled_hw(x_shape, size, *, stride):
    """(OH, OW) of pooling `x_shape` (N, C, H, W) with `size` (kh, kw) windows, no padding."""
    return (windows_fitting(x_shape[2], size[0], stride=stride, dilation=1),
            windows_fitting(x_shape[3], size[1], stride=stride, dilation=1))


# ---------------------------------------------------------------------------- the operations
def _check_pool(x, size, *, stride, xp=None):
    if len(x.shape) != 4 or len(size) != 2 or min(pooled_hw(x.shape, size, stride=stride)) < 1:
        raise ValueError(
            f"pooling over {tuple(size)} windows expects an image (N, C, H, W) at least that "
            f"large; got shape {tuple(x.shape)}."
        )


def _check_pool_backward(g, x, y, routing, size, *, stride, xp=None):
    _check_pool(x, size, stride=stride)
    expected = (*x.shape[:2], *pooled_hw(x.shape, size, stride=stride))
    if tuple(g.shape) != expected or tuple(y.shape) != expected:
        raise ValueError(f"max_pool2d_backward expects g and y of shape {expected}, the "
                         f"forward's output; got {tuple(g.shape)} and {tuple(y.shape)}.")


def _max_pool2d(x, size, *, stride, xp):
    r""":math:`y_{n,c,p,q} = \max_{i,j} x_{n,c,\,ps+i,\,qs+j}`.

    Portable path: a running elementwise maximum over the window's strided slices.
    """
    out_h, out_w = pooled_hw(x.shape, size, stride=stride)
    y = None
    for _, view in max_windows(x, size, stride=stride, out_h=out_h, out_w=out_w):
        y = view if y is None else xp.maximum(y, view)
    return y


def _max_pool2d_forward(x, size, *, stride, xp):
    """``(max_pool2d(x), None)``: the portable backward finds the maxima from x and y."""
    return max_pool2d(x, size, stride=stride, xp=xp), None


def _max_pool2d_backward(g, x, y, routing, size, *, stride, xp):
    r""":math:`dx_{n,c,\,ps+i^*,\,qs+j^*} \mathrel{+}= g_{n,c,p,q}`, with :math:`(i^*, j^*)`
    the window's first maximum in row-major order; overlapping windows add.

    Portable path: ``route_to_maxima`` (first-hit masks; `routing` is not used).
    """
    return route_to_maxima(g, x, y, size, stride=stride, xp=xp)


def _avg_pool2d(x, size, *, stride, xp):
    r"""The mean of each (kh, kw) window of `x` (N, C, H, W): (N, C, OH, OW).

    Portable path: each channel as a one-channel image through ``im2col``, then the mean of
    each window's column.
    """
    n, c, h, w = x.shape
    out_h, out_w = pooled_hw(x.shape, size, stride=stride)
    cols = im2col(xp.reshape(x, (n * c, 1, h, w)), size[0], size[1], stride=stride,
                  dilation=1, out_h=out_h, out_w=out_w, xp=xp)
    return xp.reshape(xp.mean(cols, axis=1), (n, c, out_h, out_w))


def _check_avg_pool_backward(g, x_shape, size, *, stride, xp=None):
    expected = (*x_shape[:2], *pooled_hw(x_shape, size, stride=stride))
    if len(x_shape) != 4 or min(expected[2:]) < 1 or tuple(g.shape) != expected:
        raise ValueError(f"avg_pool2d_backward expects g of shape {expected}, the output of "
                         f"pooling {tuple(x_shape)} over {tuple(size)} windows with stride "
                         f"{stride}; got {tuple(g.shape)}.")


def _avg_pool2d_backward(g, x_shape, size, *, stride, xp):
    r""":math:`dx_{n,c,\,ps+i,\,qs+j} \mathrel{+}= g_{n,c,p,q} / (k_h k_w)` for every window
    (p, q) and offset (i, j).

    Portable path: ``col2im_matmul`` of each channel alone with the constant kernel
    ``1 / (kh kw)``.
    """
    (n, c, h, w), (kh, kw) = x_shape, size
    out_h, out_w = g.shape[2], g.shape[3]
    kernel = xp.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=g.dtype, device=device_of(g))
    grad = col2im_matmul(xp.reshape(g, (n * c, 1, out_h, out_w)), kernel, stride=stride,
                         dilation=1, out_shape=(n * c, 1, h, w), xp=xp)
    return xp.reshape(grad, (n, c, h, w))


max_pool2d = Operation("max_pool2d", _max_pool2d, check=_check_pool)
avg_pool2d = Operation("avg_pool2d", _avg_pool2d, check=_check_pool)
avg_pool2d_backward = Operation("avg_pool2d_backward", _avg_pool2d_backward,
                                check=_check_avg_pool_backward)
max_pool2d_forward = Operation("max_pool2d_forward", _max_pool2d_forward, check=_check_pool)
max_pool2d_backward = Operation("max_pool2d_backward", _max_pool2d_backward,
                                check=_check_pool_backward)


# ---------------------------------------------------------------------------- NumPy
def _numpy_max_pool2d(x, size, *, stride, xp):
    """The running maximum in place, in one output buffer."""
    import numpy as np

    out_h, out_w = pooled_hw(x.shape, size, stride=stride)
    views = [view for _, view in max_windows(x, size, stride=stride, out_h=out_h, out_w=out_w)]
    y = np.array(views[0], order="C")
    for view in views[1:]:
        np.maximum(y, view, out=y)
    return y


def _numpy_max_pool2d_forward(x, size, *, stride, xp):
    return _numpy_max_pool2d(x, size, stride=stride, xp=xp), None


def _numpy_max_pool2d_backward(g, x, y, routing, size, *, stride, xp):
    """First-hit masks in place, with the gradient written straight into its slice: windows
    that do not overlap (stride >= size) write each input pixel at most once, so no ``+=``
    (and no zero fill where they tile the image)."""
    import numpy as np

    (h, w), (kh, kw) = x.shape[2:], size
    out_h, out_w = y.shape[2], y.shape[3]
    apart = stride >= kh and stride >= kw
    tiled = stride == kh == kw and out_h * kh == h and out_w * kw == w
    dx = (np.empty if tiled else np.zeros)(x.shape, dtype=g.dtype)
    free = hit = None
    offsets = list(max_windows(x, size, stride=stride, out_h=out_h, out_w=out_w))
    for index, ((_, _, (rows, cols)), view) in enumerate(offsets):
        hit = np.equal(view, y, out=hit)
        if free is None:
            free = np.logical_not(hit)
        else:
            np.logical_and(hit, free, out=hit)
            if index < len(offsets) - 1:
                np.logical_xor(free, hit, out=free)
        target = dx[:, :, rows, cols]
        if apart:
            np.multiply(g, hit, out=target)
        else:
            target += g * hit
    return dx


def _numpy_avg_pool2d(x, size, *, stride, xp):
    """The window's strided slices added into one buffer in place, then scaled: no im2col
    copy (kh kw times the output's size) and no reduction over a short axis."""
    import numpy as np

    out_h, out_w = pooled_hw(x.shape, size, stride=stride)
    views = [view for _, view in max_windows(x, size, stride=stride, out_h=out_h, out_w=out_w)]
    y = np.array(views[0], order="C")
    for view in views[1:]:
        np.add(y, view, out=y)
    y *= y.dtype.type(1.0 / len(views))
    return y


def _numpy_avg_pool2d_backward(g, x_shape, size, *, stride, xp):
    """``g / (kh kw)`` written into each offset's strided slice: straight writes where windows
    do not overlap (no zero fill where they tile the image), ``+=`` where they do."""
    import numpy as np

    (kh, kw), (h, w) = size, x_shape[2:]
    out_h, out_w = g.shape[2], g.shape[3]
    apart = stride >= kh and stride >= kw
    tiled = stride == kh == kw and out_h * kh == h and out_w * kw == w
    dx = (np.empty if tiled else np.zeros)(x_shape, dtype=g.dtype)
    share = g * g.dtype.type(1.0 / (kh * kw))
    for _, _, (rows, cols) in window_slices(kh, kw, stride=stride, dilation=1, out_h=out_h,
                                            out_w=out_w):
        if apart:
            dx[:, :, rows, cols] = share
        else:
            dx[:, :, rows, cols] += share
    return dx


# ---------------------------------------------------------------------------- PyTorch
def _torch_max_pool2d(x, size, *, stride, xp):
    """``torch.nn.functional.max_pool2d`` (floating dtypes; portable for the others)."""
    if not is_floating(x):
        return _max_pool2d(x, size, stride=stride, xp=xp)
    from torch.nn.functional import max_pool2d as torch_max_pool2d

    return torch_max_pool2d(x, size, stride)


def _torch_max_pool2d_forward(x, size, *, stride, xp):
    """``aten.max_pool2d_with_indices``; the indices are the routing (floating dtypes;
    portable for the others)."""
    if not is_floating(x):
        return _max_pool2d_forward(x, size, stride=stride, xp=xp)
    import torch

    return torch.ops.aten.max_pool2d_with_indices(x, list(size), [stride, stride])


def _torch_max_pool2d_backward(g, x, y, routing, size, *, stride, xp):
    """``aten.max_pool2d_with_indices_backward``, with the forward's indices (found again
    when the forward ran another path)."""
    if not is_floating(g):
        return _max_pool2d_backward(g, x, y, routing, size, stride=stride, xp=xp)
    import torch

    if routing is None:
        routing = torch.ops.aten.max_pool2d_with_indices(x, list(size), [stride, stride])[1]
    return torch.ops.aten.max_pool2d_with_indices_backward(
        g, x, list(size), [stride, stride], [0, 0], [1, 1], False, routing)


def _torch_avg_pool2d(x, size, *, stride, xp):
    """``torch.nn.functional.avg_pool2d`` (floating dtypes; portable for the others)."""
    if not is_floating(x):
        return _avg_pool2d(x, size, stride=stride, xp=xp)
    from torch.nn.functional import avg_pool2d as torch_avg_pool2d

    return torch_avg_pool2d(x, size, stride)


def _torch_avg_pool2d_backward(g, x_shape, size, *, stride, xp):
    """``aten.avg_pool2d_backward`` (it reads only the shape of the input it is given: an
    uninitialized one)."""
    if not is_floating(g):
        return _avg_pool2d_backward(g, x_shape, size, stride=stride, xp=xp)
    import torch

    like = torch.empty(x_shape, dtype=g.dtype, device=g.device)
    return torch.ops.aten.avg_pool2d_backward(g, like, list(size), [stride, stride], [0, 0],
                                              False, True, None)
