"""FullyConnected: Linear then an activation, with Linear's parameter names at its own level
(its configurations, PyTorch twins, refused shapes and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import reference

import tinyml
from tinyml.layers import FullyConnected, ReLu, Sigmoid
from tinyml.testing import assert_on_backend, check_layer


def with_bias(layer, seed=1):
    """`layer` with a random non-zero bias, so the check sees it (and no ReLU sits at its kink
    for long)."""
    bias = np.random.default_rng(seed).standard_normal(layer.bias.shape)
    layer.load_state_dict({"weight": tinyml.to_numpy(layer.weight.data), "bias": bias})
    return layer


def test_an_activation_layer_is_used_as_given(backend):
    activation = Sigmoid("squash")
    layer = with_bias(FullyConnected("fc", 3, 2, act_fn=activation))
    assert layer.activation is activation
    assert set(layer.named_layers()) == {"squash"}
    check_layer(layer, np.random.default_rng(0).standard_normal((4, 3)),
                reference=lambda x, p: 1.0 / (1.0 + np.exp(-reference.linear(
                    x, p["weight"], p["bias"]))))


def test_keys_are_linears_at_the_layers_own_level(backend):
    layer = FullyConnected("fcact", 6, 5, act_fn="relu")
    assert list(tinyml.Net([layer]).state_dict()) == ["fcact.weight", "fcact.bias"]
    assert layer.weight.shape == (5, 6) and layer.bias.shape == (5,)
    assert isinstance(layer.activation, ReLu) and layer.activation.name == "fcact_relu"
    assert not layer.buffers()


def test_the_default_initializer_is_glorot_uniform(backend):
    with tinyml.use_seed(3):
        layer = FullyConnected("fc", 6, 5)
    with tinyml.use_seed(3):
        expected = tinyml.init.glorot_uniform((5, 6), 6, 5)
    np.testing.assert_array_equal(tinyml.to_numpy(layer.weight.data), tinyml.to_numpy(expected))
    with tinyml.use_seed(3):
        he = FullyConnected("fc", 6, 5, init="he_uniform")
    with tinyml.use_seed(3):
        expected = tinyml.init.he_uniform((5, 6), 6, 5)
    np.testing.assert_array_equal(tinyml.to_numpy(he.weight.data), tinyml.to_numpy(expected))
    np.testing.assert_array_equal(tinyml.to_numpy(layer.bias.data), np.zeros(5))


def test_backward_consumes_the_activations_record_too(backend):
    layer = FullyConnected("fc", 3, 2, act_fn="sigmoid")
    x = tinyml.asarray(np.ones((4, 3)))
    layer.forward(x)
    layer.forward(x)
    assert layer.pending_records == layer.activation.pending_records == 2
    layer.backward(tinyml.asarray(np.ones((4, 2))))
    assert layer.pending_records == layer.activation.pending_records == 1
    layer.clear_records()
    with tinyml.no_grad():
        output = layer.forward(x)
    assert_on_backend(output, backend, shape=(4, 2))
    assert layer.pending_records == layer.activation.pending_records == 0


def test_it_trains_inside_a_net(backend):
    """A two-layer net of FullyConnected fits a small separable problem."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    net = tinyml.Net([FullyConnected("fc1", 4, 16, act_fn="relu"), FullyConnected("fc2", 16, 2),
                      tinyml.layers.Softmax("softmax")])
    learner = tinyml.Learner(net, tinyml.losses.cross_entropy, tinyml.optim.SGD(lr=0.1),
                             batch_size=16, seed=0)
    history = learner.fit(x, y, epochs=30, verbose=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.95
