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
                                         "glorot_uniform, glorot_normal, he_uniform, he_normal, "
                                         "lecun_normal, std_normal, trunc_normal, orthogonal, "
                                         "zeros, ones or pass a function"):
        Linear("fc", 4, 3, init="xavier")


def test_an_initializer_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"initializer .* returned shape \(4, 3\), expected "
                                         r"\(3, 4\)"):
        Linear("fc", 4, 3, init=lambda shape, fan_in, fan_out: np.ones((4, 3)))


# ---------------------------------------------------------------- the normal family
N = SHAPE[0] * SHAPE[1]


def phi(z):
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def big_phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


GLOROT_STD = math.sqrt(2 / (FAN_IN + FAN_OUT))
TRUNCATED_VARIANCE = GLOROT_STD**2 * (1 - 4 * phi(2) / (2 * big_phi(2) - 1))


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("std_normal", 1.0),
        ("lecun_normal", 1 / FAN_IN),
        ("trunc_normal", TRUNCATED_VARIANCE),
        ("glorot_normal", GLOROT_STD**2),
        ("he_normal", 2 / FAN_IN),
    ],
)
def test_normal_initializers_have_their_mean_and_variance(backend32, name, variance):
    weights = init.get_initializer(name)(SHAPE, FAN_IN, FAN_OUT)
    host = tinyml.to_numpy(weights)
    assert_close(weights, host, backend=backend32)
    # within five standard errors: of the mean, sqrt(var / n); of the variance, var sqrt(2 / n)
    assert abs(host.mean()) < 5 * math.sqrt(variance / N)
    assert abs(host.var() / variance - 1) < 5 * math.sqrt(2 / N)


def test_trunc_normal_stays_within_two_standard_deviations_without_clipping(backend32):
    host = tinyml.to_numpy(init.trunc_normal(SHAPE, FAN_IN, FAN_OUT))
    bound = 2 * GLOROT_STD * (1 + 1e-6)  # float32 rounding of s
    assert np.abs(host).max() <= bound
    assert np.abs(host).max() > 0.99 * bound  # the tails are there, up to the cut
    # clipping would pile 4.6 % of the draws onto the bounds; redrawing puts 0.01 % this close
    assert np.mean(np.abs(host) > 0.999 * bound) < 1e-3


def test_trunc_normal_keeps_the_values_inside_and_redraws_the_others(backend):
    with tinyml.use_seed(0):
        first_round = tinyml.to_numpy(backend.normal((4000,)))
    with tinyml.use_seed(0):
        host = tinyml.to_numpy(init.trunc_normal((4000,), 1, 1))  # s = 1
    inside = np.abs(first_round) <= 2.0
    assert not inside.all()
    np.testing.assert_array_equal(host[inside], first_round[inside])
    assert np.abs(host).max() <= 2.0
    assert not np.isin(host[~inside], first_round).any()


@pytest.mark.parametrize("name", ["std_normal", "lecun_normal", "trunc_normal", "orthogonal"])
def test_new_initializers_draw_from_the_seeded_stream(backend, name):
    draw = init.get_initializer(name)
    with tinyml.use_seed(11):
        first = tinyml.to_numpy(draw((6, 5), 5, 6))
    with tinyml.use_seed(11):
        again = tinyml.to_numpy(draw((6, 5), 5, 6))
    with tinyml.use_seed(12):
        other = tinyml.to_numpy(draw((6, 5), 5, 6))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# ---------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (5, 5), (3, 2, 2, 2), (12, 2, 1, 1)])
def test_orthogonal_rows_or_columns_are_orthonormal(backend, shape):
    weights = init.orthogonal(shape, 1, 1)
    host = tinyml.to_numpy(weights)
    assert_close(weights, host, backend=backend)
    matrix = host.reshape(shape[0], -1)
    rows, cols = matrix.shape
    gram = matrix @ matrix.T if rows <= cols else matrix.T @ matrix
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_orthonormal_in_float32(backend32):
    host = tinyml.to_numpy(init.orthogonal((20, 30), 30, 20))
    assert host.dtype == np.float32
    np.testing.assert_allclose(host @ host.T, np.eye(20), atol=1e-5)


@pytest.mark.parametrize("shape", [(7, 3), (3, 7)])
def test_orthogonal_is_the_sign_fixed_q_of_a_normal_draw(backend, shape):
    """With the draw G and W = Q diag(sign R_ii): W^T G (W G^T when wide) is R, upper
    triangular with a positive diagonal."""
    with tinyml.use_seed(3):
        gaussian = tinyml.to_numpy(backend.normal(shape))
    with tinyml.use_seed(3):
        weights = tinyml.to_numpy(init.orthogonal(shape, shape[1], shape[0]))
    r = weights.T @ gaussian if shape[0] >= shape[1] else weights @ gaussian.T
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-12)
    assert np.all(np.diag(r) > 0)


def test_orthogonal_conv_filters_are_orthonormal(backend):
    conv = Conv2D("conv", (2, 5, 5), 3, 3, 3, 1, 1, init="orthogonal")
    filters = tinyml.to_numpy(conv.weight.data).reshape(3, -1)
    np.testing.assert_allclose(filters @ filters.T, np.eye(3), atol=1e-12)


def test_orthogonal_of_an_empty_weight_is_empty(backend):
    assert_close(init.orthogonal((0, 3), 3, 0), np.zeros((0, 3)), backend=backend)


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match=r"orthogonal initialization needs a weight of 2 or more "
                                         r"dimensions; got shape \(5,\). Biases start at zeros"):
        init.orthogonal((5,), 5, 5)


# ---------------------------------------------------------------- constants, names, fans
@pytest.mark.parametrize(("name", "value"), [("zeros", 0.0), ("ones", 1.0)])
def test_constant_initializers_are_exact(backend32, name, value):
    weights = init.get_initializer(name)((3, 4, 2), 8, 12)
    assert_close(weights, np.full((3, 4, 2), value), backend=backend32, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(init.INITIALIZERS))
def test_every_named_initializer_builds_a_linear_layer(backend, name):
    layer = Linear("fc", 5, 4, init=name)
    host = tinyml.to_numpy(layer.weight.data)
    assert_close(layer.weight.data, host, backend=backend)
    assert host.shape == (4, 5) and np.all(np.isfinite(host))
    assert_close(layer.bias.data, np.zeros(4), backend=backend)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: init.he_normal((2, 2), 0, 3), ValueError,
         "he_normal: fan_in must be positive .*; got 0"),
        (lambda: init.he_uniform((2, 2), -1, 3), ValueError, "he_uniform: fan_in must be positive"),
        (lambda: init.glorot_uniform((2, 2), 2, 0), ValueError,
         "glorot_uniform: fan_out must be positive"),
        (lambda: init.glorot_normal((2, 2), 2, "3"), TypeError,
         "glorot_normal: fan_out must be a positive number; got '3'"),
        (lambda: init.lecun_normal((2, 2), float("nan"), 3), ValueError,
         "lecun_normal: fan_in must be positive"),
        (lambda: init.trunc_normal((2, 2), 2, float("inf")), ValueError,
         "trunc_normal: fan_out must be positive"),
        (lambda: init.trunc_normal((2, 2), True, 2), TypeError,
         "trunc_normal: fan_in must be a positive number; got True"),
    ],
)
def test_fans_must_be_positive_numbers(call, error, match):
    with pytest.raises(error, match=match):
        call()
