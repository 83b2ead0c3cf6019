r"""conv2d: a whole convolution in one call, for forwards that keep nothing for backward.

.. math:: y_{n,f,p,q} = b_f + \sum_{c,i,j} W_{f,c,i,j}\, \tilde x_{n,c,\,ps+id,\,qs+jd}

with :math:`\tilde x` the zero-padded input. A training forward needs the columns of
``im2col`` again in backward, so Conv2D and Conv1D build those themselves; inside
``tinyml.no_grad()`` they call this operation instead, whose natives can be one library call
(the ndonnx native is one ONNX ``Conv``, so an exported convolution is one node).
"""

from ._registry import Operation
from .windows import im2col, pad2d, sides


def conv2d_output_hw(x_shape, weight_shape, *, stride, dilation, pads):
    """(OH, OW) of a convolution of an image of `x_shape` (N, C, H, W) by a kernel of
    `weight_shape` (F, C, kh, kw) with `pads` (top, bottom, left, right)."""
    top, bottom, left, right = sides(pads)
    kh, kw = weight_shape[2], weight_shape[3]
    out_h = (x_shape[2] + top + bottom - dilation * (kh - 1) - 1) // stride + 1
    out_w = (x_shape[3] + left + right - dilation * (kw - 1) - 1) // stride + 1
    return out_h, out_w


def _check(x, weight, bias, *, stride, dilation, pads, xp=None):
    fits = len(x.shape) == 4 and len(weight.shape) == 4 and x.shape[1] == weight.shape[1] \
        and tuple(bias.shape) == (weight.shape[0],)
    if fits:
        out_h, out_w = conv2d_output_hw(x.shape, weight.shape, stride=stride,
                                        dilation=dilation, pads=pads)
        fits = out_h >= 1 and out_w >= 1
    if not fits:
        raise ValueError(
            f"conv2d expects x (N, C, H, W), weight (F, C, kh, kw) and bias (F,) whose kernel "
            f"(stride {stride}, dilation {dilation}, pads {tuple(sides(pads))}) fits the padded "
            f"image; got shapes {tuple(x.shape)}, {tuple(weight.shape)} and "
            f"{tuple(bias.shape)}."
        )


def _conv2d(x, weight, bias, *, stride, dilation, pads, xp):
    r"""The convolution of `x` (N, C, H, W) by `weight` (F, C, kh, kw) plus `bias` (F,):
    shape (N, F, OH, OW), ``OH = floor((H + top + bottom - d (kh - 1) - 1) / s) + 1``.

    Portable path: zero padding, ``im2col`` and one batched matmul, as Conv2D's training
    forward (the same numbers).
    """
    n, f = x.shape[0], weight.shape[0]
    kh, kw = weight.shape[2], weight.shape[3]
    out_h, out_w = conv2d_output_hw(x.shape, weight.shape, stride=stride, dilation=dilation,
                                    pads=pads)
    cols = im2col(pad2d(x, pads, xp=xp), kh, kw, stride=stride, dilation=dilation,
                  out_h=out_h, out_w=out_w, xp=xp)
    output = xp.reshape(weight, (f, -1)) @ cols + xp.reshape(bias, (f, 1))
    return xp.reshape(output, (n, f, out_h, out_w))


conv2d = Operation("conv2d", _conv2d, check=_check)
