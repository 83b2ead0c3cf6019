"""The natives for ndonnx, whose arrays build an ONNX graph: each emits one ONNX operator.

``tinyml.onnx.export`` runs a net's forward on ndonnx arrays. The portable paths run there too
(ndonnx is an Array API namespace), but they spell a convolution as dozens of slices; these
natives make it one ``Conv``. An ndonnx array gives its spox variable with ``unwrap_spox()``
and ``ndonnx.asarray(var)`` wraps one back, so a native can emit any operator of spox's
opset module (the one ndonnx itself uses, so the graph imports one opset).

This is the one file that knows ndonnx and spox; both are imported inside the natives, so
importing tinyml never needs them (they come with the ``onnx`` extra). The natives cover
floating arrays, the only kind the layers pass; anything else takes the portable path.
"""

import numpy as np

from .conv import conv2d
from .dense import linear
from .pool import avg_pool2d, max_pool2d
from .softmax import log_softmax, softmax
from .windows import col2im_matmul, reach, sides

LIBRARY = "ndonnx"


def _opset():
    """spox's module of ONNX operators at the opset ndonnx builds with."""
    import spox.opset.ai.onnx.v21 as op

    return op


def _wrap(var):
    import ndonnx

    return ndonnx.asarray(var)


def _floating(x, xp):
    return xp.isdtype(x.dtype, "real floating")


@conv2d.register(LIBRARY)
def _conv(x, weight, bias, *, stride, dilation, pads, xp):
    """One ``Conv`` (ONNX pads are (top, left, bottom, right))."""
    if not _floating(x, xp):
        return conv2d.portable(x, weight, bias, stride=stride, dilation=dilation, pads=pads,
                               xp=xp)
    top, bottom, left, right = sides(pads)
    return _wrap(_opset().conv(x.unwrap_spox(), weight.unwrap_spox(), bias.unwrap_spox(),
                               strides=(stride, stride), dilations=(dilation, dilation),
                               pads=(top, left, bottom, right),
                               kernel_shape=tuple(weight.shape[2:])))


@col2im_matmul.register(LIBRARY)
def _conv_transpose(g, weight, *, stride, dilation, out_shape, xp):
    """One ``ConvTranspose`` (weight (A, B, kh, kw) is its (C_in, C_out, kh, kw) layout), and
    a ``Pad`` with zeros where `out_shape` reaches beyond the windows."""
    if not _floating(g, xp):
        return col2im_matmul.portable(g, weight, stride=stride, dilation=dilation,
                                      out_shape=out_shape, xp=xp)
    op = _opset()
    kh, kw = weight.shape[2], weight.shape[3]
    out = op.conv_transpose(g.unwrap_spox(), weight.unwrap_spox(), strides=(stride, stride),
                            dilations=(dilation, dilation), kernel_shape=(kh, kw))
    extra_h = out_shape[2] - reach(g.shape[2], kh, stride=stride, dilation=dilation)
    extra_w = out_shape[3] - reach(g.shape[3], kw, stride=stride, dilation=dilation)
    if extra_h or extra_w:
        out = op.pad(out, op.constant(value=np.array([0, 0, 0, 0, 0, 0, extra_h, extra_w],
                                                     dtype=np.int64)))
    return _wrap(out)


@max_pool2d.register(LIBRARY)
def _max_pool(x, size, *, stride, xp):
    """One ``MaxPool``."""
    if not _floating(x, xp):
        return max_pool2d.portable(x, size, stride=stride, xp=xp)
    output, _ = _opset().max_pool(x.unwrap_spox(), kernel_shape=tuple(size),
                                  strides=(stride, stride))
    return _wrap(output)


@avg_pool2d.register(LIBRARY)
def _average_pool(x, size, *, stride, xp):
    """One ``AveragePool`` (no padding, so every window counts kh*kw pixels)."""
    if not _floating(x, xp):
        return avg_pool2d.portable(x, size, stride=stride, xp=xp)
    return _wrap(_opset().average_pool(x.unwrap_spox(), kernel_shape=tuple(size),
                                       strides=(stride, stride)))


@linear.register(LIBRARY)
def _gemm(x, weight, bias, *, xp):
    """One ``Gemm`` (transB=1) for x (N, in); for more axes, ``MatMul`` by a ``Transpose`` of
    the weight, then ``Add``."""
    if not _floating(x, xp):
        return linear.portable(x, weight, bias, xp=xp)
    op = _opset()
    if x.ndim == 2:
        return _wrap(op.gemm(x.unwrap_spox(), weight.unwrap_spox(), bias.unwrap_spox(),
                             transB=1))
    product = op.matmul(x.unwrap_spox(), op.transpose(weight.unwrap_spox(), perm=(1, 0)))
    return _wrap(op.add(product, bias.unwrap_spox()))


@softmax.register(LIBRARY)
def _softmax(x, *, axis, xp):
    """One ``Softmax`` (opset 13's: along one axis)."""
    if not _floating(x, xp):
        return softmax.portable(x, axis=axis, xp=xp)
    return _wrap(_opset().softmax(x.unwrap_spox(), axis=axis))


@log_softmax.register(LIBRARY)
def _log_softmax(x, *, axis, xp):
    """One ``LogSoftmax`` (opset 13's: along one axis)."""
    if not _floating(x, xp):
        return log_softmax.portable(x, axis=axis, xp=xp)
    return _wrap(_opset().log_softmax(x.unwrap_spox(), axis=axis))
