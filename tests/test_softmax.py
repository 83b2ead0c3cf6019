"""Softmax and LogSoftmax (tinyml/layers/softmax.py): defaults, numerical stability against
math.fsum references, and errors (their configurations, PyTorch twins and the rest of the
contract: tests/layer_specs.py, test_layer_contract.py)."""

import math

import numpy as np
import pytest

import tinyml
from tinyml.layers import LogSoftmax, Softmax
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


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


# ---------------------------------------------------------------- Softmax


def test_softmax_rows_sum_to_one_and_default_name(backend):
    layer = Softmax()
    assert layer.name == "softmax" and layer.axis == 1
    y = tinyml.to_numpy(layer.forward(tinyml.asarray(RNG.standard_normal((4, 6)))))
    np.testing.assert_allclose(y.sum(axis=1), np.ones(4), rtol=1e-12)
    assert (y > 0).all()


def test_softmax_stays_finite_for_huge_logits(backend):
    logits = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0],
                       [1e4, 1e4, 1e4]])
    layer = Softmax("softmax")
    y = layer.forward(tinyml.asarray(logits))
    e = np.exp(np.array([[1.0, 0.0, -2000.0], [-1.0, -2.0, 0.0], [0.0, 0.0, 0.0]]))
    assert_close(y, e / e.sum(axis=1, keepdims=True), backend=backend)
    dx = tinyml.to_numpy(layer.backward(tinyml.asarray(np.ones(logits.shape))))
    assert np.isfinite(dx).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        # axis's bad values: tests/test_declared_arguments.py
        ({"name": ""}, TypeError, r"name must be a non-empty string"),
    ],
)
def test_softmax_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Softmax(**kwargs)


@pytest.mark.parametrize("axis", [2, -3])
def test_softmax_axis_out_of_range(backend, axis):
    with pytest.raises(ValueError, match=rf"Softmax 'softmax': axis {axis} is out of range for "
                                         r"an input of shape \(2, 3\)"):
        Softmax("softmax", axis=axis).forward(tinyml.asarray(np.zeros((2, 3))))


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
