"""Weight initializers: the documented ranges and variances, on the backend, seeded."""

import math

import numpy as np
import pytest

import tinyml
from tinyml import init
from tinyml.layers import Conv2D, Linear
from tinyml.testing import assert_close

FAN_IN, FAN_OUT = 50, 30
SHAPE = (200, 250)


@pytest.mark.parametrize(
    ("name", "limit", "std"),
    [
        ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT)), None),
        ("he_uniform", math.sqrt(6 / FAN_IN), None),
        ("glorot_normal", None, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("he_normal", None, math.sqrt(2 / FAN_IN)),
    ],
)
def test_initializers_draw_the_documented_distribution(backend32, name, limit, std):
    weights = init.get_initializer(name)(SHAPE, FAN_IN, FAN_OUT)
    host = tinyml.to_numpy(weights)
    assert_close(weights, host, backend=backend32)
    assert abs(host.mean()) < 0.01
    if limit is not None:
        assert -limit <= host.min() and host.max() <= limit
        assert abs(host.std() - limit / math.sqrt(3)) < 0.01 * limit  # std of U(-a, a)
    else:
        assert abs(host.std() - std) < 0.02 * std


def test_same_seed_same_weights(backend):
    tinyml.seed(4)
    first = tinyml.to_numpy(Conv2D("conv", (2, 5, 5), 3, 3, 3, 1, 1).weight.data)
    tinyml.seed(4)
    again = tinyml.to_numpy(Conv2D("conv", (2, 5, 5), 3, 3, 3, 1, 1).weight.data)
    np.testing.assert_array_equal(first, again)


def test_layers_take_a_named_or_custom_initializer(backend):
    layer = Linear("fc", 4, 3, init="glorot_normal")
    assert tuple(layer.weight.data.shape) == (3, 4)
    ones = Linear("fc", 4, 3, init=lambda shape, fan_in, fan_out: np.ones(shape))
    assert_close(ones.weight.data, np.ones((3, 4)), backend=backend)
    assert_close(ones.bias.data, np.zeros(3), backend=backend)


def test_unknown_initializer_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown initializer 'xavier'; choose one of "
                                         "glorot_uniform, glorot_normal, he_uniform, he_normal"):
        Linear("fc", 4, 3, init="xavier")


def test_an_initializer_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"initializer .* returned shape \(4, 3\), expected "
                                         r"\(3, 4\)"):
        Linear("fc", 4, 3, init=lambda shape, fan_in, fan_out: np.ones((4, 3)))
