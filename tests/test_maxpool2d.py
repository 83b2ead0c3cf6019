"""MaxPool2D: forward, indices and backward against a window-argmax loop and PyTorch, ties routed
like PyTorch's, random configurations, and a window larger than the input (its configurations,
the PyTorch twin, refused shapes and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py)."""

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layer_families import MAX_POOLS, distinct_input, window

import tinyml
from tinyml.layers import MaxPool2D
from tinyml.testing import assert_close


def tied_input(shape, seed=0):
    """Small integers: nearly every window holds its maximum more than once."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float64)


@pytest.mark.parametrize("config", MAX_POOLS.values(), ids=list(MAX_POOLS))
@pytest.mark.parametrize("make_input", [distinct_input, tied_input])
def test_forward_indices_and_backward_match_reference(backend, config, make_input):
    n, c, h, w, size, stride = config
    kh, kw = window(size)
    x = make_input((n, c, h, w))
    y_ref, indices_ref = reference.max_pool2d(x, kh, kw, stride)
    layer = MaxPool2D("pool", (c, h, w), size, stride, return_index=True)
    y, indices = layer.forward(tinyml.asarray(x))
    assert_close(y, y_ref, backend=backend)
    assert_close(indices, indices_ref, backend=backend)
    assert indices.dtype == backend.xp.int64
    g = np.random.default_rng(1).standard_normal(y_ref.shape)
    dx = layer.backward(tinyml.asarray(g))
    assert_close(dx, reference.max_pool2d_backward(x, g, kh, kw, stride), backend=backend)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       extra=st.tuples(st.integers(0, 4), st.integers(0, 4)), c=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_property_random_configs(backend, kh, kw, stride, extra, c, seed):
    h, w = kh + extra[0], kw + extra[1]
    x = tied_input((2, c, h, w), seed)
    layer = MaxPool2D("pool", (c, h, w), (kh, kw), stride)
    y = layer.forward(tinyml.asarray(x))
    assert_close(y, reference.max_pool2d(x, kh, kw, stride)[0], backend=backend)
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    assert_close(layer.backward(tinyml.asarray(g)),
                 reference.max_pool2d_backward(x, g, kh, kw, stride), backend=backend)


def test_ties_go_to_the_first_maximum_in_row_major_order(backend):
    layer = MaxPool2D("pool", (1, 3, 3), 2, 1)  # four overlapping windows over equal values
    y = layer.forward(tinyml.asarray(np.ones((1, 1, 3, 3))))
    dx = layer.backward(tinyml.asarray(np.array([[[[1.0, 2.0], [3.0, 4.0]]]])))
    # each window's top-left corner wins: window (p, q) sends its gradient to pixel (p, q)
    assert_close(y, np.ones((1, 1, 2, 2)), backend=backend)
    assert_close(dx, np.array([[[[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]),
                 backend=backend)


def test_overlapping_windows_add_up(backend):
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre is the maximum of all four 2x2 windows
    layer = MaxPool2D("pool", (1, 3, 3), 2, 1)
    layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(np.full((1, 1, 2, 2), 1.5)))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 6.0
    assert_close(dx, expected, backend=backend)


@pytest.mark.parametrize("config", MAX_POOLS.values(), ids=list(MAX_POOLS))
def test_values_indices_and_gradient_match_torch(backend, config):
    torch = pytest.importorskip("torch")
    n, c, h, w, size, stride = config
    x = tied_input((n, c, h, w), seed=4)
    layer = MaxPool2D("pool", (c, h, w), size, stride, return_index=True)
    y, indices = layer.forward(tinyml.asarray(x))
    g = np.random.default_rng(5).standard_normal(tuple(y.shape))
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, window(size), stride, return_indices=True)
    yt.backward(torch.tensor(g))
    assert_close(y, yt.detach().numpy(), backend=backend)
    assert_close(indices, it.numpy(), backend=backend)
    assert_close(dx, xt.grad.numpy(), backend=backend)


@pytest.mark.parametrize(  # each argument alone: tests/test_declared_arguments.py
    ("size", "match"),
    [
        (5, r"MaxPool2D 'pool': window \(5, 5\) is larger than the input \(4, 4\)"),
        ((2, 5), r"window \(2, 5\) is larger than the input"),
    ],
)
def test_a_window_larger_than_the_input_is_refused(size, match):
    with pytest.raises(ValueError, match=match):
        MaxPool2D("pool", (2, 4, 4), size, 1)
