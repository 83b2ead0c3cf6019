"""Parameter: data, gradient, name, trainable, and moving between backends."""

import numpy as np
import pytest

import tinyml
from tinyml import Parameter
from tinyml.backend import make_backend
from tinyml.testing import assert_close


def test_gradient_starts_at_zero_next_to_the_data(backend32):
    parameter = Parameter(tinyml.asarray(np.ones((2, 3))), name="weight")
    assert_close(parameter.grad, np.zeros((2, 3)), backend=backend32)
    assert parameter.shape == (2, 3) and parameter.size == 6 and parameter.trainable
    assert "weight" in repr(parameter)


def test_zero_grad_clears_what_backward_added(backend):
    parameter = Parameter(tinyml.asarray(np.ones(3)))
    parameter.grad += tinyml.asarray(np.arange(3.0))
    parameter.zero_grad()
    assert_close(parameter.grad, np.zeros(3), backend=backend)


def test_to_moves_data_and_gradient_and_casts(backend):
    parameter = Parameter(tinyml.asarray(np.arange(4.0)))
    parameter.grad += tinyml.asarray(np.ones(4))
    target = make_backend("array_api_strict", device="device2", dtype="float32")
    assert parameter.to(target) is parameter
    assert_close(parameter.data, np.arange(4.0), backend=target)
    assert_close(parameter.grad, np.ones(4), backend=target)


def test_data_must_be_an_array():
    with pytest.raises(TypeError, match="parameter data must be an array; got list"):
        Parameter([1.0, 2.0])


def test_zero_grad_follows_data_that_was_replaced(backend):
    parameter = Parameter(tinyml.asarray(np.ones(3)))
    parameter.data = tinyml.asarray(np.ones((2, 2)), dtype="float32")
    parameter.zero_grad()
    assert_close(parameter.grad, np.zeros((2, 2)),
                 backend=tinyml.backend.resolve_backend(backend, dtype="float32"))
