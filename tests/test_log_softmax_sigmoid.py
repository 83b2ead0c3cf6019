"""LogSoftmax and Sigmoid: forward against loop references, backward against finite
differences, the closed forms and PyTorch, numerical stability, and errors."""

import math
import warnings

import numpy as np
import pytest

import tinyml
from tinyml.layers import LogSoftmax, Sigmoid
from tinyml.testing import assert_close, check_layer_gradients

RNG = np.random.default_rng(3)
MIXED = np.array([[-2.0, -0.5, 0.25, 3.0], [1.5, -1e-3, 2e-3, -7.0]])


def log_softmax_reference(x, axis=1):
    """x_k - log sum_j exp(x_j), one slice at a time, the sum taken with math.fsum."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    y = np.zeros_like(x)
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        top = max(row)
        log_total = top + math.log(math.fsum(math.exp(v - top) for v in row))
        y[index] = [v - log_total for v in row]
    return np.moveaxis(y, -1, axis)


def sigmoid_reference(x):
    """1 / (1 + e^-x) element by element, in whichever form does not overflow."""
    def one(v):
        return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
    return np.array([one(v) for v in np.ravel(x)]).reshape(np.shape(x))


# ---------------------------------------------------------------- LogSoftmax
def test_log_softmax_defaults():
    layer = LogSoftmax()
    assert layer.name == "log_softmax" and layer.axis == 1


@pytest.mark.parametrize(("shape", "axis"), [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                             ((2, 3, 4), 1), ((2, 3, 4), -1)])
def test_log_softmax_forward_matches_reference(backend, shape, axis):
    x = RNG.standard_normal(shape) * 3
    y = LogSoftmax("log_softmax", axis=axis).forward(tinyml.asarray(x))
    assert_close(y, log_softmax_reference(x, axis), backend=backend)
    np.testing.assert_allclose(np.exp(tinyml.to_numpy(y)).sum(axis=axis), 1.0, rtol=1e-12)


def test_log_softmax_stays_finite_for_huge_logits(backend):
    logits = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0], [1e4, 1e4, 1e4]])
    layer = LogSoftmax("log_softmax")
    y = layer.forward(tinyml.asarray(logits))
    assert_close(y, log_softmax_reference(logits), backend=backend)
    assert abs(tinyml.to_numpy(y)[0, 2] - (-2000.0 - math.log1p(math.exp(-1.0)))) < 1e-9
    dx = tinyml.to_numpy(layer.backward(tinyml.asarray(np.ones(logits.shape))))
    assert np.isfinite(dx).all()


@pytest.mark.parametrize(("shape", "axis"), [((3, 4), 1), ((2, 3, 2), 0), ((2, 2, 3), -1)])
def test_log_softmax_backward_matches_finite_differences(backend, shape, axis):
    check_layer_gradients(LogSoftmax("log_softmax", axis=axis), RNG.standard_normal(shape),
                          backend=backend)


def test_log_softmax_backward_is_the_jacobian_product(backend):
    x, g = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    layer = LogSoftmax("log_softmax")
    layer.forward(tinyml.asarray(x))
    p = np.exp(log_softmax_reference(x))
    jacobians = [np.eye(3) - np.outer(np.ones(3), row) for row in p]  # d y_k / d x_j
    expected = np.stack([jac.T @ gi for jac, gi in zip(jacobians, g, strict=True)])
    assert_close(layer.backward(tinyml.asarray(g)), expected, backend=backend)


@pytest.mark.parametrize("axis", [1, 0, -1])
def test_log_softmax_matches_torch(backend, axis):
    torch = pytest.importorskip("torch")
    x, g = RNG.standard_normal((3, 4)) * 4, RNG.standard_normal((3, 4))
    layer = LogSoftmax("log_softmax", axis=axis)
    y = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.log_softmax(xt, dim=axis)
    yt.backward(torch.tensor(g))
    assert_close(y, yt.detach().numpy(), backend=backend, err_msg="output")
    assert_close(dx, xt.grad.numpy(), backend=backend, err_msg="input gradient")


def test_log_softmax_float32_stays_float32(backend32):
    layer = LogSoftmax("log_softmax")
    assert_close(layer.forward(tinyml.asarray(MIXED)), log_softmax_reference(MIXED),
                 backend=backend32)
    assert layer.backward(tinyml.asarray(np.ones(MIXED.shape))).dtype == backend32.dtype


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        # axis's bad values: tests/test_declared_arguments.py
        ({"name": ""}, TypeError, r"name must be a non-empty string"),
    ],
)
def test_log_softmax_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LogSoftmax(**kwargs)


@pytest.mark.parametrize("axis", [2, -3])
def test_log_softmax_axis_out_of_range(backend, axis):
    with pytest.raises(ValueError, match=rf"LogSoftmax 'ls': axis {axis} is out of range for "
                                         r"an input of shape \(2, 3\)"):
        LogSoftmax("ls", axis=axis).forward(tinyml.asarray(np.zeros((2, 3))))


def test_log_softmax_is_not_a_softmax():
    """The fusion table picks rows by layer class: LogSoftmax must not pass for Softmax."""
    assert not isinstance(LogSoftmax(), tinyml.layers.Softmax)


# ---------------------------------------------------------------- Sigmoid
@pytest.mark.parametrize("shape", [(2, 4), (1, 2, 3, 3)])
def test_sigmoid_forward_matches_reference(backend, shape):
    x = RNG.standard_normal(shape) * 4
    assert_close(Sigmoid("sigmoid").forward(tinyml.asarray(x)), sigmoid_reference(x),
                 backend=backend)


def test_sigmoid_does_not_overflow_for_large_inputs(backend):
    x = np.array([[-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0]])
    layer = Sigmoid("sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn on NumPy
        y = layer.forward(tinyml.asarray(x))
        dx = layer.backward(tinyml.asarray(np.ones(x.shape)))
    assert_close(y, sigmoid_reference(x), backend=backend, atol=0.0)
    assert tinyml.to_numpy(y)[0, 2] == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert np.isfinite(tinyml.to_numpy(dx)).all()
    assert tinyml.to_numpy(dx)[0, 3] == 0.25


def test_sigmoid_backward_matches_finite_differences(backend):
    check_layer_gradients(Sigmoid("sigmoid"), RNG.standard_normal((2, 3, 2)) * 3,
                          backend=backend)


def test_sigmoid_backward_is_y_times_one_minus_y(backend):
    x, g = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    layer = Sigmoid("sigmoid")
    layer.forward(tinyml.asarray(x))
    y = sigmoid_reference(x)
    assert_close(layer.backward(tinyml.asarray(g)), g * y * (1 - y), backend=backend)


def test_sigmoid_matches_torch(backend):
    torch = pytest.importorskip("torch")
    x, g = RNG.standard_normal((3, 5)) * 6, RNG.standard_normal((3, 5))
    layer = Sigmoid("sigmoid")
    y = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.sigmoid(xt)
    yt.backward(torch.tensor(g))
    assert_close(y, yt.detach().numpy(), backend=backend, err_msg="output")
    assert_close(dx, xt.grad.numpy(), backend=backend, err_msg="input gradient")


def test_sigmoid_float32_stays_float32(backend32):
    layer = Sigmoid("sigmoid")
    assert_close(layer.forward(tinyml.asarray(MIXED)), sigmoid_reference(MIXED),
                 backend=backend32)
    assert layer.backward(tinyml.asarray(np.ones(MIXED.shape))).dtype == backend32.dtype


def test_sigmoid_needs_a_name():
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        Sigmoid("")


# ---------------------------------------------------------------- both
@pytest.mark.parametrize("make", [lambda: LogSoftmax("act"), lambda: Sigmoid("act")],
                         ids=["LogSoftmax", "Sigmoid"])
def test_refuses_integer_input_and_a_gradient_from_elsewhere(make):
    layer = make()
    kind = type(layer).__name__
    with pytest.raises(TypeError, match=rf"{kind} 'act' expects floating-point input"):
        layer.forward(np.ones((2, 3), dtype=np.int64))
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        layer.forward(tinyml.asarray(MIXED))
    with pytest.raises(TypeError, match=rf"{kind} 'act': .* lives on array_api_strict .* but "
                                        r"in_gradient lives on numpy"):
        layer.backward(np.ones(MIXED.shape))


@pytest.mark.parametrize("make", [lambda: LogSoftmax("act"), lambda: Sigmoid("act")],
                         ids=["LogSoftmax", "Sigmoid"])
def test_no_grad_keeps_no_record(backend, make):
    layer = make().eval()
    with tinyml.no_grad():
        layer.forward(tinyml.asarray(MIXED))
    assert layer.pending_records == 0
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        layer.backward(tinyml.asarray(np.ones(MIXED.shape)))
