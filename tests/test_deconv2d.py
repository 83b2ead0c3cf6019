"""Deconv2D (transposed convolution): a property test over random configurations against a
kernel-scatter loop, adjointness with Conv2D, and constructor errors (its configurations, the
PyTorch twin, refused shapes and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py)."""

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinyml
from tinyml.layers import Conv2D, Deconv2D
from tinyml.testing import assert_close

# (N, C, H, W, F, kh, kw, stride, dilation, padding)


def make_deconv(config, seed=0):
    """(layer with random weight and bias, host input, weight, bias) for `config`."""
    n, c, h, w, f, kh, kw, stride, dilation, padding = config
    rng = np.random.default_rng(seed)
    layer = Deconv2D("deconv", (c, h, w), f, kh, kw, stride, dilation, padding)
    weight, bias = rng.standard_normal((c, f, kh, kw)), rng.standard_normal(f)
    layer.weight.data, layer.bias.data = tinyml.asarray(weight), tinyml.asarray(bias)
    return layer, rng.standard_normal((n, c, h, w)), weight, bias


def expected(config, x, weight, bias):
    stride, dilation, padding = config[7:]
    return reference.conv_transpose2d(x, weight, bias, stride, padding, dilation)


@st.composite
def deconv_configs(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    full = min((h - 1) * stride + dilation * (kh - 1), (w - 1) * stride + dilation * (kw - 1))
    padding = draw(st.integers(0, full // 2))  # leaves at least one output row and column
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w, draw(st.integers(1, 3)),
            kh, kw, stride, dilation, padding)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=deconv_configs(), seed=st.integers(0, 2**16))
def test_forward_property_random_configs(backend, config, seed):
    layer, x, weight, bias = make_deconv(config, seed)
    assert_close(layer.forward(tinyml.asarray(x)), expected(config, x, weight, bias),
                 backend=backend, err_msg=str(config))


def test_is_the_adjoint_of_conv2d(backend):
    """<conv(x), y> == <x, deconv(y)> for the same weights (F, C, kh, kw), biases zero."""
    rng = np.random.default_rng(3)
    conv = Conv2D("conv", (2, 7, 7), 3, 3, 3, 2, 1)  # 7x7 -> 4x4, and back: (4-1)2 - 2 + 3 = 7
    deconv = Deconv2D("deconv", (3, 4, 4), 2, 3, 3, 2, padding=1)
    weight = tinyml.asarray(rng.standard_normal((3, 2, 3, 3)))
    conv.weight.data = deconv.weight.data = weight
    x, y = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal((2, 3, 4, 4))
    forward = float(np.sum(tinyml.to_numpy(conv.forward(tinyml.asarray(x))) * y))
    adjoint = float(np.sum(x * tinyml.to_numpy(deconv.forward(tinyml.asarray(y)))))
    assert abs(forward - adjoint) < 1e-9 * max(1.0, abs(forward))


GOOD = {"input_dim": (2, 3, 3), "n_filters": 3, "h_filter": 3, "w_filter": 3, "stride": 1}


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"stride": 0}, ValueError, r"Deconv2D 'deconv': stride must be >= 1; got 0"),
        ({"stride": -2}, ValueError, r"stride must be >= 1; got -2"),
        ({"dilation": 0}, ValueError, r"dilation must be >= 1; got 0"),
        ({"padding": -1}, ValueError, r"padding must be >= 0; got -1"),
        ({"padding": 3}, ValueError, r"leaves no output for input \(2, 3, 3\)"),
        ({"n_filters": 2.5}, TypeError, r"n_filters must be an int; got 2\.5"),
        ({"h_filter": "3"}, TypeError, r"h_filter must be an int; got '3'"),
        ({"dilation": 1.0}, TypeError, r"dilation must be an int"),
        ({"input_dim": (2, 3)}, TypeError, r"input_dim must be \(C, H, W\)"),
        ({"input_dim": (0, 3, 3)}, ValueError, r"input_dim must be >= 1; got 0"),
    ],
)
def test_bad_constructor_arguments(changes, error, match):
    with pytest.raises(error, match=match):
        Deconv2D("deconv", **{**GOOD, **changes})
