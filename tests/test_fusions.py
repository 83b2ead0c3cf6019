"""The fusion table's rows: Softmax + cross_entropy, LogSoftmax + nll, Sigmoid +
binary_cross_entropy; how configured losses bind to a row; and that a net ending in each pair
trains through the fused path to the same weights as the unfused chain rule."""

import numpy as np
import pytest

import tinyml
from tinyml import Layer, Net
from tinyml.layers import Linear, LogSoftmax, ReLu, Sigmoid, Softmax
from tinyml.losses import (
    FUSIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    configurable,
    cross_entropy,
    cross_entropy_with_logits,
    find_fusion,
    huber,
    mse,
    nll,
    register_fusion,
    unregister_fusion,
)
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(2)
X = RNG.standard_normal((12, 3))
CLASSES = RNG.integers(0, 4, 12)
MULTI_LABEL = RNG.integers(0, 2, (12, 4)).astype(float)

# id: (make the last layer, loss, labels, the fused loss the row must hand over)
PAIRS = {
    "softmax_cross_entropy": (lambda: Softmax("last"), cross_entropy, CLASSES,
                              cross_entropy_with_logits),
    "softmax_cross_entropy_smoothed": (lambda: Softmax("last"), cross_entropy(label_smoothing=0.1),
                                       CLASSES, cross_entropy_with_logits(label_smoothing=0.1)),
    "log_softmax_nll": (lambda: LogSoftmax("last"), nll, CLASSES, cross_entropy_with_logits),
    "log_softmax_nll_one_hot": (lambda: LogSoftmax("last"), nll, np.eye(4)[CLASSES],
                                cross_entropy_with_logits),
    "sigmoid_binary_cross_entropy": (lambda: Sigmoid("last"), binary_cross_entropy, MULTI_LABEL,
                                     binary_cross_entropy_with_logits),
}


def learner_for(make_layer, loss):
    net = Net([Linear("fc", 3, 4), make_layer()])
    return tinyml.Learner(net, loss, SGD(lr=0.5), batch_size=5)


@pytest.mark.parametrize("pair", PAIRS)
def test_a_net_ending_in_the_pair_trains_fused_as_the_unfused_chain_rule(backend, pair):
    make_layer, loss, labels, fused_loss = PAIRS[pair]
    fused = learner_for(make_layer, loss)
    plain = learner_for(make_layer, lambda predicted, truth: loss(predicted, truth))
    plain.net.load_state_dict({k: tinyml.to_numpy(v) for k, v in fused.net.state_dict().items()})
    assert fused.fused and fused.fusion.fused_loss == fused_loss
    assert not plain.fused
    fused_history = fused.fit(X, labels, epochs=4, shuffle=False, verbose=0)
    plain_history = plain.fit(X, labels, epochs=4, shuffle=False, verbose=0)
    assert fused_history["loss"][-1] < fused_history["loss"][0], "it trains"
    np.testing.assert_allclose(fused_history["loss"], plain_history["loss"], rtol=1e-10)
    for key, value in plain.net.state_dict().items():
        assert_close(fused.net.state_dict()[key], tinyml.to_numpy(value), backend=backend,
                     rtol=1e-10, atol=1e-12, err_msg=key)
    assert fused.evaluate(X, labels)["loss"] == pytest.approx(plain.evaluate(X, labels)["loss"],
                                                              rel=1e-10)


def test_the_fused_path_is_what_runs(backend):
    """The fused loss sees the last layer's input: logits, not log-probabilities."""
    seen = []

    def spy(predicted, truth):
        seen.append(tinyml.to_numpy(predicted))
        return cross_entropy_with_logits(predicted, truth)

    learner = learner_for(lambda: LogSoftmax("last"), nll)
    with tinyml.no_grad():
        logits = tinyml.to_numpy(learner.net.forward(tinyml.asarray(X[:5]), skip_last=True))
    row = register_fusion(LogSoftmax, nll, spy)
    try:
        learner.fit(X, CLASSES, epochs=1, shuffle=False, verbose=0)
    finally:
        unregister_fusion(row)
    assert len(seen) == 3, "one call per batch"
    np.testing.assert_allclose(seen[0], logits, rtol=1e-12)  # the first batch, before a step
    assert not np.allclose(np.exp(seen[0]).sum(axis=1), 1.0)  # not log-probabilities


