"""ReLu and Softmax: check_layer with loop references, the closed forms of backward, numerical
stability, and errors (float32 and the rest of the contract: test_layer_contract.py)."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import ReLU, ReLu, Softmax
from tinyml.testing import assert_close, check_layer

RNG = np.random.default_rng(0)
MIXED = np.array([[-2.0, -0.5, 0.25, 3.0], [1.5, -1e-3, 2e-3, -7.0]])


def away_from_zero(shape, seed=0):
    """Random values of both signs with |x| >= 0.1, so ReLu's kink is never crossed."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


# ---------------------------------------------------------------- ReLu
def test_relu_alias():
    assert ReLU is ReLu


@pytest.mark.parametrize("shape", [(2, 4), (1, 2, 3, 3), (2, 3, 2)])
def test_relu_check_layer(backend, shape):
    check_layer(ReLu("relu"), away_from_zero(shape), reference=lambda x, p: reference.relu(x))


def test_relu_gradient_is_one_for_positive_and_zero_otherwise(backend):
    layer = ReLu("relu")
    x = np.array([[-3.0, -1e-8, 0.0, 1e-8, 2.0]])
    assert_close(layer.forward(tinyml.asarray(x)), np.array([[0.0, 0.0, 0.0, 1e-8, 2.0]]),
                 backend=backend)
    dx = layer.backward(tinyml.asarray(np.array([[5.0, 5.0, 5.0, 5.0, -5.0]])))
    assert_close(dx, np.array([[0.0, 0.0, 0.0, 5.0, -5.0]]), backend=backend)  # 0 at x = 0


# ---------------------------------------------------------------- Softmax
@pytest.mark.parametrize(("shape", "axis"), [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                             ((2, 3, 4), 1), ((2, 3, 4), -1), ((3, 4), 1),
                                             ((2, 3, 2), 0), ((2, 2, 3), -1)])
def test_softmax_check_layer(backend, shape, axis):
    x = np.random.default_rng(0).standard_normal(shape) * 3
    result = check_layer(Softmax("softmax", axis=axis), x,
                         reference=lambda x, params: reference.softmax(x, axis))
    np.testing.assert_allclose(result.output.sum(axis=axis), 1.0, rtol=1e-12)


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


def test_softmax_backward_is_the_jacobian_product(backend):
    x, g = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    layer = Softmax("softmax")
    layer.forward(tinyml.asarray(x))
    p = reference.softmax(x)
    jacobians = [np.diag(row) - np.outer(row, row) for row in p]  # dp_k/dx_j
    expected = np.stack([jac.T @ gi for jac, gi in zip(jacobians, g, strict=True)])
    assert_close(layer.backward(tinyml.asarray(g)), expected, backend=backend)


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


@pytest.mark.parametrize("make", [lambda: ReLu("act"), lambda: Softmax("act")],
                         ids=["ReLu", "Softmax"])
def test_gradient_from_another_backend_or_device_is_refused(make):
    layer = make()
    kind = type(layer).__name__
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        layer.forward(tinyml.asarray(MIXED))
    with pytest.raises(TypeError, match=rf"{kind} 'act': .* lives on array_api_strict .* but "
                                        r"in_gradient lives on numpy"):
        layer.backward(np.ones(MIXED.shape))
    with tinyml.use_backend("array_api_strict", dtype="float64"):
        g_elsewhere = tinyml.asarray(np.ones(MIXED.shape))
    with pytest.raises(ValueError, match=rf"{kind} 'act': .*device1.* but in_gradient"):
        layer.backward(g_elsewhere)
