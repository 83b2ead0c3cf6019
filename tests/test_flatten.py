"""Flatten: row-major (N, ...) -> (N, features), its exact inverse in backward, and errors."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import Flatten
from tinyml.testing import assert_close, check_layer_gradients


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (3, 4, 2), (2, 5)])
def test_forward_matches_reference_and_backward_inverts_it(backend, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    layer = Flatten("flat")
    y = layer.forward(tinyml.asarray(x))
    assert_close(y, reference.flatten(x), backend=backend)
    assert_close(layer.backward(y), x, backend=backend)  # round trip


def test_channels_stay_contiguous_like_torch_flatten(backend):
    x = np.arange(2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 3)
    y = tinyml.to_numpy(Flatten("flat").forward(tinyml.asarray(x)))
    np.testing.assert_array_equal(y[1, :6], x[1, 0].ravel())  # channel 0's pixels come first
    np.testing.assert_array_equal(y[1, 6:], x[1, 1].ravel())


def test_backward_matches_finite_differences(backend):
    check_layer_gradients(Flatten("flat"), np.ones((2, 2, 3)), backend=backend)


def test_float32_stays_float32(backend32):
    layer = Flatten("flat")
    x = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    assert_close(layer.forward(tinyml.asarray(x)), x.reshape(2, 12), backend=backend32)
    assert layer.backward(tinyml.asarray(np.ones((2, 12)))).dtype == backend32.dtype


def test_output_shape_with_unknown_extents():
    layer = Flatten("flat")
    assert layer.output_shape((None, 3, 4, 5)) == (None, 60)
    assert layer.output_shape((7, None, 4)) == (7, None)


@pytest.mark.parametrize("shape", [(5,), ()])
def test_needs_a_batch_axis_and_one_more(backend, shape):
    with pytest.raises(ValueError, match=r"Flatten 'flat' expects input of shape \(batch, \.\.\.\) "
                                         r"with at least 2 dimensions; got \("):
        Flatten("flat").forward(tinyml.asarray(np.zeros(shape)))


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_name(name):
    with pytest.raises(TypeError, match="a layer's name must be a non-empty string"):
        Flatten(name)
