"""ReLu and Softmax: the gradient at ReLu's kink, Softmax's defaults, numerical stability and
errors (their configurations, PyTorch twins and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import ReLU, ReLu, Softmax
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- ReLu
def test_relu_alias():
    assert ReLU is ReLu


def test_relu_gradient_is_one_for_positive_and_zero_otherwise(backend):
    layer = ReLu("relu")
    x = np.array([[-3.0, -1e-8, 0.0, 1e-8, 2.0]])
    assert_close(layer.forward(tinyml.asarray(x)), np.array([[0.0, 0.0, 0.0, 1e-8, 2.0]]),
                 backend=backend)
    dx = layer.backward(tinyml.asarray(np.array([[5.0, 5.0, 5.0, 5.0, -5.0]])))
    assert_close(dx, np.array([[0.0, 0.0, 0.0, 5.0, -5.0]]), backend=backend)  # 0 at x = 0


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


# ---------------------------------------------------------------- both
