"""The ndonnx natives of the backend operations: each builds its ONNX operator, and onnxruntime
computes what the portable path computes on NumPy (float32).

Every operation is called on ndonnx arguments with a dynamic first axis, the graph built and
checked (``full_check``), run at two sizes of that axis, and compared with the same operation
on NumPy with the portable path forced.
"""

import numpy as np
import pytest

from tinyml.backend import portable_ops
from tinyml.backend.ops import (
    OPERATIONS,
    avg_pool2d,
    col2im_matmul,
    conv2d,
    linear,
    log_softmax,
    max_pool2d,
    softmax,
)

ndonnx = pytest.importorskip("ndonnx", reason="the onnx extra: pip install -e '.[onnx]'")
onnx = pytest.importorskip("onnx", reason="the onnx extra: pip install -e '.[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra: pip install -e '.[onnx]'")

RNG = np.random.default_rng(0)


def run_on_ndonnx(op, arrays, operators, **options):
    """`op` on ndonnx arguments (the first with a dynamic first axis, the others fixed) built
    into a model whose nodes must be `operators` (ndonnx's final Identity aside), then run in
    onnxruntime on `arrays` and on `arrays` with the first one's first axis cut to 1; each
    result next to the portable path's on NumPy."""
    arguments = [ndonnx.argument(shape=(None, *array.shape[1:]) if i == 0 else array.shape,
                                 dtype=ndonnx.float32) for i, array in enumerate(arrays)]
    assert op.implementation_for(arguments[0]) == "ndonnx"
    names = [f"a{i}" for i in range(len(arrays))]
    model = ndonnx.build(dict(zip(names, arguments, strict=True)),
                         {"y": op(*arguments, **options)})
    onnx.checker.check_model(model, full_check=True)
    assert [node.op_type for node in model.graph.node if node.op_type != "Identity"] == operators
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    for first in (arrays[0], arrays[0][:1]):
        feed = dict(zip(names, [first, *arrays[1:]], strict=True))
        got = session.run(None, feed)[0]
        with portable_ops():
            want = op(*feed.values(), **with_batch(options, first.shape[0]))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=op.name)


def with_batch(options, n):
    """`options` with the unknown batch of an ``out_shape`` (None) set to `n`."""
    if "out_shape" not in options:
        return options
    return {**options, "out_shape": (n, *options["out_shape"][1:])}


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_every_operation_with_an_ndonnx_native_is_tested_here():
    with_native = sorted(name for name, op in OPERATIONS.items() if "ndonnx" in op.natives)
    assert with_native == sorted(["conv2d", "col2im_matmul", "max_pool2d", "avg_pool2d",
                                  "linear", "softmax", "log_softmax"])


@pytest.mark.parametrize(("shape", "f", "kh", "kw", "stride", "dilation", "pads"),
                         [((3, 2, 6, 6), 4, 3, 3, 1, 1, (1, 1, 1, 1)),
                          ((2, 3, 7, 6), 2, 2, 3, 2, 1, (0, 1, 2, 0)),
                          ((2, 1, 9, 8), 3, 3, 2, 1, 2, (0, 0, 0, 0))])
def test_conv2d_is_one_conv(shape, f, kh, kw, stride, dilation, pads):
    run_on_ndonnx(conv2d, [floats(*shape), floats(f, shape[1], kh, kw), floats(f)], ["Conv"],
                  stride=stride, dilation=dilation, pads=pads)


@pytest.mark.parametrize(("g_shape", "b", "kh", "kw", "stride", "dilation", "extra"),
                         [((2, 3, 3, 3), 2, 3, 3, 1, 1, 0), ((2, 2, 2, 3), 3, 2, 3, 2, 1, 0),
                          ((3, 1, 3, 2), 2, 2, 2, 2, 2, 2)])
def test_col2im_matmul_is_one_conv_transpose(g_shape, b, kh, kw, stride, dilation, extra):
    n, a, h, w = g_shape
    full = (stride * (h - 1) + dilation * (kh - 1) + 1, stride * (w - 1) + dilation * (kw - 1) + 1)
    out_shape = (None, b, full[0] + extra, full[1] + extra)
    run_on_ndonnx(col2im_matmul, [floats(*g_shape), floats(a, b, kh, kw)],
                  ["ConvTranspose"] + (["Constant", "Pad"] if extra else []), stride=stride,
                  dilation=dilation, out_shape=out_shape)


@pytest.mark.parametrize(("shape", "size", "stride"),
                         [((3, 2, 6, 6), (2, 2), 2), ((2, 3, 7, 5), (3, 2), 1)])
def test_pooling_is_one_max_pool_or_average_pool(shape, size, stride):
    run_on_ndonnx(max_pool2d, [floats(*shape)], ["MaxPool"], size=size, stride=stride)
    run_on_ndonnx(avg_pool2d, [floats(*shape)], ["AveragePool"], size=size, stride=stride)


def test_linear_is_one_gemm_or_a_matmul_and_an_add():
    run_on_ndonnx(linear, [floats(5, 4), floats(3, 4), floats(3)], ["Gemm"])
    run_on_ndonnx(linear, [floats(2, 6, 4), floats(3, 4), floats(3)],
                  ["Transpose", "MatMul", "Add"])


@pytest.mark.parametrize("axis", [1, -1])
def test_softmax_and_log_softmax_are_one_operator_each(axis):
    logits = floats(3, 4, 5) * 30
    run_on_ndonnx(softmax, [logits], ["Softmax"], axis=axis)
    run_on_ndonnx(log_softmax, [logits], ["LogSoftmax"], axis=axis)
