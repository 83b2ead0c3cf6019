"""Dropout: inverted dropout with the DROP probability, seeded masks, identity in eval mode."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Dropout
from tinyml.testing import assert_close

X = np.random.default_rng(0).uniform(0.5, 2.0, (4, 6))  # no zeros: a zero output means dropped


def test_eval_mode_is_the_identity(backend):
    layer = Dropout("drop", 0.5).eval()
    assert not layer.training
    assert_close(layer.forward(tinyml.asarray(X)), X, backend=backend)
    assert_close(layer.backward(tinyml.asarray(2 * X)), 2 * X, backend=backend)
    assert layer.train().training  # and back: now it drops
    assert (tinyml.to_numpy(layer.forward(tinyml.asarray(X))) == 0).any()


def test_probability_zero_is_the_identity_while_training(backend):
    layer = Dropout("drop", 0.0)
    assert_close(layer.forward(tinyml.asarray(X)), X, backend=backend)
    assert_close(layer.backward(tinyml.asarray(X)), X, backend=backend)


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_drop_rate_and_scaling(backend, p):
    x = np.ones((200, 500))
    y = tinyml.to_numpy(Dropout("drop", p).forward(tinyml.asarray(x)))
    dropped = np.mean(y == 0)
    assert abs(dropped - p) < 0.01  # 100 000 draws: the standard error is below 0.0015
    np.testing.assert_allclose(y[y != 0], 1.0 / (1.0 - p), rtol=1e-12)  # survivors scaled


def test_same_seed_same_mask_and_a_fresh_mask_each_call(backend):
    layer = Dropout("drop", 0.5)
    x = tinyml.asarray(np.ones((8, 64)))
    tinyml.seed(7)
    first, second = tinyml.to_numpy(layer.forward(x)), tinyml.to_numpy(layer.forward(x))
    tinyml.seed(7)
    again = tinyml.to_numpy(layer.forward(x))
    tinyml.seed(8)
    other = tinyml.to_numpy(layer.forward(x))
    np.testing.assert_array_equal(first, again)
    assert (first != second).any() and (first != other).any()


def test_backward_uses_the_forward_mask(backend):
    p = 0.4
    layer = Dropout("drop", p)
    y = tinyml.to_numpy(layer.forward(tinyml.asarray(X)))
    kept = y != 0
    assert kept.any() and not kept.all()
    np.testing.assert_allclose(y[kept], X[kept] / (1 - p), rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(X.shape)
    assert_close(layer.backward(tinyml.asarray(g)), g * kept / (1 - p), backend=backend)


# the probability's bad values: tests/test_declared_arguments.py; check_layer and float32: the
# contract (the mask in backward: test_backward_uses_the_forward_mask)


def test_mask_is_drawn_on_the_input_device():
    """(A gradient from elsewhere is refused: test_layer_contract.py.)"""
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64") as strict:
        y = Dropout("drop", 0.5).forward(tinyml.asarray(X))
    assert_close(y, tinyml.to_numpy(y), backend=strict)


def test_numpy_scalar_probability_is_fine():
    layer = Dropout("drop", np.float32(0.25))
    assert layer.probability == 0.25 and type(layer.probability) is float
