"""Net: composition, parameters by name, state dicts, moving, modes and the summary."""

import numpy as np
import pytest

import tinyml
from tinyml.backend import make_backend
from tinyml.layers import Conv2D, Dropout, Flatten, Linear, MaxPool2D, ReLu, Softmax
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


def small_net():
    return tinyml.Net([Flatten("flat"), Linear("fc1", 12, 5), ReLu("relu"), Dropout("drop", 0.5),
                       Linear("fc2", 5, 3), Softmax("softmax")])


def host_state(net):
    return {key: tinyml.to_numpy(value).copy() for key, value in net.state_dict().items()}


def test_state_dict_keys_follow_layer_and_attribute_order(backend):
    net = small_net()
    assert list(net.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert net.state_dict()["fc1.weight"].shape == (5, 12)
    assert [p.name for p in net.parameters()] == ["weight", "bias", "weight", "bias"]


def test_forward_and_backward_chain_the_layers(backend):
    net = tinyml.Net([layer for layer in small_net() if layer.name != "drop"])
    x = RNG.standard_normal((4, 3, 4))
    state = host_state(net)
    hidden = np.maximum(x.reshape(4, 12) @ state["fc1.weight"].T + state["fc1.bias"], 0)
    logits = hidden @ state["fc2.weight"].T + state["fc2.bias"]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_close(net.forward(tinyml.asarray(x)), expected, backend=backend)
    grad_in = net.backward(tinyml.asarray(np.ones((4, 3))))
    # Softmax's rows sum to one, so a constant upstream gradient has no effect on anything.
    assert_close(grad_in, np.zeros((4, 3, 4)), backend=backend, atol=1e-12)


def test_backward_then_update_changes_only_trainable_parameters(backend):
    net = small_net()
    net["fc2"].freeze()
    before = host_state(net)
    net.zero_grad()
    net.forward(tinyml.asarray(RNG.standard_normal((4, 12))))
    net.backward(tinyml.asarray(RNG.standard_normal((4, 3))))
    net.update(SGD(lr=0.1))
    after = host_state(net)
    assert not np.allclose(before["fc1.weight"], after["fc1.weight"])
    np.testing.assert_array_equal(before["fc2.weight"], after["fc2.weight"])
    net["fc2"].unfreeze()
    assert all(p.trainable for p in net.parameters())


def test_zero_grad_zeroes_every_gradient(backend):
    net = small_net()
    net.forward(tinyml.asarray(RNG.standard_normal((2, 12))))
    net.backward(tinyml.asarray(RNG.standard_normal((2, 3))))
    net.zero_grad()
    for parameter in net.parameters():
        assert not np.any(tinyml.to_numpy(parameter.grad))


def test_train_and_eval_switch_every_layer(backend):
    net = small_net()
    assert net.eval() is net and not net.training
    assert all(not layer.training for layer in net)
    net.train()
    assert all(layer.training for layer in net)


def test_load_state_dict_round_trip_from_host_and_other_backends(backend):
    source, target = small_net(), small_net()
    state = host_state(source)
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        assert_close(value, state[key], backend=backend)
    strict = make_backend("array_api_strict", device="device2", dtype="float32")
    target.load_state_dict({k: strict.asarray(v) for k, v in state.items()})
    for key, value in target.state_dict().items():
        assert_close(value, state[key], backend=backend, rtol=1e-6)


def test_load_state_dict_copies(backend):
    net = small_net()
    state = host_state(net)
    net.load_state_dict(state)
    state["fc1.bias"][:] = 42.0
    assert not np.any(tinyml.to_numpy(net.state_dict()["fc1.bias"]) == 42.0)


def test_load_state_dict_lists_every_problem_and_changes_nothing(backend):
    net = small_net()
    before = host_state(net)
    bad = dict(before)
    del bad["fc2.bias"]
    bad["fc3.weight"] = np.zeros((2, 2))
    bad["fc1.weight"] = np.zeros((4, 12))
    with pytest.raises(ValueError, match=r"changed nothing.*missing keys: fc2\.bias.*unexpected "
                                         r"keys: fc3\.weight.*fc1\.weight: checkpoint \(4, 12\), "
                                         r"net \(5, 12\)"):
        net.load_state_dict(bad)
    for key, value in host_state(net).items():
        np.testing.assert_array_equal(value, before[key])


def test_non_strict_load_reports_missing_and_unexpected(backend):
    net = small_net()
    partial = {"fc1.weight": np.ones((5, 12)), "extra.weight": np.ones(1)}
    result = net.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["fc1.bias", "fc2.weight", "fc2.bias"]
    assert result.unexpected_keys == ["extra.weight"]
    assert_close(net.state_dict()["fc1.weight"], np.ones((5, 12)), backend=backend)
    with pytest.raises(ValueError, match="mis-shaped"):
        net.load_state_dict({"fc1.weight": np.ones((12, 5))}, strict=False)


def test_to_moves_every_parameter_and_returns_the_net(backend):
    net = small_net()
    state = host_state(net)
    target = make_backend("array_api_strict", device="device2", dtype="float64")
    assert net.to(target) is net
    assert net.backend == target
    for key, value in net.state_dict().items():
        assert_close(value, state[key], backend=target)
    output = net.forward(target.asarray(RNG.standard_normal((2, 12))))
    assert_close(output, tinyml.to_numpy(output), backend=target)


def test_a_net_on_one_backend_refuses_data_from_another(backend):
    net = small_net()
    other = "numpy" if backend.name != "numpy" else "array_api_strict"
    data = make_backend(other, dtype="float64").asarray(np.ones((2, 12)))
    with pytest.raises(TypeError, match=r"Linear 'fc1': parameter 'weight' lives on .*net\.to"):
        net.forward(data)  # Flatten passes it on; fc1 is where it meets the weights


def test_add_checks_layers():
    net = tinyml.Net()
    assert net.add(Linear("fc", 2, 2)) is net
    with pytest.raises(ValueError, match="already has a layer named 'fc'"):
        net.add(ReLu("fc"))
    with pytest.raises(TypeError, match="Net.add takes a tinyml Layer; got function"):
        net.add(lambda x: x)
    with pytest.raises(ValueError, match="return_index=True.*return_index=False inside a Net"):
        net.add(MaxPool2D("pool", (1, 4, 4), 2, 2, return_index=True))


def test_layers_by_name_and_position():
    net = small_net()
    assert net["fc2"] is net[4] and len(net) == 6
    assert [layer.name for layer in net][:2] == ["flat", "fc1"]
    with pytest.raises(KeyError, match="no layer named 'fc9'"):
        net["fc9"]
    assert repr(net).startswith("Net([Flatten('flat'), Linear('fc1')")


def test_output_shape_checks_every_layer():
    net = small_net()
    assert net.output_shape((7, 3, 4)) == (7, 3)
    with pytest.raises(ValueError, match=r"Linear 'fc1' expects input of shape \(batch, 12\); "
                                         r"got \(7, 10\)"):
        net.output_shape((7, 10))


def test_summary_shows_shapes_and_parameter_counts():
    net = tinyml.Net([Conv2D("conv", (1, 8, 8), 4, 3, 3, 1, 1), ReLu("relu"),
                      MaxPool2D("pool", (4, 8, 8), 2, 2), Flatten("flat"),
                      Linear("fc", 64, 10), Softmax("softmax")])
    lines = []
    net.summary(print_fn=lines.append)
    table = lines[0]
    assert "conv (Conv2D)" in table and "(None, 4, 8, 8)" in table and "40" in table
    assert "(None, 4, 4, 4)" in table and "(None, 64)" in table and "650" in table
    assert "Total params: 690 (trainable: 690)" in table


def test_summary_with_an_input_shape_fills_in_flatten():
    lines = []
    small_net().summary(input_shape=(3, 4), print_fn=lines.append)
    assert "flat (Flatten)     (None, 12)" in lines[0]
    lines.clear()
    small_net().summary(print_fn=lines.append)
    assert "flat (Flatten)     ?" in lines[0]
