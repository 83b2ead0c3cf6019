"""Conv1D: the pads and output length of each padding mode, causality, and constructor errors
(its configurations, random ones too, the PyTorch twin, refused shapes and the rest of the
contract: tests/layer_specs.py, test_layer_contract.py)."""

import math

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyml
from tinyml.layers import Conv1D

# (N, C, L, F, K, stride, padding, dilation)
CONFIGS = {
    "valid": (2, 3, 9, 4, 3, 1, 0, 1),
    "int-pad-stride2-remainder": (1, 2, 8, 3, 3, 2, 1, 1),
    "pair": (2, 2, 7, 2, 3, 1, (2, 0), 1),
    "pair-asymmetric-stride3": (1, 1, 8, 2, 2, 3, (0, 3), 2),
    "same-odd-kernel": (2, 2, 7, 3, 3, 1, "same", 1),
    "same-even-kernel": (1, 2, 6, 2, 4, 1, "same", 1),
    "same-dilated": (2, 1, 9, 2, 3, 1, "same", 3),
    "same-stride2": (2, 2, 9, 3, 3, 2, "same", 1),
    "same-stride3-dilated": (1, 2, 10, 2, 2, 3, "same", 2),
    "causal": (2, 2, 6, 3, 3, 1, "causal", 1),
    "causal-dilated": (1, 3, 8, 2, 3, 1, "causal", 2),
    "causal-stride2": (2, 1, 7, 2, 2, 2, "causal", 1),
    "kernel-1": (1, 3, 4, 2, 1, 1, 0, 1),
}


def pads_of(config):
    """(left, right) by the definitions, independently of the layer."""
    _, _, length, _, k, stride, padding, dilation = config
    if padding == "same":
        return reference.same_pads(length, k, stride, dilation)
    if padding == "causal":
        return dilation * (k - 1), 0
    return padding if isinstance(padding, tuple) else (padding, padding)


def make_conv(config, seed=0):
    """(layer with random weight and bias, host input) for `config`."""
    n, c, length, f, k, stride, padding, dilation = config
    rng = np.random.default_rng(seed)
    layer = Conv1D("conv", (c, length), f, k, stride=stride, padding=padding, dilation=dilation)
    layer.weight.data = tinyml.asarray(rng.standard_normal((f, c, k)))
    layer.bias.data = tinyml.asarray(rng.standard_normal(f))
    return layer, rng.standard_normal((n, c, length))


@pytest.mark.parametrize("name", CONFIGS)
def test_the_pads_and_output_length(name):
    config = CONFIGS[name]
    layer, _ = make_conv(config)
    length, k, stride, padding, dilation = config[2], *config[4:]
    assert layer.pads == pads_of(config)
    assert layer.out_len == reference.output_size(length + sum(layer.pads), k, stride, 0,
                                                  dilation)
    if padding in ("same", "causal"):
        assert layer.out_len == math.ceil(length / stride)


# random configurations against the reference: the drawn column of tests/layer_specs.py
@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 4), stride=st.integers(1, 3), dilation=st.integers(1, 3),
       length=st.integers(1, 10), cut=st.integers(0, 9))
def test_causal_output_t_sees_no_input_after_t_stride(k, stride, dilation, length, cut):
    """Changing the inputs after position `cut` changes no output t with t*stride <= cut."""
    cut = min(cut, length - 1)
    layer, x = make_conv((1, 2, length, 2, k, stride, "causal", dilation))
    changed = x.copy()
    changed[:, :, cut + 1:] += 1.0
    before = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    after = tinyml.to_numpy(layer.forward(tinyml.asarray(changed)))
    seen = [t for t in range(before.shape[2]) if t * stride <= cut]
    np.testing.assert_array_equal(before[:, :, seen], after[:, :, seen])
    if cut + 1 < length and cut + 1 == (cut + 1) // stride * stride:  # output t = that input
        assert not np.array_equal(before[:, :, (cut + 1) // stride],
                                  after[:, :, (cut + 1) // stride])


def test_a_pair_may_be_a_list_and_is_kept_as_a_tuple():
    layer = Conv1D("conv", (2, 6), 3, 3, padding=[1, 2])
    assert layer.padding == (1, 2) and layer.pads == (1, 2) and layer.out_len == 7


def test_weight_layout_and_names():
    layer = Conv1D("conv", (3, 10), 5, 3)
    assert tuple(layer.weight.shape) == (5, 3, 3) and tuple(layer.bias.shape) == (5,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.n_filter == 5 and layer.declared_input_shape() == (None, 3, 10)


GOOD = {"input_dim": (3, 10), "n_filter": 4, "kernel_width": 3}
PADDING = r"padding must be an int, a \(left, right\) pair, 'same' or 'causal'"


@pytest.mark.parametrize(  # each argument alone: tests/test_declared_arguments.py
    ("changes", "error", "match"),
    [
        ({"input_dim": 10}, TypeError, r"input_dim must be a tuple of 2 ints; got 10"),
        ({"padding": None}, TypeError, PADDING + r"; got None"),
        ({"padding": "valid"}, ValueError, PADDING + r"; got 'valid' \('valid' is padding=0\)"),
        ({"kernel_width": 11}, ValueError, r"Conv1D 'conv': a kernel of width 11 with stride 1, "
                                           r"dilation 1 and padding \(0, 0\) leaves no output "
                                           r"for input length 10"),
        ({"kernel_width": 4, "dilation": 4}, ValueError, r"dilation 4 .* leaves no output"),
    ],
)
def test_bad_constructor_arguments(changes, error, match):
    with pytest.raises(error, match=match):
        Conv1D("conv", **{**GOOD, **changes})
