r"""max_pool2d and avg_pool2d: pooling of NCHW images over (kh, kw) windows, no padding.

.. math::
    \text{max:}\quad y_{n,c,p,q} = \max_{i,j} x_{n,c,\,ps+i,\,qs+j}, \qquad
    \text{average:}\quad y_{n,c,p,q} = \frac{1}{k_h k_w} \sum_{i,j} x_{n,c,\,ps+i,\,qs+j}

with ``OH = floor((H - kh) / s) + 1`` (likewise OW). The portable paths are the window slices
of :mod:`.windows`; the ndonnx natives are one ONNX ``MaxPool`` / ``AveragePool``.
"""

from ._registry import Operation
from .windows import im2col, window_slices


def pooled_hw(x_shape, size, *, stride):
    """(OH, OW) of pooling an image of `x_shape` (N, C, H, W) over `size` (kh, kw) windows."""
    return (x_shape[2] - size[0]) // stride + 1, (x_shape[3] - size[1]) // stride + 1


def _check(x, size, *, stride, xp=None):
    if len(x.shape) != 4 or len(size) != 2 or min(pooled_hw(x.shape, size, stride=stride)) < 1:
        raise ValueError(
            f"pooling over {tuple(size)} windows expects an image (N, C, H, W) at least that "
            f"large; got shape {tuple(x.shape)}."
        )


def _max_pool2d(x, size, *, stride, xp):
    r"""The maximum of each (kh, kw) window of `x` (N, C, H, W): (N, C, OH, OW).

    Portable path: a running elementwise maximum over the kh*kw strided slices, one per
    window offset (each a whole-array operation).
    """
    out_h, out_w = pooled_hw(x.shape, size, stride=stride)
    output = None
    for _, _, (rows, cols) in window_slices(*size, stride=stride, dilation=1, out_h=out_h,
                                            out_w=out_w):
        view = x[:, :, rows, cols]
        output = view if output is None else xp.maximum(output, view)
    return output


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


max_pool2d = Operation("max_pool2d", _max_pool2d, check=_check)
avg_pool2d = Operation("avg_pool2d", _avg_pool2d, check=_check)
