"""Checkpoints: .npz without pickle, written atomically, loadable on any backend."""

import os

import numpy as np
import pytest

import tinyml
from tinyml import io
from tinyml.backend import make_backend
from tinyml.layers import Flatten, Linear, ReLu, Softmax
from tinyml.testing import assert_close


def make_net():
    return tinyml.Net([Flatten("flat"), Linear("fc1", 6, 4), ReLu("relu"), Linear("fc2", 4, 2),
                       Softmax("softmax")])


def test_save_on_one_backend_load_on_another(backend, tmp_path):
    path = tmp_path / "weights.npz"
    with tinyml.use_backend("numpy"):
        trained = make_net()
        trained.save(path)
        saved = {k: tinyml.to_numpy(v) for k, v in trained.state_dict().items()}
    restored = make_net().load(path)
    assert restored.backend.name == backend.name
    for key, value in restored.state_dict().items():
        assert_close(value, saved[key], backend=backend)


def test_file_is_a_plain_npz_keyed_like_the_state_dict(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(str(path))
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(set(archive.files) - {io.CONFIG_KEY}) == ["fc1.bias", "fc1.weight",
                                                                "fc2.bias", "fc2.weight"]
        assert archive["fc1.weight"].shape == (4, 6)


def test_save_leaves_no_temporary_file_and_replaces_the_old_one(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"old")
    make_net().save(path)
    assert os.listdir(tmp_path) == ["weights.npz"]
    assert io.load_state(path)["fc2.bias"].shape == (2,)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        make_net().save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_device_arrays_save_through_the_host(tmp_path):
    strict = make_backend("array_api_strict", device="device1", dtype="float64")
    io.save_state({"a.weight": strict.asarray(np.arange(3.0))}, tmp_path / "w.npz")
    np.testing.assert_array_equal(io.load_state(tmp_path / "w.npz")["a.weight"], [0, 1, 2])


def test_loading_refuses_pickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"fc1.weight": np.array([{"code": 1}], dtype=object)})
    with pytest.raises(ValueError, match="not a tinyml weights file"):
        io.load_state(path)


@pytest.mark.parametrize("content", [b"not a zip at all", None])
def test_loading_something_else_says_so(tmp_path, content):
    path = tmp_path / "weights.npz"
    if content is None:
        np.save(tmp_path / "single.npy", np.ones(3))
        path = tmp_path / "single.npy"
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="not a tinyml weights file"):
        make_net().load(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        make_net().load(tmp_path / "nope.npz")


def test_loading_into_the_wrong_architecture_names_the_keys(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    other = tinyml.Net([Flatten("flat"), Linear("fc1", 6, 3)])
    with pytest.raises(ValueError, match=r"unexpected keys: fc2\.weight, fc2\.bias.*fc1\.weight"):
        other.load(path)
