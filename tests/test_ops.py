"""Backend operations: every operation on both paths (native where registered, portable forced)
gives the same numbers on every backend; the switch that forces the portable path; bad input."""

import threading

import numpy as np
import pytest
import recurrent_reference
import reference
from ops_paths import NATIVES, check_both, run_both

import tinyml
from tinyml.backend import ops, portable_ops, to_numpy
from tinyml.backend.ops import (
    _registry,
    avg_pool2d,
    col2im_matmul,
    conv2d,
    im2col,
    linear,
    log_softmax,
    max_pool2d,
    recurrence,
    scatter_add,
    softmax,
)
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """These tests expect natives by default, also in a run under TINYML_PORTABLE_OPS=1
    (which the rest of the suite honours, to run every layer on the portable paths)."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


def test_natives_are_the_documented_ones():
    assert set(ops.OPERATIONS) == set(NATIVES)
    for name, op in ops.OPERATIONS.items():
        assert set(op.natives) == NATIVES[name], name


# ---------------------------------------------------------------------------- scatter_add
def loop_scatter_add(indices, values, num_rows):
    out = np.zeros((num_rows, *values.shape[1:]), dtype=values.dtype)
    for i, row in enumerate(indices):
        out[row] += values[i]
    return out


@pytest.mark.parametrize(
    ("n", "num_rows", "row_shape"),
    [(200, 5, (3,)),        # about 40 repeats of each index
     (37, 1, (2,)),         # every index the same, a run that is not a power of two
     (30, 100, (4,)),       # most rows untouched
     (50, 7, ()),           # values (N,)
     (24, 6, (2, 3)),       # values (N, 2, 3)
     (1, 3, (2,))],
)
def test_scatter_add_accumulates_repeated_indices(backend, n, num_rows, row_shape):
    indices = RNG.integers(0, num_rows, size=n)
    values = RNG.standard_normal((n, *row_shape))
    check_both(backend, loop_scatter_add(indices, values, num_rows), scatter_add,
               tinyml.asarray(indices), tinyml.asarray(values), num_rows)


def test_scatter_add_sorted_runs_and_int32_indices(backend):
    indices = np.repeat(np.arange(9, dtype=np.int32), [1, 0, 5, 17, 2, 0, 33, 1, 8])
    values = RNG.standard_normal((indices.shape[0], 3))
    check_both(backend, loop_scatter_add(indices, values, 10), scatter_add,
               backend.asarray(indices), tinyml.asarray(values), 10)


def test_scatter_add_keeps_float32(backend32):
    indices = RNG.integers(0, 4, size=64)
    values = RNG.standard_normal((64, 5)).astype(np.float32)
    native, portable = run_both(backend32, scatter_add, tinyml.asarray(indices),
                                tinyml.asarray(values), 4)
    expected = loop_scatter_add(indices, values.astype(np.float64), 4)
    assert_close(native, expected, backend=backend32)
    assert_close(portable, expected, backend=backend32)


def test_scatter_add_of_integers_is_exact(backend):
    indices = RNG.integers(0, 6, size=80)
    values = RNG.integers(-50, 50, size=(80, 2))
    native, portable = run_both(backend, scatter_add, tinyml.asarray(indices),
                                tinyml.asarray(values), 6)
    expected = loop_scatter_add(indices, values, 6)
    np.testing.assert_array_equal(to_numpy(native), expected)
    np.testing.assert_array_equal(to_numpy(portable), expected)


def test_scatter_add_of_no_rows_is_zeros(backend):
    indices = backend.asarray(np.zeros(0, dtype=np.int64))
    values = tinyml.asarray(np.zeros((0, 3)))
    check_both(backend, np.zeros((4, 3)), scatter_add, indices, values, 4)


def test_scatter_add_keeps_an_infinite_row_to_itself(backend):
    """A non-finite value stays in its own row on both paths (no 0 * inf leaks elsewhere)."""
    indices = np.array([2, 0, 2, 1, 0])
    values = np.array([[1.0], [np.inf], [2.0], [3.0], [4.0]])
    native, portable = run_both(backend, scatter_add, tinyml.asarray(indices),
                                tinyml.asarray(values), 4)
    for out in (native, portable):
        np.testing.assert_array_equal(to_numpy(out), [[np.inf], [3.0], [3.0], [0.0]])


@pytest.mark.parametrize(
    ("indices", "values", "num_rows", "error", "match"),
    [(np.array([0.0, 1.0]), np.ones((2, 3)), 2, TypeError,
      r"integer indices; got dtype \S*float64\. Cast them"),
     (np.zeros((2, 2), dtype=np.int64), np.ones((4, 3)), 2, ValueError,
      r"indices of shape \(N,\); got shape \(2, 2\)\. Flatten"),
     (np.zeros(3, dtype=np.int64), np.ones((2, 3)), 2, ValueError,
      r"values of shape \(N, \.\.\.\) with N = 3, one row per index; got shape \(2, 3\)"),
     (np.zeros(2, dtype=np.int64), np.ones((2,)), 0, ValueError,
      "num_rows must be a positive int; got 0"),
     (np.zeros(2, dtype=np.int64), np.ones((2,)), 2.0, TypeError,
      "num_rows must be an int; got 2.0"),
     (np.zeros(2, dtype=np.int64), np.ones((2,)), True, TypeError,
      "num_rows must be an int; got True")],
)
def test_scatter_add_refuses_bad_input(backend, indices, values, num_rows, error, match):
    with pytest.raises(error, match=match):
        scatter_add(backend.asarray(indices), tinyml.asarray(values), num_rows)


def test_scatter_add_refuses_two_libraries():
    strict = tinyml.backend.make_backend("array_api_strict", dtype="float64")
    with pytest.raises(TypeError, match="scatter_add: values lives on array_api_strict"):
        scatter_add(np.zeros(2, dtype=np.int64), strict.asarray(np.ones(2)), 2)


# ---------------------------------------------------------------------------- windows
def laid_out(backend, x, layout):
    """`x` on the backend as a contiguous array, a transposed view (odd strides), or a view
    that starts inside a larger array (an offset), for the strided natives."""
    if layout == "transposed":
        swapped = backend.asarray(np.ascontiguousarray(np.swapaxes(x, 2, 3)))
        return backend.xp.permute_dims(swapped, (0, 1, 3, 2))
    if layout == "offset":
        larger = np.zeros((x.shape[0] + 1, x.shape[1] + 1, x.shape[2] + 1, x.shape[3] + 2))
        larger[1:, 1:, 1:, 2:] = x
        return backend.asarray(larger)[1:, 1:, 1:, 2:]
    return backend.asarray(x)


@pytest.mark.parametrize(
    ("shape", "kh", "kw", "stride", "dilation", "spare"),
    [((2, 3, 5, 5), 3, 3, 1, 1, 0), ((1, 2, 6, 7), 2, 3, 2, 1, 0), ((2, 1, 7, 6), 3, 2, 2, 2, 0),
     ((1, 1, 4, 4), 1, 1, 3, 1, 0), ((2, 2, 9, 8), 3, 2, 2, 1, 2)],
)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "offset"])
def test_im2col_both_paths(backend, shape, kh, kw, stride, dilation, spare, layout):
    """`spare` rows and columns lie beyond the windows' reach and must be left out."""
    x = RNG.standard_normal(shape)
    out_h = (shape[2] - spare - dilation * (kh - 1) - 1) // stride + 1
    out_w = (shape[3] - spare - dilation * (kw - 1) - 1) // stride + 1
    data = laid_out(backend, x, layout)
    check_both(backend, reference.im2col(x, kh, kw, stride, dilation, out_h, out_w), im2col,
               data, kh, kw, stride=stride, dilation=dilation, out_h=out_h, out_w=out_w,
               xp=backend.xp)