def test_the_rows():
    assert find_fusion(LogSoftmax("ls"), nll).fused_loss is cross_entropy_with_logits
    assert find_fusion(Sigmoid("s"), binary_cross_entropy).fused_loss \
        is binary_cross_entropy_with_logits
    for layer, loss in ((LogSoftmax("ls", axis=0), nll), (LogSoftmax("ls"), cross_entropy),
                        (Softmax("s"), nll), (Sigmoid("s"), binary_cross_entropy_with_logits),
                        (ReLu("r"), binary_cross_entropy), (Sigmoid("s"), mse)):
        assert find_fusion(layer, loss) is None, (layer, loss)


def test_a_configured_loss_binds_the_row_with_its_options():
    row = next(r for r in FUSIONS if r.layer_type is Softmax)
    bound = find_fusion(Softmax("s"), cross_entropy(label_smoothing=0.1))
    assert bound is not row and bound not in FUSIONS
    assert bound.loss == cross_entropy(label_smoothing=0.1)
    assert bound.fused_loss == cross_entropy_with_logits(label_smoothing=0.1)
    assert bound.layer_type is Softmax and bound.applies is row.applies
    assert find_fusion(Softmax("s", axis=0), cross_entropy(label_smoothing=0.1)) is None
    # The defaults spelled out are the row's own loss: the row itself comes back.
    assert find_fusion(Softmax("s"), cross_entropy(label_smoothing=0.0)) is row
    assert row.matches(Softmax("s"), cross_entropy(label_smoothing=0.3))


class Double(Layer):
    """y = 2x: a last layer that these tests fuse with huber."""

    def forward(self, input):
        self._remember(output_shape=input.shape)
        return 2.0 * input

    def backward(self, in_gradient, *, input_gradient=True):
        self._recall(in_gradient)
        return 2.0 * in_gradient if input_gradient else None


def keep_options(who, options):
    return {name: float(value) for name, value in options.items()}


@configurable(keep_options)
def huber_of_double(inputs, targets, *, delta=1.0):
    """huber(2 x, t) computed from x: the fused loss for Double + huber."""
    loss, gradient = huber(2.0 * inputs, targets, delta=delta)
    return loss, 2.0 * gradient


def plain_huber_of_double(inputs, targets):
    loss, gradient = huber(2.0 * inputs, targets)
    return loss, 2.0 * gradient


def test_a_row_on_a_default_loss_hands_options_to_a_configurable_fused_loss(backend):
    row = register_fusion(Double, huber, huber_of_double)
    try:
        bound = find_fusion(Double("d"), huber(delta=2.0))
    finally:
        unregister_fusion(row)
    assert bound.fused_loss == huber_of_double(delta=2.0)
    x, t = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2)) * 4
    loss, gradient = bound.fused_loss(tinyml.asarray(x), tinyml.asarray(t))
    expected_loss, expected_gradient = huber(delta=2.0)(tinyml.asarray(2.0 * x),
                                                        tinyml.asarray(t))
    assert_close(loss, tinyml.to_numpy(expected_loss), backend=backend)
    assert_close(gradient, 2.0 * tinyml.to_numpy(expected_gradient), backend=backend)


def test_a_fused_loss_without_the_options_leaves_a_configured_loss_unfused():
    row = register_fusion(Double, huber, plain_huber_of_double)
    try:
        assert find_fusion(Double("d"), huber) is row
        assert find_fusion(Double("d"), huber(delta=1.0)) is row
        assert find_fusion(Double("d"), huber(delta=2.0)) is None
    finally:
        unregister_fusion(row)


def test_a_row_on_a_configured_loss_matches_that_configuration_only():
    row = register_fusion(Double, huber(delta=2.0), huber_of_double(delta=2.0))
    try:
        assert find_fusion(Double("d"), huber(delta=2.0)) is row
        assert find_fusion(Double("d"), huber) is None
        assert find_fusion(Double("d"), huber(delta=3.0)) is None
    finally:
        unregister_fusion(row)
