"""LogSoftmax and Sigmoid: defaults, numerical stability against math.fsum references, and
errors (their configurations, PyTorch twins and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py)."""

import math
import warnings

import numpy as np
import pytest

import tinyml
from tinyml.layers import LogSoftmax, Sigmoid
from tinyml.testing import assert_close


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


def test_log_softmax_stays_finite_for_huge_logits(backend):
    logits = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0], [1e4, 1e4, 1e4]])
    layer = LogSoftmax("log_softmax")
    y = layer.forward(tinyml.asarray(logits))
    assert_close(y, log_softmax_reference(logits), backend=backend)
    assert abs(tinyml.to_numpy(y)[0, 2] - (-2000.0 - math.log1p(math.exp(-1.0)))) < 1e-9
    dx = tinyml.to_numpy(layer.backward(tinyml.asarray(np.ones(logits.shape))))
    assert np.isfinite(dx).all()


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


def test_sigmoid_needs_a_name():
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        Sigmoid("")


# ---------------------------------------------------------------- both
