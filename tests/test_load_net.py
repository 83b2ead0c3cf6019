"""net.save stores the architecture beside the weights; tinyml.load_net rebuilds a trained net
from the file alone, on any backend; weights-only files still load with net.load."""

import json
import pathlib
import re
import warnings
import zipfile

import numpy as np
import pytest
from config_layers import (
    Scale,
    ScaleLike,
    assert_same_state,
    host_state,
    net_around,
    to_host,
)
from test_layer_contract import LAYERS

import tinyml
from tinyml import Layer, Net, io
from tinyml.layers import Dropout, Flatten, Linear, ReLu, Softmax
from tinyml.testing import assert_close, assert_on_backend


def trained_once(net, x):
    """One training-mode forward (buffers such as running statistics move), then eval mode."""
    net.forward(x)
    return net.eval().clear_records()


@pytest.mark.parametrize("kind", LAYERS)
def test_save_then_load_net_gives_the_same_outputs_and_state(backend, kind, tmp_path):
    net, x = net_around(kind)
    net = trained_once(net, x)
    expected = to_host(net.forward(x))
    net.save(tmp_path / "net.npz")
    loaded = tinyml.load_net(tmp_path / "net.npz")
    assert type(loaded[0]) is type(net[0]) and loaded.config() == net.config()
    assert_same_state(host_state(loaded), host_state(net))
    for value in loaded.state_dict().values():
        assert_on_backend(value, backend)
    output = loaded.eval().forward(x)
    if isinstance(output, tuple):  # an LSTM cell's (h, c)
        for got, want in zip(output, expected, strict=True):
            assert_close(got, want, backend=backend)
    else:
        assert_close(output, expected, backend=backend)


def nested_net():
    block = Net([Linear("fc", 6, 6), ReLu("relu"), Dropout("drop", 0.5)], name="block")
    return Net([Flatten("flat"), Linear("fc1", 12, 6), block, Linear("head", 6, 3),
                Softmax("softmax")])


def test_a_trained_nested_net_comes_back_from_the_file_alone(backend, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3, 4)), rng.integers(0, 3, 16)
    net = nested_net()
    tinyml.Learner(net, tinyml.losses.cross_entropy, tinyml.optim.SGD(lr=0.1),
                   batch_size=4).fit(x, y, epochs=2, verbose=0)
    net.save(tmp_path / "net.npz")
    loaded = tinyml.load_net(tmp_path / "net.npz")
    assert list(loaded.state_dict()) == list(net.state_dict())
    assert "block.fc.weight" in loaded.state_dict() and loaded["block"]["drop"].probability == 0.5
    probe = tinyml.asarray(x)
    assert_close(loaded.eval().forward(probe), tinyml.to_numpy(net.eval().forward(probe)),
                 backend=backend)


def test_load_net_on_another_backend(backend, tmp_path):
    with tinyml.use_backend("numpy", dtype="float64"):
        net = nested_net()
        net.save(tmp_path / "net.npz")
    current = tinyml.load_net(tmp_path / "net.npz")
    for value in current.state_dict().values():
        assert_on_backend(value, backend)
    on_numpy = tinyml.load_net(tmp_path / "net.npz", backend="numpy")
    assert on_numpy.backend.name == "numpy"
    assert_same_state(host_state(current), host_state(net))


def test_load_net_leaves_the_callers_random_streams_alone(backend, tmp_path):
    nested_net().save(tmp_path / "net.npz")
    tinyml.seed(9)
    expected = tinyml.to_numpy(tinyml.get_backend().uniform((4,)))
    tinyml.seed(9)
    tinyml.load_net(tmp_path / "net.npz")
    np.testing.assert_array_equal(tinyml.to_numpy(tinyml.get_backend().uniform((4,))), expected)


def test_references_and_layers_of_a_users_own_survive_the_file(backend, tmp_path):
    source = Scale("source", 3, offset=0.5)
    net = Net([Net([source], name="block"), ScaleLike("like", source)])
    x = tinyml.asarray(np.random.default_rng(0).standard_normal((2, 3)))
    net.save(tmp_path / "net.npz")
    loaded = tinyml.load_net(tmp_path / "net.npz")
    assert loaded[1]._like is loaded["block"]["source"]
    assert_close(loaded.forward(x), tinyml.to_numpy(net.forward(x)), backend=backend)


# ---------------------------------------------------------------- the file
def test_the_config_is_json_bytes_beside_unchanged_weight_keys(tmp_path):
    net = nested_net()
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as archive:
        weights = [key for key in archive.files if key != io.CONFIG_KEY]
        assert weights == list(net.state_dict())
        member = archive[io.CONFIG_KEY]
        assert member.dtype == np.uint8 and member.ndim == 1
        assert json.loads(member.tobytes().decode("utf-8")) == net.config()


