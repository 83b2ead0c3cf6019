"""Deconv2D (transposed convolution): check_layer with a kernel-scatter loop as reference,
PyTorch's conv_transpose2d, adjointness with Conv2D, and errors (float32 and the rest of the
contract: test_layer_contract.py)."""

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_reference import assert_matches_torch

import tinyml
from tinyml.layers import Conv2D, Deconv2D
from tinyml.testing import assert_close, check_layer

# (N, C, H, W, F, kh, kw, stride, dilation, padding)
CONFIGS = {
    "3x3": (2, 2, 3, 3, 3, 3, 3, 1, 1, 0),
    "batch1-nonsquare-stride2": (1, 3, 3, 4, 2, 2, 3, 2, 1, 0),
    "dilation2-pad1": (2, 1, 4, 3, 2, 3, 2, 2, 2, 1),
    "stride-beyond-kernel-leaves-gaps": (1, 2, 2, 2, 1, 2, 2, 3, 1, 0),
    "dilation3-pad2": (1, 1, 3, 3, 2, 2, 2, 1, 3, 2),
}
SMALL = {
    "stride2-pad1": (2, 2, 2, 3, 2, 3, 2, 2, 1, 1),
    "dilation2": (1, 2, 3, 2, 1, 2, 2, 1, 2, 0),
}


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


@pytest.mark.parametrize("name", [*SMALL, *CONFIGS])
def test_check_layer(backend, name):
    """Finite differences element by element for the small configurations, along random
    directions for the others; the forward against the loop for all."""
    config = {**CONFIGS, **SMALL}[name]
    layer, x, _, _ = make_deconv(config)
    check_layer(layer, x, reference=lambda x, p: expected(config, x, p["weight"], p["bias"]),
                mode="full" if name in SMALL else "random")


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


@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_forward_and_gradients_match_torch(backend, config):
    layer, x, _, _ = make_deconv(config)
    stride, dilation, padding = config[7:]

    def conv_transpose2d(xt, wt, bt):
        import torch

        return torch.nn.functional.conv_transpose2d(xt, wt, bt, stride=stride, padding=padding,
                                                    dilation=dilation)

    assert_matches_torch(layer, x, conv_transpose2d, backend)


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


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((2, 2, 3), r"Deconv2D 'deconv' expects input of shape \(batch, 2, 3, 3\); "
                    r"got \(2, 2, 3\)\.$"),
        ((2, 18), r"got \(2, 18\)\. Reshape flat samples to \(batch, C, H, W\) first\."),
        ((2, 3, 3, 3), r"expects input of shape \(batch, 2, 3, 3\); got \(2, 3, 3, 3\)"),
        ((2, 2, 3, 4), r"expects input of shape \(batch, 2, 3, 3\); got \(2, 2, 3, 4\)"),
    ],
)
def test_wrong_input_shape(backend, shape, match):
    layer = Deconv2D("deconv", (2, 3, 3), 3, 3, 3, 1)
    with pytest.raises(ValueError, match=match):
        layer.forward(tinyml.asarray(np.zeros(shape)))


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


def test_mixed_backends_and_devices_are_refused():
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        layer, x, _, _ = make_deconv(CONFIGS["3x3"])
    with pytest.raises(TypeError, match=r"Deconv2D 'deconv': parameter 'weight' lives on "
                                        r"array_api_strict .* but input lives on numpy"):
        layer.forward(np.asarray(x))
    with tinyml.use_backend("array_api_strict", dtype="float64"):
        x_elsewhere = tinyml.asarray(x)
    with pytest.raises(ValueError, match=r"lives on array_api_strict .*device1.* net\.to"):
        layer.forward(x_elsewhere)