def test_im2col_of_integers_and_a_copy_not_a_view(backend):
    """Integer images take the same path numbers; a 1x1 kernel still returns a new array."""
    x = RNG.integers(-9, 9, size=(2, 3, 4, 4))
    data = backend.asarray(x)
    native, portable = run_both(backend, im2col, data, 1, 1, stride=1, dilation=1, out_h=4,
                                out_w=4)
    data[...] = 0
    for cols in (native, portable):
        np.testing.assert_array_equal(to_numpy(cols), x.reshape(2, 3, 16))


@pytest.mark.parametrize(
    ("g_shape", "b", "kh", "kw", "stride", "dilation", "extra"),
    [((2, 3, 3, 3), 2, 3, 3, 1, 1, 0), ((1, 2, 2, 3), 3, 2, 3, 2, 1, 1),
     ((2, 1, 3, 2), 2, 2, 2, 2, 2, 2), ((2, 4, 5, 5), 3, 1, 1, 1, 1, 0)],
)
def test_col2im_matmul_both_paths(backend, g_shape, b, kh, kw, stride, dilation, extra):
    n, a, h, w = g_shape
    g, weight = RNG.standard_normal(g_shape), RNG.standard_normal((a, b, kh, kw))
    full = reference.conv_transpose2d(g, weight, np.zeros(b), stride, 0, dilation)
    expected = np.zeros((n, b, full.shape[2] + extra, full.shape[3] + 2 * extra))
    expected[:, :, :full.shape[2], :full.shape[3]] = full
    check_both(backend, expected, col2im_matmul, tinyml.asarray(g), tinyml.asarray(weight),
               stride=stride, dilation=dilation, out_shape=expected.shape)


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda x: im2col(x, 3, 3, stride=1, dilation=1, out_h=4, out_w=3),
      r"im2col: 4x3 windows of a 3x3 kernel \(stride 1, dilation 1\) need an image \(N, C, H, "
      r"W\) with H, W >= \(6, 5\); got shape \(1, 2, 5, 5\)\. Pad the image"),
     (lambda x: im2col(x[0, ...], 3, 3, stride=1, dilation=1, out_h=3, out_w=3),
      r"need an image \(N, C, H, W\).*got shape \(2, 5, 5\)"),
     (lambda x: col2im_matmul(x, x, stride=1, dilation=1, out_shape=(1, 2, 9, 9)),
      r"col2im_matmul expects g \(N, A, h, w\) and weight \(A, B, kh, kw\); got shapes "
      r"\(1, 2, 5, 5\) and \(1, 2, 5, 5\)"),
     (lambda x: col2im_matmul(x[:, :1, ...], x, stride=2, dilation=1, out_shape=(1, 2, 12, 13)),
      r"out_shape must be \(1, 2, H, W\) with H, W >= \(13, 13\) for 5x5 windows of a 5x5 "
      r"kernel \(stride 2, dilation 1\); got \(1, 2, 12, 13\)")],
)
def test_window_operations_refuse_shapes_that_do_not_fit(backend, call, match):
    with pytest.raises(ValueError, match=match):
        call(tinyml.asarray(np.ones((1, 2, 5, 5))))


