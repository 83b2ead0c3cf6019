"""Property tests on every backend: softmax, the cross-entropies, and save / load.

Hypothesis draws the inputs (tests/property_strategies.py says how, and how many examples each
property runs); the layers' shape formulas and the per-sample gradients are in
tests/test_properties_layers.py.
"""

import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from property_strategies import PROPERTIES, float_arrays, fresh_streams, on_host

import tinyml
from tinyml.backend.ops import log_softmax
from tinyml.layers import (
    BatchNorm1D,
    Conv2D,
    Dropout,
    Flatten,
    Linear,
    LogSoftmax,
    ReLu,
    Sigmoid,
    Softmax,
)
from tinyml.losses import cross_entropy, cross_entropy_with_logits
from tinyml.testing import assert_close
from tinyml.testing.assertions import assert_on_backend


# ---------------------------------------------------------------------------- softmax
def softmax_layer(x, axis):
    return Softmax("softmax", axis=axis).forward(x)


def exp_of_log_softmax_layer(x, axis):
    return tinyml.get_backend().xp.exp(LogSoftmax("log_softmax", axis=axis).forward(x))


def exp_of_log_softmax(x, axis):
    xp = tinyml.get_backend().xp
    return xp.exp(log_softmax(x, axis=axis, xp=xp))


# Every softmax tinyml has, as probabilities: the layer, the log-softmax layer and the function
# the losses on logits compute with (tinyml.backend.ops.log_softmax).
SOFTMAXES = {"Softmax": softmax_layer, "LogSoftmax": exp_of_log_softmax_layer,
             "log_softmax": exp_of_log_softmax}


@st.composite
def shapes_and_axes(draw):
    """A shape of rank 2 or 3 (extents 1 to 5) and an axis of it, negative ones included."""
    shape = draw(st.lists(st.integers(1, 5), min_size=2, max_size=3).map(tuple))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@pytest.mark.parametrize("kind", SOFTMAXES)
@PROPERTIES
@given(case=shapes_and_axes(), data=st.data())
def test_softmax_sums_to_one_and_ignores_a_shift_per_row(backend, kind, case, data):
    """softmax(x) >= 0 sums to one along its axis, and softmax(x + c) = softmax(x) for any c
    constant along that axis. Shifts reach +-1000, where exp overflows unless the maximum is
    subtracted first."""
    shape, axis = case
    x = data.draw(float_arrays(backend, shape, low=-50.0, high=50.0), label="x")
    shift_shape = tuple(1 if index == axis % len(shape) else extent
                        for index, extent in enumerate(shape))
    c = data.draw(float_arrays(backend, shift_shape, low=-1000.0, high=1000.0), label="c")
    p = SOFTMAXES[kind](x, axis)
    assert_on_backend(p, backend, shape=shape)
    host = on_host(p)
    assert np.all(host >= 0.0) and np.all(host <= 1.0)
    np.testing.assert_allclose(host.sum(axis=axis), 1.0, rtol=1e-12)
    assert_close(SOFTMAXES[kind](x + c, axis), host, backend=backend)


