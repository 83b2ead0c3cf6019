r"""Convolution and transposed convolution as backend operations, forward and backward.

Four operations over NCHW images, PyTorch's weight layouts:

- ``conv2d(x, weight, bias, *, stride, dilation, pads)``: cross-correlation of the zero-padded
  input, weight (F, C, kh, kw);
- ``conv2d_backward(g, x, weight, *, stride, dilation, pads, input_gradient)``:
  ``(dW, db, dx)``, dx None when `input_gradient` is False;
- ``conv_transpose2d(x, weight, bias, *, stride, dilation, padding)``: its adjoint in x,
  weight (C, F, kh, kw), `padding` cropped from each side;
- ``conv_transpose2d_backward(g, x, weight, *, stride, dilation, padding, input_gradient)``.

The backward operations take the forward's INPUT, not its columns: every implementation
recomputes what it needs, so a forward on one path and a backward on another (the switch
flipped in between) still agree, and a step keeps no im2col buffer alive (PyTorch keeps the
input too).

The portable paths are the im2col / col2im_matmul formulation (``windows.py``, whose natives
they use). PyTorch's natives are its own kernels: ``conv2d``, ``conv_transpose2d`` and
``aten.convolution_backward``, which gives all three gradients in one call. NumPy's are in
``conv_numpy.py``.
"""

from .._host import is_floating
from ._registry import Operation
from .windows import col2im_matmul, crop2d, im2col, pad2d, reach, sides, windows_fitting


def conv_output_hw(x_shape, weight_shape, *, stride, dilation, pads):
    """(OH, OW) of a convolution of an input `x_shape` (N, C, H, W), padded by `pads` (an int
    for all four sides, or (top, bottom, left, right))."""
    top, bottom, left, right = sides(pads)
    kh, kw = weight_shape[2], weight_shape[3]
    return (windows_fitting(x_shape[2] + top + bottom, kh, stride=stride, dilation=dilation),
            windows_fitting(x_shape[3] + left + right, kw, stride=stride, dilation=dilation))


def transposed_output_hw(x_shape, weight_shape, *, stride, dilation, padding):
    """(OH, OW) of a transposed convolution: s (H - 1) + d (kh - 1) + 1 - 2 padding."""
    kh, kw = weight_shape[2], weight_shape[3]
    return (reach(x_shape[2], kh, stride=stride, dilation=dilation) - 2 * padding,
            reach(x_shape[3], kw, stride=stride, dilation=dilation) - 2 * padding)


# ---------------------------------------------------------------------------- checks
def _check_shapes(who, x, weight, bias, channel_axis, geometry, out_hw):
    """ValueError unless x, weight and bias fit each other and the kernel leaves an output."""
    fits = len(x.shape) == 4 and len(weight.shape) == 4 \
        and x.shape[1] == weight.shape[channel_axis] \
        and (bias is None or tuple(bias.shape) == (weight.shape[1 - channel_axis],))
    if not fits or min(out_hw(x.shape, weight.shape)) < 1:
        layout = "(F, C, kh, kw)" if channel_axis == 1 else "(C, F, kh, kw)"
        raise ValueError(
            f"{who} expects x (N, C, H, W), weight {layout} and bias (F,) or None whose kernel "
            f"({geometry}) fits the padded image; got shapes {tuple(x.shape)}, "
            f"{tuple(weight.shape)} and {None if bias is None else tuple(bias.shape)}."
        )


def _check_conv(x, weight, bias, *, stride, dilation, pads, xp=None):
    geometry = f"stride {stride}, dilation {dilation}, pads {tuple(sides(pads))}"
    _check_shapes("conv2d", x, weight, bias, 1, geometry, lambda x_shape, w_shape: (
        conv_output_hw(x_shape, w_shape, stride=stride, dilation=dilation, pads=pads)
        if len(x_shape) == 4 and len(w_shape) == 4 else (0, 0)))


def _check_conv_backward(g, x, weight, *, stride, dilation, pads, input_gradient=True,
                         xp=None):
    _check_conv(x, weight, None, stride=stride, dilation=dilation, pads=pads)
    expected = (x.shape[0], weight.shape[0], *conv_output_hw(
        x.shape, weight.shape, stride=stride, dilation=dilation, pads=pads))
    _check_gradient_shape("conv2d_backward", g, expected)


def _check_transposed(x, weight, bias, *, stride, dilation, padding, xp=None):
    geometry = f"stride {stride}, dilation {dilation}, padding {padding}"
    _check_shapes("conv_transpose2d", x, weight, bias, 0, geometry, lambda x_shape, w_shape: (
        transposed_output_hw(x_shape, w_shape, stride=stride, dilation=dilation,
                             padding=padding)
        if len(x_shape) == 4 and len(w_shape) == 4 else (0, 0)))


