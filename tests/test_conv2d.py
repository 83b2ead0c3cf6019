"""Conv2D: where "same" puts its pads, and the constructor errors that no one argument's rule
covers (each argument alone: test_declared_arguments.py). Its configurations (random ones too),
the PyTorch twin, refused shapes and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py."""

import math

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import Conv2D

# random configurations against the reference: the drawn column of tests/layer_specs.py

GOOD = {"input_dim": (3, 5, 5), "n_filter": 4, "h_filter": 3, "w_filter": 3, "stride": 1,
        "padding": 0}


@pytest.mark.parametrize(  # each argument alone: tests/test_declared_arguments.py
    ("changes", "error", "match"),
    [
        ({"input_dim": 5}, TypeError, r"input_dim must be \(C, H, W\)"),
        ({"h_filter": 6}, ValueError, r"a 6x3 kernel with stride 1 and padding 0 leaves no output"),
        ({"w_filter": 4, "stride": 2, "input_dim": (3, 5, 3)}, ValueError, "leaves no output"),
        ({"dilation": 3}, ValueError, r"a 3x3 kernel with stride 1, dilation 3 and padding 0 "
                                      r"leaves no output for input \(3, 5, 5\); use a smaller "
                                      r"kernel, dilation or padding"),
        ({"padding": "valid"}, ValueError, r"got 'valid' \('valid' is padding=0\)"),
        ({"padding": None}, TypeError, r"padding must be an int or 'same'; got None"),
        ({"padding": (1, 1)}, TypeError, r"padding must be an int or 'same'; got \(1, 1\)"),
        ({"padding": "causal"}, ValueError, r"padding must be an int or 'same'; got 'causal'"),
    ],
)
def test_bad_constructor_arguments(changes, error, match):
    with pytest.raises(error, match=match):
        Conv2D("conv", **{**GOOD, **changes})


# ---------------------------------------------------------------------------- dilation, "same"
# (N, C, H, W, F, kh, kw, stride, padding, dilation)
DILATED = {
    "dilation2-pad2": (2, 2, 7, 6, 3, 3, 3, 1, 2, 2),
    "dilation3-nonsquare-stride2": (1, 2, 9, 8, 2, 2, 3, 2, 1, 3),
    "same-3x3": (2, 2, 5, 5, 3, 3, 3, 1, "same", 1),
    "same-even-nonsquare": (1, 2, 5, 6, 2, 2, 4, 1, "same", 1),
    "same-dilated": (1, 1, 7, 6, 2, 3, 2, 1, "same", 2),
    "same-stride2": (2, 2, 7, 6, 2, 3, 3, 2, "same", 1),
    "same-stride3-dilated": (1, 2, 8, 7, 2, 2, 3, 3, "same", 2),
}


def pads_of(config):
    """(top, bottom, left, right) by the definitions, independently of the layer."""
    _, _, h, w, _, kh, kw, stride, padding, dilation = config
    if padding == "same":
        return (*reference.same_pads(h, kh, stride, dilation),
                *reference.same_pads(w, kw, stride, dilation))
    return (padding,) * 4


def make_dilated(config, seed=0):
    n, c, h, w, f, kh, kw, stride, padding, dilation = config
    rng = np.random.default_rng(seed)
    layer = Conv2D("conv", (c, h, w), f, kh, kw, stride, padding, dilation=dilation)
    layer.weight.data = tinyml.asarray(rng.standard_normal((f, c, kh, kw)))
    layer.bias.data = tinyml.asarray(rng.standard_normal(f))
    return layer, rng.standard_normal((n, c, h, w))


@pytest.mark.parametrize("name", DILATED)
def test_same_pads_put_the_odd_zero_bottom_and_right(name):
    config = DILATED[name]
    layer, _ = make_dilated(config)
    assert layer.pads == pads_of(config)
    if config[8] == "same":
        assert (layer.out_h, layer.out_w) == (math.ceil(config[2] / config[7]),
                                              math.ceil(config[3] / config[7]))


def test_same_with_an_even_kernel_pads_one_more_after():
    layer = Conv2D("conv", (1, 6, 6), 1, 4, 2, 1, "same")
    assert layer.pads == (1, 2, 0, 1) and layer.padding == "same"
