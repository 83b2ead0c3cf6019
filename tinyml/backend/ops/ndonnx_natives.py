"""The natives for ndonnx, whose arrays build an ONNX graph: each emits one ONNX operator.

``tinyml.onnx.export`` runs a net's forward on ndonnx arrays. The portable paths run there too
(ndonnx is an Array API namespace), but they spell a convolution as dozens of slices; these
natives make it one ``Conv``. An ndonnx array gives its spox variable with ``unwrap_spox()``
and ``ndonnx.asarray(var)`` wraps one back, so a native can emit any operator of spox's
opset module (the one ndonnx itself uses, so the graph imports one opset).

Which operation each function is the native of is said in ndonnx's adapter
(:mod:`tinyml.backend.adapters.ndonnx`). This is the one file that knows spox; ndonnx and spox
are imported inside the natives, so importing tinyml never needs them (they come with the
``onnx`` extra). The natives cover floating arrays, the only kind the layers pass; anything
else takes the portable path.
"""

import numpy as np

from .conv import conv2d
from .dense import linear
from .pool import avg_pool2d, max_pool2d
from .recurrent import recurrence
from .softmax import log_softmax, softmax
from .windows import col2im_matmul, reach, sides


def _opset():
    """spox's module of ONNX operators at the opset ndonnx builds with."""
    import spox.opset.ai.onnx.v21 as op

    return op


def _wrap(var):
    import ndonnx

    return ndonnx.asarray(var)


def _floating(x, xp):
    return xp.isdtype(x.dtype, "real floating")


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


def _max_pool(x, size, *, stride, xp):
    """One ``MaxPool``."""
    if not _floating(x, xp):
        return max_pool2d.portable(x, size, stride=stride, xp=xp)
    output, _ = _opset().max_pool(x.unwrap_spox(), kernel_shape=tuple(size),
                                  strides=(stride, stride))
    return _wrap(output)


def _average_pool(x, size, *, stride, xp):
    """One ``AveragePool`` (no padding, so every window counts kh*kw pixels)."""
    if not _floating(x, xp):
        return avg_pool2d.portable(x, size, stride=stride, xp=xp)
    return _wrap(_opset().average_pool(x.unwrap_spox(), kernel_shape=tuple(size),
                                       strides=(stride, stride)))


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


def _softmax(x, *, axis, xp):
    """One ``Softmax`` (opset 13's: along one axis)."""
    if not _floating(x, xp):
        return softmax.portable(x, axis=axis, xp=xp)
    return _wrap(_opset().softmax(x.unwrap_spox(), axis=axis))


def _log_softmax(x, *, axis, xp):
    """One ``LogSoftmax`` (opset 13's: along one axis)."""
    if not _floating(x, xp):
        return log_softmax.portable(x, axis=axis, xp=xp)
    return _wrap(_opset().log_softmax(x.unwrap_spox(), axis=axis))


# ONNX's gate order, as positions of PyTorch's gates: its LSTM is i, o, f, c (PyTorch's i, f,
# g, o), its GRU z, r, h (PyTorch's r, z, n); an RNN has one gate.
_ONNX_GATES = {"tanh": (0,), "relu": (0,), "lstm": (0, 3, 1, 2), "gru": (1, 0, 2)}
_ELMAN_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu"}


def _recurrent_node(x, weight_ih, weight_hh, bias_ih, bias_hh, state, *, kind, sequences, xp):
    """One ``RNN``, ``LSTM`` or ``GRU`` (``linear_before_reset=1``: PyTorch's GRU), time-major
    as onnxruntime requires (``layout=1`` is refused there), its gates reordered from
    PyTorch's by a ``Gather`` of the weights, which onnxruntime folds once when it loads the
    file. No initial state (zeros) when `state` is None."""
    if not _floating(x, xp):
        return recurrence.portable(x, weight_ih, weight_hh, bias_ih, bias_hh, state, kind=kind,
                                   sequences=sequences, xp=xp)
    op = _opset()
    hidden = weight_hh.shape[1]
    order = _ONNX_GATES[kind]
    w, r = (_in_onnx_order(weight, order, hidden, xp) for weight in (weight_ih, weight_hh))
    both = order + tuple(gate + len(order) for gate in order)  # b_ih's gates, then b_hh's
    b = _in_onnx_order(xp.concat([bias_ih, bias_hh]), both, hidden, xp)
    zero, one = (op.constant(value=np.array([axis], dtype=np.int64)) for axis in (0, 1))
    states = [] if state is None else [op.unsqueeze(each.unwrap_spox(), zero) for each in
                                       (state if kind == "lstm" else (state,))]
    inputs = (op.transpose(x.unwrap_spox(), perm=(1, 0, 2)), w.unwrap_spox(), r.unwrap_spox(),
              b.unwrap_spox(), None, *states)
    if kind == "lstm":
        y, *last = op.lstm(*inputs, hidden_size=hidden)
    elif kind == "gru":
        y, *last = op.gru(*inputs, hidden_size=hidden, linear_before_reset=1)
    else:
        y, *last = op.rnn(*inputs, hidden_size=hidden, activations=[_ELMAN_ACTIVATIONS[kind]])
    last = [_wrap(op.squeeze(each, zero)) for each in last]  # (1, N, H) -> (N, H)
    outputs = None
    if sequences:  # Y is (T, 1, N, H)
        outputs = _wrap(op.transpose(op.squeeze(y, one), perm=(1, 0, 2)))
    return outputs, (tuple(last) if kind == "lstm" else last[0])


def _in_onnx_order(weight, order, hidden, xp):
    """`weight` (K H, ...), blocks of H rows in PyTorch's gate order, as (1, K H, ...) with
    the blocks in `order` (K blocks: the two biases side by side are twice a gate order):
    one ``Gather`` of rows (none for a single gate) and the axis of one direction."""
    if order != tuple(range(len(order))):
        rows = np.concatenate([np.arange(hidden) + gate * hidden for gate in order])
        weight = xp.take(weight, xp.asarray(rows), axis=0)
    return xp.expand_dims(weight, axis=0)