def _check_transposed_backward(g, x, weight, *, stride, dilation, padding, input_gradient=True,
                               xp=None):
    _check_transposed(x, weight, None, stride=stride, dilation=dilation, padding=padding)
    expected = (x.shape[0], weight.shape[1], *transposed_output_hw(
        x.shape, weight.shape, stride=stride, dilation=dilation, padding=padding))
    _check_gradient_shape("conv_transpose2d_backward", g, expected)


def _check_gradient_shape(operation, g, expected):
    if tuple(g.shape) != expected:
        raise ValueError(f"{operation} expects g of shape {expected}, the forward's output; "
                         f"got {tuple(g.shape)}.")


# ---------------------------------------------------------------------------- portable
def _columns(x, kh, kw, out_hw, *, stride, dilation, pads, xp):
    return im2col(pad2d(x, pads, xp=xp), kh, kw, stride=stride, dilation=dilation,
                  out_h=out_hw[0], out_w=out_hw[1], xp=xp)


def _conv2d(x, weight, bias, *, stride, dilation, pads, xp):
    r"""Cross-correlation of `x` (N, C, H, W), zero-padded by `pads` (top, bottom, left,
    right), with `weight` (F, C, kh, kw), plus `bias` (F,) or None: y (N, F, OH, OW).

    .. math:: y_{n,f,p,q} = b_f + \sum_{c,i,j} W_{f,c,i,j}\,
              \tilde x_{n,c,\,ps+id,\,qs+jd}

    Portable path: one batched matmul ``W_(F, C kh kw) @ im2col(x~)``.
    """
    n, f, (kh, kw) = x.shape[0], weight.shape[0], weight.shape[2:]
    out_hw = conv_output_hw(x.shape, weight.shape, stride=stride, dilation=dilation, pads=pads)
    cols = _columns(x, kh, kw, out_hw, stride=stride, dilation=dilation, pads=pads, xp=xp)
    y = xp.reshape(weight, (f, -1)) @ cols
    if bias is not None:
        y = y + xp.reshape(bias, (f, 1))
    return xp.reshape(y, (n, f, *out_hw))


def _conv2d_backward(g, x, weight, *, stride, dilation, pads, input_gradient=True, xp):
    r"""Gradients of :func:`conv2d` for g = dL/dy (N, F, OH, OW): ``(dW, db, dx)``.

    .. math::
        dW_{f,c,i,j} = \sum_{n,p,q} g_{n,f,p,q}\, \tilde x_{n,c,\,ps+id,\,qs+jd}, \qquad
        db_f = \sum_{n,p,q} g_{n,f,p,q}, \qquad
        d\tilde x_{n,c,\,ps+id,\,qs+jd} \mathrel{+}= \sum_f W_{f,c,i,j}\, g_{n,f,p,q}

    and dx is :math:`d\tilde x` with the padding cropped; None when `input_gradient` is False
    (the largest scatter of a step, skipped when nothing needs it).
    Portable path: the columns again, ``sum_n g_n cols_n^T`` and ``col2im_matmul``.
    """
    (n, f, oh, ow), (kh, kw) = g.shape, weight.shape[2:]
    flat = xp.reshape(g, (n, f, oh * ow))
    cols = _columns(x, kh, kw, (oh, ow), stride=stride, dilation=dilation, pads=pads, xp=xp)
    d_weight = xp.reshape(xp.sum(flat @ xp.matrix_transpose(cols), axis=0), weight.shape)
    d_bias = xp.sum(flat, axis=(0, 2))
    if not input_gradient:
        return d_weight, d_bias, None
    top, bottom, left, right = sides(pads)
    padded = (n, x.shape[1], x.shape[2] + top + bottom, x.shape[3] + left + right)
    d_input = col2im_matmul(g, weight, stride=stride, dilation=dilation, out_shape=padded, xp=xp)
    return d_weight, d_bias, crop2d(d_input, pads)


def _conv_transpose2d(x, weight, bias, *, stride, dilation, padding, xp):
    r"""Transposed convolution of `x` (N, C, H, W) with `weight` (C, F, kh, kw): each input
    pixel adds a weighted copy of the kernel into the output, `padding` is cropped from each
    side, and `bias` (F,) or None is added. y (N, F, OH, OW), OH = s(H-1) + d(kh-1) + 1 - 2p.

    .. math:: \tilde y_{n,f,\,ps+id,\,qs+jd} \mathrel{+}= \sum_c W_{c,f,i,j}\, x_{n,c,p,q},
              \qquad y = \mathrm{crop}_p(\tilde y) + b
    """
    n, f, (kh, kw) = x.shape[0], weight.shape[1], weight.shape[2:]
    full = (n, f, reach(x.shape[2], kh, stride=stride, dilation=dilation),
            reach(x.shape[3], kw, stride=stride, dilation=dilation))
    y = crop2d(col2im_matmul(x, weight, stride=stride, dilation=dilation, out_shape=full,
                             xp=xp), padding)
    return y if bias is None else y + xp.reshape(bias, (f, 1, 1))


