"""numpy-ml's layer API on every layer: summary(), set_params(), flush_gradients(), freeze() and
unfreeze(); on every layer of the contract table and on nested nets."""

import json

import numpy as np
import pytest
from config_layers import Scale, assert_same_state, host_state
from test_layer_contract import LAYERS, UNUSED_BY_FORWARD, build, call, case_input, like_output

import tinyml
from tinyml import Net
from tinyml.layers import Dropout, Linear, ReLu, Softmax
from tinyml.testing import assert_close, assert_on_backend


def other_weights(kind):
    """A second layer of `kind` whose random weights differ from a first one's."""
    with tinyml.use_seed(7):
        return LAYERS[kind].make()


# ---------------------------------------------------------------- every layer of the table
@pytest.mark.parametrize("kind", LAYERS)
def test_summary_says_class_name_hyperparameters_and_arrays(backend, kind):
    layer = LAYERS[kind].make()
    summary = layer.summary()
    assert summary["class"] == kind and summary["name"] == "layer"
    assert summary["hyperparameters"] == layer.hyperparameters
    assert list(summary["parameters"]) == list(layer.named_parameters())
    assert list(summary["buffers"]) == list(layer.named_buffers())
    for key, value in layer.state_dict().items():
        assert summary["shapes"][key] == list(value.shape)
        copy = {**summary["parameters"], **summary["buffers"]}[key]
        assert_close(copy, tinyml.to_numpy(value), backend=backend, rtol=0, atol=0)
        assert copy is not value
    json.dumps({key: summary[key] for key in ("class", "name", "hyperparameters", "shapes")})


@pytest.mark.parametrize("kind", LAYERS)
def test_set_params_takes_a_summary_back(backend, kind):
    source, target = LAYERS[kind].make(), other_weights(kind)
    assert target.set_params(source.summary()) is target
    assert_same_state(host_state(target), host_state(source))
    assert target.hyperparameters == source.hyperparameters


@pytest.mark.parametrize("kind", [kind for kind in LAYERS if LAYERS[kind].make().state_dict()])
def test_set_params_takes_nested_lists_onto_each_arrays_backend(backend, kind):
    source, target = LAYERS[kind].make(), other_weights(kind)
    lists = {key: tinyml.to_numpy(value).tolist() for key, value in source.state_dict().items()}
    parameters = {key: value for key, value in lists.items() if key in source.named_parameters()}
    target.set_params({"parameters": parameters,
                       "buffers": {k: v for k, v in lists.items() if k not in parameters}})
    assert_same_state(host_state(target), host_state(source))
    for value in target.state_dict().values():
        assert_on_backend(value, backend)


@pytest.mark.parametrize("kind", LAYERS)
def test_flush_gradients_zeroes_gradients_and_drops_records(backend, kind):
    x = case_input(kind)
    layer = build(kind, x)
    output = call(layer, x)
    layer.backward(like_output(output, np.ones))
    call(layer, x)
    assert layer.pending_records == 1
    unused = UNUSED_BY_FORWARD.get(kind, set())
    grads = [tinyml.to_numpy(p.grad) for name, p in layer.named_parameters().items()
             if name not in unused]
    assert all(np.abs(grad).max() > 0 for grad in grads), "the test needs gradients to flush"
    assert layer.flush_gradients() is layer
    assert layer.pending_records == 0
    assert all(not np.any(tinyml.to_numpy(p.grad)) for p in layer.parameters())
    for p in layer.parameters():
        assert_on_backend(p.grad, backend)


@pytest.mark.parametrize("kind", LAYERS)
def test_freeze_and_unfreeze(kind):
    layer = LAYERS[kind].make()
    assert layer.freeze() is layer and not any(p.trainable for p in layer.parameters())
    assert layer.unfreeze() is layer and all(p.trainable for p in layer.parameters())


# ---------------------------------------------------------------- nets
def nested_net():
    block = Net([Linear("fc", 4, 4), ReLu("relu")], name="block")
    return Net([Linear("fc1", 3, 4), block, Linear("head", 4, 2), Softmax("softmax")])


def test_a_net_prints_its_table_and_gives_the_dict_with_print_fn_none(backend):
    net = nested_net()
    lines = []
    assert net.summary(print_fn=lines.append) is None and "block.fc (Linear)" in lines[0]
    summary = net.summary(print_fn=None)
    assert summary["class"] == "Net" and summary["name"] is None
    assert list(summary["parameters"]) == list(net.state_dict())
    assert summary["hyperparameters"]["layers"][1]["name"] == "block"


def test_set_params_on_a_net_takes_dotted_keys(backend):
    source = nested_net()
    with tinyml.use_seed(7):
        target = nested_net()
    target.set_params(source.summary(print_fn=None))
    assert_same_state(host_state(target), host_state(source))
    target.set_params({"parameters": {"block.fc.bias": [1.0, 2.0, 3.0, 4.0]}})
    np.testing.assert_array_equal(tinyml.to_numpy(target["block"]["fc"].bias.data), [1, 2, 3, 4])


def test_flush_gradients_on_a_net_reaches_nested_layers(backend):
    net = nested_net()
    x = tinyml.asarray(np.random.default_rng(0).standard_normal((5, 3)))
    net.backward(tinyml.asarray(np.random.default_rng(1).standard_normal(
        tuple(net.forward(x).shape))))
    net.forward(x)
    inner = net["block"]["fc"]
    assert np.abs(tinyml.to_numpy(inner.weight.grad)).max() > 0 and inner.pending_records == 1
    net.flush_gradients()
    assert inner.pending_records == 0 and not np.any(tinyml.to_numpy(inner.weight.grad))