def test_an_operation_refuses_a_non_array():
    with pytest.raises(TypeError, match=r"im2col expects an array as its first argument; got "
                                        r"list\. Put data on the backend with tinyml.asarray"):
        im2col([[1.0]], 1, 1, stride=1, dilation=1, out_h=1, out_w=1)


# ---------------------------------------------------------------------------- layer computations
@pytest.mark.parametrize(("shape", "f", "kh", "kw", "stride", "dilation", "pads"),
                         [((2, 3, 5, 5), 4, 3, 3, 1, 1, (1, 1, 1, 1)),
                          ((1, 2, 7, 6), 3, 2, 3, 2, 1, (0, 1, 2, 0)),
                          ((2, 1, 8, 7), 2, 3, 2, 1, 2, (0, 0, 0, 0))])
def test_conv2d_both_paths(backend, shape, f, kh, kw, stride, dilation, pads):
    x, weight = RNG.standard_normal(shape), RNG.standard_normal((f, shape[1], kh, kw))
    bias = RNG.standard_normal(f)
    expected = reference.correlate2d(x, weight, bias, stride, pads, dilation)
    check_both(backend, expected, conv2d, tinyml.asarray(x), tinyml.asarray(weight),
               tinyml.asarray(bias), stride=stride, dilation=dilation, pads=pads)


@pytest.mark.parametrize(("shape", "size", "stride"),
                         [((2, 3, 6, 6), (2, 2), 2), ((1, 2, 7, 5), (3, 2), 1),
                          ((2, 1, 5, 5), (2, 2), 3)])
def test_pooling_both_paths(backend, shape, size, stride):
    x = RNG.standard_normal(shape)
    check_both(backend, reference.max_pool2d(x, *size, stride)[0], max_pool2d,
               tinyml.asarray(x), size, stride=stride)
    check_both(backend, reference.avg_pool2d(x, *size, stride), avg_pool2d, tinyml.asarray(x),
               size, stride=stride)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_linear_both_paths(backend, shape):
    x, weight, bias = (RNG.standard_normal(s) for s in (shape, (3, 4), (3,)))
    check_both(backend, x @ weight.T + bias, linear, tinyml.asarray(x), tinyml.asarray(weight),
               tinyml.asarray(bias))


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_softmax_and_log_softmax_both_paths(backend, axis):
    x = RNG.standard_normal((3, 4, 5)) * 30  # large logits: the maximum must be subtracted
    expected = reference.softmax(x, axis=axis)
    check_both(backend, expected, softmax, tinyml.asarray(x), axis=axis)
    check_both(backend, np.log(expected), log_softmax, tinyml.asarray(x), axis=axis)