def _conv_transpose2d_backward(g, x, weight, *, stride, dilation, padding, input_gradient=True,
                               xp):
    r"""Gradients of :func:`conv_transpose2d`: ``(dW, db, dx)``, with :math:`\tilde g` the
    gradient zero-padded back to the uncropped size:

    .. math::
        dx_{n,c,p,q} = \sum_{f,i,j} W_{c,f,i,j}\, \tilde g_{n,f,\,ps+id,\,qs+jd}, \qquad
        dW_{c,f,i,j} = \sum_{n,p,q} x_{n,c,p,q}\, \tilde g_{n,f,\,ps+id,\,qs+jd}

    Portable path: the columns of :math:`\tilde g` serve both.
    """
    (n, c, h, w), (kh, kw) = x.shape, weight.shape[2:]
    cols = im2col(pad2d(g, padding, xp=xp), kh, kw, stride=stride, dilation=dilation, out_h=h,
                  out_w=w, xp=xp)
    flat_input = xp.reshape(x, (n, c, h * w))
    d_weight = xp.reshape(xp.sum(flat_input @ xp.matrix_transpose(cols), axis=0), weight.shape)
    d_bias = xp.sum(g, axis=(0, 2, 3))
    if not input_gradient:
        return d_weight, d_bias, None
    return d_weight, d_bias, xp.reshape(xp.reshape(weight, (c, -1)) @ cols, (n, c, h, w))


conv2d = Operation("conv2d", _conv2d, check=_check_conv)
conv2d_backward = Operation("conv2d_backward", _conv2d_backward, check=_check_conv_backward)
conv_transpose2d = Operation("conv_transpose2d", _conv_transpose2d, check=_check_transposed)
conv_transpose2d_backward = Operation("conv_transpose2d_backward", _conv_transpose2d_backward,
                                      check=_check_transposed_backward)


# ---------------------------------------------------------------------------- PyTorch
def _torch_padding(x, pads):
    """(x, padding) for torch's symmetric padding: asymmetric pads ('same' with an even
    kernel) are added to x first."""
    top, bottom, left, right = sides(pads)
    if top == bottom and left == right:
        return x, (top, left)
    from torch.nn.functional import pad

    return pad(x, (left, right, top, bottom)), (0, 0)


def _torch_conv2d(x, weight, bias, *, stride, dilation, pads, xp):
    """``torch.nn.functional.conv2d`` (floating dtypes; portable for the others)."""
    if not is_floating(x):
        return _conv2d(x, weight, bias, stride=stride, dilation=dilation, pads=pads, xp=xp)
    from torch.nn.functional import conv2d as torch_conv2d

    x, padding = _torch_padding(x, pads)
    return torch_conv2d(x, weight, bias, stride, padding, dilation)


def _convolution_backward(g, x, weight, *, stride, dilation, padding, transposed,
                          input_gradient):
    import torch

    d_input, d_weight, d_bias = torch.ops.aten.convolution_backward(
        g, x, weight, [g.shape[1]], [stride, stride], list(padding), [dilation, dilation],
        transposed, [0, 0], 1, [bool(input_gradient), True, True])
    return d_weight, d_bias, d_input


def _torch_conv2d_backward(g, x, weight, *, stride, dilation, pads, input_gradient=True, xp):
    """``aten.convolution_backward``: dx, dW and db in one call, as PyTorch's autograd."""
    if not is_floating(g):
        return _conv2d_backward(g, x, weight, stride=stride, dilation=dilation, pads=pads,
                                input_gradient=input_gradient, xp=xp)
    padded, padding = _torch_padding(x, pads)
    d_weight, d_bias, d_input = _convolution_backward(
        g, padded, weight, stride=stride, dilation=dilation, padding=padding,
        transposed=False, input_gradient=input_gradient)
    if d_input is not None and padded is not x:
        d_input = crop2d(d_input, pads)
    return d_weight, d_bias, d_input


def _torch_conv_transpose2d(x, weight, bias, *, stride, dilation, padding, xp):
    """``torch.nn.functional.conv_transpose2d`` (floating dtypes; portable for the others)."""
    if not is_floating(x):
        return _conv_transpose2d(x, weight, bias, stride=stride, dilation=dilation,
                                 padding=padding, xp=xp)
    from torch.nn.functional import conv_transpose2d as torch_conv_transpose2d

    return torch_conv_transpose2d(x, weight, bias, stride, padding, 0, 1, dilation)


def _torch_conv_transpose2d_backward(g, x, weight, *, stride, dilation, padding,
                                     input_gradient=True, xp):
    """``aten.convolution_backward`` with ``transposed=True``."""
    if not is_floating(g):
        return _conv_transpose2d_backward(g, x, weight, stride=stride, dilation=dilation,
                                          padding=padding, input_gradient=input_gradient, xp=xp)
    return _convolution_backward(g, x, weight, stride=stride, dilation=dilation,
                                 padding=(padding, padding), transposed=True,
                                 input_gradient=input_gradient)
