"""Run a backend operation on both of its paths and compare: the helpers of the ops tests."""

from tinyml.backend import portable_ops, to_numpy
from tinyml.testing import assert_close

# The natives each operation registers. Every operation in ops.OPERATIONS is listed, so a new
# operation (or a native added or dropped) fails test_natives_are_the_documented_ones until
# this table, and with it the both-path tests, cover it. The ndonnx natives build ONNX
# graphs: tests/test_onnx_ops.py runs them in onnxruntime against the portable paths.
NATIVES = {
    "scatter_add": {"numpy", "torch", "cupy"},
    "im2col": {"numpy", "torch", "cupy"},
    "col2im_matmul": {"numpy", "torch", "cupy", "ndonnx"},
    "conv2d": {"numpy", "torch", "ndonnx"},
    "conv2d_backward": {"numpy", "torch"},
    "conv_transpose2d": {"numpy", "torch"},
    "conv_transpose2d_backward": {"numpy", "torch"},
    "max_pool2d": {"numpy", "torch", "ndonnx"},
    "avg_pool2d": {"numpy", "torch", "ndonnx"},
    "avg_pool2d_backward": {"numpy", "torch"},
    "linear": {"ndonnx", "torch"},
    "softmax": {"ndonnx"},
    "log_softmax": {"ndonnx"},
    "max_pool2d_forward": {"numpy", "torch"},
    "max_pool2d_backward": {"numpy", "torch"},
    "recurrence": {"ndonnx"},
    "concat_steps": {"numpy", "torch"},
    "bag_scatter_add": {"numpy"},
    "activation": {"numpy", "torch"},
    "moment_sums": {"numpy"},
    "normalize": {"torch"},
    "linear_backward": {"torch"},
    "sgd_step": {"torch"},
    "zero_arrays": {"torch"},
}


def run_both(backend, op, *args, **kwargs):
    """(result on the default path, result with the portable path forced), checking that the
    default path is the backend's native where one is registered."""
    native_name = backend.name if backend.name in NATIVES[op.name] else "portable"
    assert op.implementation_for(args[0]) == native_name
    native = op(*args, **kwargs)
    with portable_ops():
        assert op.implementation_for(args[0]) == "portable"
        portable = op(*args, **kwargs)
    return native, portable


def check_both(backend, expected, op, *args, **kwargs):
    """Both paths equal the reference, live on the backend, and agree with each other to
    rounding (1e-12 in float64)."""
    native, portable = run_both(backend, op, *args, **kwargs)
    assert_close(portable, expected, backend=backend, err_msg=f"{op.name} portable")
    assert_close(native, expected, backend=backend, err_msg=f"{op.name} default path")
    assert_close(native, to_numpy(portable), backend=backend, rtol=1e-12, atol=1e-12,
                 err_msg=f"{op.name}: native and portable differ")


def check_tuples(backend, expected, op, *args, **kwargs):
    """check_both for an operation that returns a tuple of arrays (None where `expected`
    has None)."""
    native, portable = run_both(backend, op, *args, **kwargs)
    for index, want in enumerate(expected):
        if want is None:
            assert native[index] is None and portable[index] is None
            continue
        where = f"{op.name}[{index}]"
        assert_close(portable[index], want, backend=backend, err_msg=f"{where} portable")
        assert_close(native[index], want, backend=backend, err_msg=f"{where} default path")
        assert_close(native[index], to_numpy(portable[index]), backend=backend, rtol=1e-12,
                     atol=1e-12, err_msg=f"{where}: native and portable differ")
    return native, portable