REFERENCE_KINDS = {"tanh": ("RNN", {}), "relu": ("RNN", {"nonlinearity": "relu"}),
                   "lstm": ("LSTM", {}), "gru": ("GRU", {})}


@pytest.mark.parametrize("kind", ["tanh", "relu", "lstm", "gru"])
@pytest.mark.parametrize("given", [False, True])
def test_recurrence_both_paths(backend, kind, given):
    """Every step's h and the last state, from zeros (state None) or a given state, against
    the one-sample-at-a-time reference."""
    gates, hidden = recurrence_gates(kind), 3
    x = RNG.standard_normal((2, 4, 5))
    params = {"weight_ih": RNG.standard_normal((gates * hidden, 5)) * 0.5,
              "weight_hh": RNG.standard_normal((gates * hidden, hidden)) * 0.5,
              "bias_ih": RNG.standard_normal(gates * hidden) * 0.5,
              "bias_hh": RNG.standard_normal(gates * hidden) * 0.5}
    name, options = REFERENCE_KINDS[kind]
    state = None
    if given:
        state = RNG.standard_normal((2, hidden))
        state = (state, RNG.standard_normal((2, hidden))) if kind == "lstm" else state
    expected = recurrent_reference.sequence(name, x, params, initial_state=state, **options)
    on_backend = (None if state is None else
                  tuple(tinyml.asarray(s) for s in state) if kind == "lstm" else
                  tinyml.asarray(state))
    arguments = (tinyml.asarray(x), *(tinyml.asarray(params[key]) for key in (
        "weight_ih", "weight_hh", "bias_ih", "bias_hh")), on_backend)
    native, portable = run_both(backend, recurrence, *arguments, kind=kind, sequences=True)
    for outputs, last in (native, portable):
        assert_close(outputs, expected, backend=backend, err_msg=f"recurrence {kind}")
        last_h = last[0] if kind == "lstm" else last
        assert_close(last_h, expected[:, -1, :], backend=backend, err_msg=f"{kind} last h")
    _, only_last = recurrence(*arguments, kind=kind, sequences=False)
    assert_close(only_last[0] if kind == "lstm" else only_last, expected[:, -1, :],
                 backend=backend)


def recurrence_gates(kind):
    return {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}[kind]


@pytest.mark.parametrize(("kind", "state", "what"),
                         [("gru", "pair", "one array h; got a pair"),
                          ("lstm", "one", r"a pair \(h, c\); got one array")])
def test_recurrence_refuses_a_state_of_the_wrong_form(backend, kind, state, what):
    gates = recurrence_gates(kind)
    x, h = tinyml.asarray(np.ones((2, 3, 4))), tinyml.asarray(np.zeros((2, 2)))
    weights = [tinyml.asarray(np.ones(shape)) for shape in
               ((gates * 2, 4), (gates * 2, 2), (gates * 2,), (gates * 2,))]
    with pytest.raises(TypeError, match=rf"recurrence \({kind}\): state must be None \(zeros\), "
                                        rf"{what}"):
        recurrence(x, *weights, (h, h) if state == "pair" else h, kind=kind, sequences=True)


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda x: conv2d(x, x, x[0, 0, 0, :2], stride=1, dilation=1, pads=0),
      r"conv2d expects x \(N, C, H, W\), weight \(F, C, kh, kw\) and bias \(F,\)"),
     (lambda x: max_pool2d(x, (6, 2), stride=1),
      r"pooling over \(6, 2\) windows expects an image \(N, C, H, W\) at least that large"),
     (lambda x: linear(x[0, 0, ...], x[0, 0, ...], x[0, 0, 0, :2]),
      r"linear expects x \(\.\.\., in\), weight \(out, in\) and bias \(out,\)"),
     (lambda x: softmax(x, axis=4), r"softmax: axis must be an int in \[-4, 4\)"),
     (lambda x: recurrence(x[0, ...], x[0, 0, :4, :], x[0, 0, :4, :2], x[0, 0, 0, :4],
                           x[0, 0, 0, :4], None, kind="lstm", sequences=True),
      r"recurrence \(lstm, 4 gates\) expects x \(N, T, F\), weight_ih \(G H, F\), weight_hh "
      r"\(G H, H\) and biases \(G H,\) with G = 4; got shapes \(2, 5, 5\), \(4, 5\), "
      r"\(4, 2\), \(4,\) and \(4,\)"),
     (lambda x: recurrence(x[0, ...], x[0, 0, ...], x[0, 0, ...], x[0, 0, 0, :], x[0, 0, 0, :],
                           None, kind="elman", sequences=True),
      r"recurrence: kind must be one of \['gru', 'lstm', 'relu', 'tanh'\]; got 'elman'")],
)
def test_layer_computations_refuse_shapes_that_do_not_fit(backend, call, match):
    with pytest.raises(ValueError, match=match):
        call(tinyml.asarray(np.ones((1, 2, 5, 5))))