# ---------------------------------------------------------------- hyperparameters in place
def test_a_changed_hyperparameter_rebuilds_the_layer_in_place(backend):
    drop = Dropout("drop", 0.5)
    net = Net([Linear("fc", 3, 3), drop])
    assert drop.set_params({"hyperparameters": {"probability": 0.2}}) is drop
    assert net["drop"] is drop and drop.probability == 0.2
    assert drop.hyperparameters["probability"] == 0.2
    softmax = Softmax("softmax").eval()
    softmax.set_params({"hyperparameters": {"name": "softmax", "axis": 0}})
    assert softmax.axis == 0 and not softmax.training


def test_a_rebuild_keeps_weights_frozen_flags_and_the_callers_streams(backend):
    layer = Linear("fc", 3, 2)
    layer.bias.trainable = False
    before = host_state(layer)
    tinyml.seed(5)
    expected = tinyml.to_numpy(tinyml.get_backend().uniform((3,)))
    tinyml.seed(5)
    layer.set_params({"hyperparameters": {"init": "zeros"}})
    assert_same_state(host_state(layer), before)
    assert layer.hyperparameters["init"] == "zeros"
    assert [p.trainable for p in layer.parameters()] == [True, False]
    np.testing.assert_array_equal(tinyml.to_numpy(tinyml.get_backend().uniform((3,))), expected)
    for value in layer.state_dict().values():
        assert_on_backend(value, backend)


def test_a_hyperparameter_that_changes_shapes_changes_nothing(backend):
    layer = Linear("fc", 3, 2)
    before = host_state(layer)
    with pytest.raises(ValueError, match=r"Linear 'fc'\.set_params: changing output_dim changes "
                                         r"the parameters or buffers .*Build a new layer"):
        layer.set_params({"hyperparameters": {"output_dim": 5},
                          "parameters": {"bias": [1.0, 1.0]}})
    assert_same_state(host_state(layer), before)
    assert layer.output_dim == 2


def test_a_constructor_refusing_a_new_hyperparameter_changes_nothing():
    drop = Dropout("drop", 0.5)
    with pytest.raises(ValueError,
                       match=r"Dropout 'drop': invalid probability \(of dropping\) 1.5"):
        drop.set_params({"hyperparameters": {"probability": 1.5}})
    assert drop.probability == 0.5


@pytest.mark.parametrize("summary, error, message", [
    ([1, 2], TypeError, r"Linear 'fc'\.set_params takes a dict like the one summary\(\) "
                        r"returns; got list"),
    ({"weights": {}}, ValueError, r"unknown keys \['weights'\]; a summary has the keys class, "),
    ({"class": "Conv2D"}, ValueError, r"the summary is of a Conv2D, not a Linear"),
    ({"name": "fc2"}, ValueError, r"the summary is of the layer 'fc2', not 'fc'; names key"),
    ({"parameters": {"kernel": [1.0]}}, ValueError, r"has no parameters \['kernel'\]; its "
                                                    r"parameters are \['weight', 'bias'\]"),
    ({"buffers": {"mean": [1.0]}}, ValueError, r"has no buffers \['mean'\]; its buffers are "
                                               r"\[\]"),
    ({"parameters": {"bias": [1.0, 2.0, 3.0]}}, ValueError, r"parameters 'bias' has shape "
                                                            r"\(3,\); Linear 'fc''s is \(2,\)"),
    ({"parameters": {"bias": ["a", "b"]}}, ValueError, r"parameters 'bias' is not an array of "
                                                       r"numbers"),
    ({"parameters": {"bias": np.array([1j, 2j])}}, ValueError, r"parameters 'bias' has dtype "
                                                               r"kind 'c'; it must hold real"),
    ({"parameters": [1.0]}, TypeError, r"parameters should be a dict \{key: array\}; got list"),
    ({"hyperparameters": [1]}, TypeError, r"hyperparameters should be a dict; got list"),
    ({"hyperparameters": {"units": 3}}, ValueError, r"has no hyperparameters \['units'\]; it "
                                                    r"has \['name', 'input_dim', "),
    ({"hyperparameters": {"name": "fc2"}}, ValueError, r"hyperparameter 'name' cannot change"),
])
def test_set_params_errors_change_nothing(backend, summary, error, message):
    layer = Linear("fc", 3, 2)
    before = host_state(layer)
    with pytest.raises(error, match=message):
        layer.set_params(summary)
    assert_same_state(host_state(layer), before)


def test_set_params_cannot_swap_layers(backend):
    net = nested_net()
    layers = net.hyperparameters["layers"]
    with pytest.raises(ValueError, match=r"Net\.set_params: hyperparameter 'layers' holds "
                                         r"layers, which set_params cannot swap"):
        net.set_params({"hyperparameters": {"layers": layers[:2]}})
    assert len(net) == 4
    net.set_params({"hyperparameters": {"layers": layers}})  # unchanged: nothing to do


def test_set_params_on_a_registered_layer_of_a_users_own(backend):
    layer = Scale("scale", 3)
    layer.set_params({"hyperparameters": {"offset": 2.0}, "parameters": {"scale": [1, 2, 3]}})
    assert layer.offset == 2.0
    assert_close(layer.forward(tinyml.asarray(np.ones((1, 3)))), [[3.0, 4.0, 5.0]],
                 backend=backend)