# ---------------------------------------------------------------------------- cross-entropy
def host_log_softmax(z):
    """log softmax of each row of host logits, stably (an independent NumPy reference)."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@st.composite
def logits_and_labels(draw):
    """(logits (N, C) in [-20, 20] on the host, class indices (N,) in [0, C))."""
    n, classes = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    logits = draw(hnp.arrays(np.float64, (n, classes), elements=st.floats(
        -20.0, 20.0, allow_nan=False, allow_subnormal=False)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return logits, labels


def as_targets(labels, classes, form):
    """Class indices as the loss receives them: the indices themselves, or one-hot rows."""
    return labels if form == "indices" else np.eye(classes)[labels]


# The losses' inputs are drawn as host NumPy arrays on every backend (hypothesis.extra.numpy)
# and moved with backend.asarray: the probabilities are the host softmax of the drawn logits and
# the one-hot rows come from the drawn labels, so both are made on the host, where the
# references need them too.
@pytest.mark.parametrize("form", ["indices", "one-hot"])
@PROPERTIES
@given(case=logits_and_labels())
def test_cross_entropy_is_minus_log_p_of_the_label(backend, form, case):
    """cross_entropy(p, y) = -(1/N) sum_n log p[n, y_n] >= 0 for probabilities p."""
    logits, labels = case
    n, classes = logits.shape
    p = np.exp(host_log_softmax(logits))
    loss, _ = cross_entropy(backend.asarray(p), backend.asarray(as_targets(labels, classes, form)))
    expected = -np.log(p[np.arange(n), labels]).mean()
    assert float(loss) >= 0.0
    assert_close(loss, expected, backend=backend)


@pytest.mark.parametrize("form", ["indices", "one-hot"])
@PROPERTIES
@given(case=logits_and_labels())
def test_cross_entropy_with_logits_is_minus_log_softmax_of_the_label(backend, form, case):
    """cross_entropy_with_logits(z, y) = -(1/N) sum_n log softmax(z)[n, y_n] >= 0, and its
    gradient is (softmax(z) - onehot(y)) / N."""
    logits, labels = case
    n, classes = logits.shape
    log_p = host_log_softmax(logits)
    loss, gradient = cross_entropy_with_logits(
        backend.asarray(logits), backend.asarray(as_targets(labels, classes, form)))
    assert float(loss) >= 0.0
    assert_close(loss, -log_p[np.arange(n), labels].mean(), backend=backend)
    assert_close(gradient, (np.exp(log_p) - np.eye(classes)[labels]) / n, backend=backend)


# ---------------------------------------------------------------------------- save and load
HIDDEN = ("relu", "sigmoid", "batch_norm", "dropout", "none")


@st.composite
def net_specs(draw):
    """A net's description: an optional Conv2D front (with ReLu and Flatten), then Linear
    layers of random widths, each followed by one of HIDDEN."""
    conv = draw(st.none() | st.tuples(st.integers(1, 2), st.integers(2, 5), st.integers(1, 3),
                                      st.integers(1, 2), st.integers(0, 1)))
    widths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    after = draw(st.lists(st.sampled_from(HIDDEN), min_size=len(widths), max_size=len(widths)))
    return {"conv": conv, "input_dim": draw(st.integers(1, 6)), "widths": widths,
            "after": after}


def build_net(spec):
    """The net `spec` describes and the shape of one input sample."""
    layers, sample = [], (spec["input_dim"],)
    features = spec["input_dim"]
    if spec["conv"] is not None:
        channels, size, filters, kernel, padding = spec["conv"]
        kernel = min(kernel, size + 2 * padding)
        conv = Conv2D("conv", (channels, size, size), filters, kernel, kernel, 1, padding)
        sample = (channels, size, size)
        features = conv.output_shape((1, *sample))
        features = features[1] * features[2] * features[3]
        layers += [conv, ReLu("conv_relu"), Flatten("flatten")]
    for index, (width, kind) in enumerate(zip(spec["widths"], spec["after"], strict=True)):
        layers.append(Linear(f"fc{index}", features, width))
        features = width
        if kind != "none":
            layers.append(hidden_layer(kind, index, width))
    return tinyml.Net(layers), sample


def hidden_layer(kind, index, width):
    """The layer of `kind` (one of HIDDEN but "none") after Linear number `index`."""
    if kind == "batch_norm":
        return BatchNorm1D(f"bn{index}", width)
    if kind == "dropout":
        return Dropout(f"drop{index}", 0.25)
    return {"relu": ReLu, "sigmoid": Sigmoid}[kind](f"{kind}{index}")


def assert_same_state(net, expected, backend):
    """`net`'s parameters and buffers are exactly `expected` (host arrays, same keys in the
    same order), on the backend."""
    state = net.state_dict()
    assert list(state) == list(expected)
    for key, value in state.items():
        assert_close(value, expected[key], backend=backend, rtol=0, atol=0, err_msg=key)


@PROPERTIES
@given(spec=net_specs(), seed=st.integers(0, 2**16), data=st.data())
def test_save_then_load_gives_back_the_same_arrays(backend, spec, seed, data):
    """net.save, then tinyml.load_net and net.load on a net built with other weights, give back
    every parameter and buffer bit for bit, and the same predictions."""
    with fresh_streams():
        tinyml.seed(seed)
        net, sample = build_net(spec)
        other, _ = build_net(spec)  # other weights: the streams moved on
    x = data.draw(float_arrays(backend, (3, *sample)), label="x")
    net.forward(x)  # a training step moves BatchNorm's running statistics off their defaults
    net.eval()
    expected = {key: on_host(value) for key, value in net.state_dict().items()}
    prediction = on_host(net.forward(x))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net.npz")
        net.save(path)
        loaded = tinyml.load_net(path)
        other.load(path)
    for each in (loaded, other):
        assert_same_state(each, expected, backend)
        assert_close(each.eval().forward(x), prediction, backend=backend)