# ---------------------------------------------------------------------------- the switch
def test_portable_ops_holds_inside_the_block_and_nests():
    x = np.ones(3)
    assert scatter_add.implementation_for(x) == "numpy"
    with portable_ops():
        assert scatter_add.implementation_for(x) == "portable"
        with portable_ops(False):
            assert scatter_add.implementation_for(x) == "numpy"
        assert scatter_add.implementation_for("numpy") == "portable"
    assert scatter_add.implementation_for(x) == "numpy"
    assert scatter_add.implementation_for("array_api_strict") == "portable"  # no native


def test_portable_ops_is_per_thread():
    """One thread inside portable_ops() does not change what another thread runs."""
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def forcing():
        with portable_ops():
            inside.set()
            checked.wait(timeout=10)
            seen["forcing thread"] = scatter_add.implementation_for("numpy")

    thread = threading.Thread(target=forcing)
    thread.start()
    assert inside.wait(timeout=10)
    seen["other thread"] = scatter_add.implementation_for("numpy")
    checked.set()
    thread.join(timeout=10)
    assert seen == {"forcing thread": "portable", "other thread": "numpy"}


@pytest.fixture
def fresh_env(monkeypatch):
    """Forget the cached $TINYML_PORTABLE_OPS, so the next operation reads it again."""
    monkeypatch.setattr(_registry, "_env", {})
    return monkeypatch


def test_environment_variable_forces_portable_and_is_read_once(fresh_env):
    fresh_env.setenv("TINYML_PORTABLE_OPS", "1")
    assert scatter_add.implementation_for("numpy") == "portable"
    fresh_env.setenv("TINYML_PORTABLE_OPS", "0")
    assert scatter_add.implementation_for("numpy") == "portable"  # read once, at first use
    with portable_ops(False):
        assert scatter_add.implementation_for("numpy") == "numpy"


def test_environment_variable_zero_or_unset_keeps_natives(fresh_env):
    fresh_env.setenv("TINYML_PORTABLE_OPS", "0")
    assert im2col.implementation_for("torch") == "torch"


def test_bad_environment_variable_says_what_to_set(fresh_env):
    fresh_env.setenv("TINYML_PORTABLE_OPS", "yes")
    with pytest.raises(ValueError, match=r"TINYML_PORTABLE_OPS='yes': expected 1 .* or 0\. "
                                         "Set it to 1 or 0, or unset it"):
        scatter_add(np.zeros(1, dtype=np.int64), np.ones(1), 1)


# ---------------------------------------------------------------------------- the mechanism
def test_an_operation_checks_then_dispatches_and_hands_down_xp():
    calls = []

    def portable(x, *, scale, xp):
        calls.append(("portable", xp))
        return x * scale

    def check(x, *, scale, xp=None):
        if scale < 0:
            raise ValueError("scale must be >= 0")

    double = _registry.Operation("double", portable, check=check)

    @double.register("numpy")
    def native(x, *, scale, xp):
        calls.append(("numpy", xp))
        return x * scale

    strict = tinyml.backend.make_backend("array_api_strict")
    np.testing.assert_array_equal(double(np.ones(2), scale=2), [2.0, 2.0])
    double(strict.asarray(np.ones(2)), scale=2, xp=None)
    assert [name for name, _ in calls] == ["numpy", "portable"]
    assert calls[1][1] is strict.xp
    with pytest.raises(ValueError, match="scale must be >= 0"):
        double(np.ones(2), scale=-1)
    assert len(calls) == 2
    assert repr(double) == "<backend operation 'double'; natives: numpy>"
    assert double.__doc__ is None and scatter_add.__doc__.startswith("Sum ``values[i]``")
