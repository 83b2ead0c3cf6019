"""Flatten: row-major (N, ...) -> (N, features), its exact inverse in backward, and errors
(float32 and the rest of the contract: test_layer_contract.py)."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import Flatten
from tinyml.testing import check_layer


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (3, 4, 2), (2, 5)])
def test_forward_matches_reference_and_backward_inverts_it(backend, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    result = check_layer(Flatten("flat"), x, reference=lambda x, params: reference.flatten(x))
    np.testing.assert_array_equal(result.gradients["input"],  # the round trip
                                  result.in_gradient.reshape(shape))


def test_channels_stay_contiguous_like_torch_flatten(backend):
    x = np.arange(2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 3)
    y = tinyml.to_numpy(Flatten("flat").forward(tinyml.asarray(x)))
    np.testing.assert_array_equal(y[1, :6], x[1, 0].ravel())  # channel 0's pixels come first
    np.testing.assert_array_equal(y[1, 6:], x[1, 1].ravel())


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