def test_config_false_saves_the_weights_only(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nested_net().save(tmp_path / "net.npz", config=False)
    assert io.CONFIG_KEY not in io.load_state(tmp_path / "net.npz")


class Unregistered(Layer):
    pass


def test_a_net_that_cannot_describe_itself_saves_weights_only_and_warns(tmp_path):
    net = Net([Linear("fc", 2, 2), Unregistered("mine")])
    with pytest.warns(UserWarning, match=r"saved the weights only, without the architecture, "
                                         r"because Unregistered 'mine': its class .* is not "
                                         r"registered.*Pass config=False"):
        net.save(tmp_path / "net.npz")
    assert sorted(io.load_state(tmp_path / "net.npz")) == ["fc.bias", "fc.weight"]
    with pytest.raises(TypeError, match="is not registered"):
        net.save(tmp_path / "required.npz", config=True)
    assert not (tmp_path / "required.npz").exists()


def test_net_load_ignores_the_stored_architecture(backend, tmp_path):
    trained = nested_net()
    trained.save(tmp_path / "net.npz")
    other = nested_net()
    other["block"]["drop"].set_params({"hyperparameters": {"probability": 0.0}})
    assert other.load(tmp_path / "net.npz") is other
    assert other["block"]["drop"].probability == 0.0
    assert_same_state(host_state(other), host_state(trained))


# ---------------------------------------------------------------- errors
def test_load_net_on_a_weights_only_file_says_to_build_the_net(tmp_path):
    path = tmp_path / "weights.npz"
    nested_net().save(path, config=False)
    with pytest.raises(ValueError, match=r"weights\.npz holds weights only, no architecture .* "
                                         r"Build the net in code and call net\.load\("):
        tinyml.load_net(path)
    assert nested_net().load(path)  # and that works


def write_with_config(path, member):
    state = {key: tinyml.to_numpy(value) for key, value in nested_net().state_dict().items()}
    np.savez(path, **state, **{io.CONFIG_KEY: member})


@pytest.mark.parametrize("member, message", [
    (np.frombuffer(b"{not json", dtype=np.uint8), r"'__config__' member is not UTF-8 JSON"),
    (np.frombuffer(b"\xff\xfe{}", dtype=np.uint8), r"'__config__' member is not UTF-8 JSON"),
    (np.frombuffer(b"[1, 2]", dtype=np.uint8),
     r"'__config__' member should hold a JSON object \(the net's config\); it holds a list"),
    (np.ones(3), r"'__config__' member should be a 1-D uint8 array of UTF-8 JSON; it is "
                 r"float64 of shape \(3,\)"),
    (np.frombuffer(b"[" * 100000, dtype=np.uint8),
     r"'__config__' member is not UTF-8 JSON \(maximum recursion depth"),
])
def test_a_damaged_config_member_is_a_value_error_naming_the_file(tmp_path, member, message):
    path = tmp_path / "net.npz"
    write_with_config(path, member)
    with pytest.raises(ValueError, match=rf"net\.npz: the {message}.*net\.load\("):
        tinyml.load_net(path)
    assert nested_net().load(path)  # the weights still load into a net built in code


def test_a_config_naming_an_unknown_class_is_a_value_error(tmp_path):
    config = nested_net().config()
    config["hyperparameters"]["layers"][0]["class"] = "Mystery"
    path = tmp_path / "net.npz"
    write_with_config(path, io.encode_config(config))
    with pytest.raises(ValueError, match=r"names the layer class 'Mystery'.*register_layer"):
        tinyml.load_net(path)


def test_a_config_that_is_not_a_net_is_a_value_error(tmp_path):
    path = tmp_path / "net.npz"
    write_with_config(path, io.encode_config(Linear("fc", 2, 2).config()))
    with pytest.raises(ValueError, match="describes Linear 'fc', not a Net"):
        tinyml.load_net(path)


def test_load_net_of_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        tinyml.load_net(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a tinyml weights file"):
        tinyml.load_net(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "empty.npz", "w"):
        pass
    with pytest.raises(ValueError, match="holds weights only"):
        tinyml.load_net(tmp_path / "empty.npz")


def test_encode_config_and_decode_config_are_inverse():
    config = nested_net().config()
    assert io.decode_config(io.encode_config(config)) == config
    assert io.decode_config(io.encode_config({"name": "Ünïcode"})) == {"name": "Ünïcode"}



def test_a_plain_np_load_of_a_saved_file_loads_with_load_state_dict(backend, tmp_path):
    net = nested_net()
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as archive:
        state = dict(archive)
    assert io.CONFIG_KEY in state
    twin = nested_net().load_state_dict(state)
    assert twin.missing_keys == [] and twin.unexpected_keys == []


def test_the_readme_example_runs(tmp_path, monkeypatch):
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = next(block for block in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                   if "load_net" in block)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert (tmp_path / "net.npz").exists()
