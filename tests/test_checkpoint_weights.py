"""A training checkpoint is also a weights file: net.load, load_net and the metadata read the
net out of it; a file that cannot say what it holds says so."""

import numpy as np
import pytest

import tinyml
from tinyml import Learner, Net, io
from tinyml.layers import Flatten, Linear, ReLu, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

X = np.random.default_rng(0).random((24, 1, 4, 4), dtype=np.float32)
Y = np.arange(24) % 3


def layers():
    return [Flatten("flat"), Linear("fc1", 8), ReLu("relu"), Linear("fc2", 3),
            Softmax("softmax")]


@pytest.fixture
def checkpoint(tmp_path):
    """(the learner after 2 epochs, the checkpoint it wrote)."""
    net = Net(layers(), input_shape=(1, 4, 4))
    net.metadata = {"dataset": "tiny", "class_names": ["a", "b", "c"]}
    learner = Learner(net, cross_entropy, Adam(lr=0.01), batch_size=8, seed=0)
    learner.fit(X, Y, epochs=2, verbose=0)
    learner.save_checkpoint(tmp_path / "run.npz")
    return learner, tmp_path / "run.npz"


def same_weights(a, b):
    left, right = a.state_dict(), b.state_dict()
    assert list(left) == list(right)
    for key in left:
        np.testing.assert_array_equal(tinyml.to_numpy(left[key]), tinyml.to_numpy(right[key]))


def test_the_checkpoint_keeps_the_architecture_and_metadata(checkpoint):
    learner, path = checkpoint
    names = io.stored_names(path)
    assert io.weights_prefix(names) == "net/"
    assert io.load_json(path, io.CONFIG_KEY) == learner.net.config()
    assert io.load_json(path, io.METADATA_KEY) == learner.net.metadata
    assert io.load_json(path, io.CHECKPOINT_KEY)["epoch"] == 2


def test_load_net_and_net_load_read_the_net_out_of_a_checkpoint(checkpoint, backend):
    learner, path = checkpoint
    loaded = tinyml.load_net(path, backend=backend)
    same_weights(loaded, learner.net)
    assert loaded.metadata == {"dataset": "tiny", "class_names": ["a", "b", "c"]}
    assert tinyml.backend.backend_of(loaded["fc1"].weight.data).name == backend.name
    built = Net(layers(), input_shape=(1, 4, 4)).load(path)
    same_weights(built, learner.net)
    unbuilt = Net(layers()).load(path)  # built for the input shape the checkpoint records
    assert unbuilt.input_shape == (1, 4, 4)
    same_weights(unbuilt, learner.net)


def test_a_net_of_another_shape_is_told_it_is_a_checkpoint_that_does_not_fit(checkpoint):
    _, path = checkpoint
    other = Net([Flatten("flat"), Linear("fc1", 5), ReLu("relu"), Linear("fc2", 3)],
                input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match=r"run\.npz \(the net in this training checkpoint\) "
                                         r"does not fit, so nothing was read: .*mis-shaped: "
                                         r"fc1\.weight"):
        other.load(path)


def test_a_checkpoint_without_the_architecture_says_so(checkpoint, tmp_path):
    learner, path = checkpoint
    state = io.load_state(path)
    del state[io.CONFIG_KEY]
    io.save_state(state, tmp_path / "old.npz")
    with pytest.raises(ValueError, match=r"is a training checkpoint written without the net's "
                                         r"architecture.*net\.load\("):
        tinyml.load_net(tmp_path / "old.npz")
    same_weights(Net(layers(), input_shape=(1, 4, 4)).load(tmp_path / "old.npz"), learner.net)
    with pytest.raises(RuntimeError, match=r"does not record the input shape.*net\.build"):
        Net(layers()).load(tmp_path / "old.npz")


def test_resuming_an_unbuilt_net_builds_it_from_the_data_first(checkpoint):
    _, path = checkpoint
    fresh = Learner(Net(layers()), cross_entropy, Adam(lr=0.01), batch_size=8)
    fresh.fit(X, Y, epochs=3, resume_from=path, verbose=0)
    built = Learner(Net(layers(), input_shape=(1, 4, 4)), cross_entropy, Adam(lr=0.01),
                    batch_size=8)
    built.fit(X, Y, epochs=3, resume_from=path, verbose=0)
    assert fresh.epoch == built.epoch == 3
    same_weights(fresh.net, built.net)  # bit for bit, as resuming a built net


def test_load_checkpoint_builds_an_unbuilt_net_for_the_recorded_shape(checkpoint):
    learner, path = checkpoint
    fresh = Learner(Net(layers()), cross_entropy, Adam(lr=0.01), batch_size=8)
    fresh.load_checkpoint(path)
    assert fresh.epoch == 2 and fresh.net.input_shape == (1, 4, 4)
    same_weights(fresh.net, learner.net)


def test_net_metadata_is_saved_and_skipped_by_load_state_dict(tmp_path):
    net = Net(layers(), input_shape=(1, 4, 4))
    net.metadata = {"dataset": "tiny"}
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as archive:
        net.load_state_dict(dict(archive))  # the descriptions beside the weights are skipped
    assert tinyml.load_net(tmp_path / "net.npz").metadata == {"dataset": "tiny"}
    with pytest.raises(TypeError, match="net.metadata must be a dict"):
        net.metadata = ["tiny"]
