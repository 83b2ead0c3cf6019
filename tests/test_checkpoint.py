"""Training checkpoints: resume equals an uninterrupted run, bit for bit; a checkpoint that does
not fit changes nothing."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyml
from tinyml.layers import Dropout, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD, Adam
from tinyml.optim.schedules import CosineScheduler, ReduceOnPlateau

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((90, 6)).astype(np.float32)
Y = (X[:, 0] - X[:, 2] > 0).astype(np.int64)

OPTIMIZERS = {
    "sgd-momentum": lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
    "adam-cosine": lambda: Adam(lr=0.01, scheduler=CosineScheduler(initial_lr=0.01,
                                                                   total_steps=40)),
    "sgd-plateau": lambda: SGD(lr=0.1, scheduler=ReduceOnPlateau(initial_lr=0.1, patience=0,
                                                                 factor=0.5)),
}


def make_learner(optimizer="sgd-momentum", hidden=12):
    tinyml.seed(1)  # the same initial weights in every learner
    net = tinyml.Net([Linear("fc1", 6, hidden), ReLU("relu"), Dropout("drop", 0.25),
                      Linear("fc2", hidden, 2), Softmax("softmax")])
    return tinyml.Learner(net, cross_entropy, OPTIMIZERS[optimizer](), batch_size=16, seed=0)


def host_state(learner):
    return {k: tinyml.to_numpy(v).copy() for k, v in learner.net.state_dict().items()}


def assert_same_weights(a, b):
    wa, wb = host_state(a), host_state(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert np.array_equal(wa[key], wb[key]), key


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_two_epochs_a_checkpoint_and_two_more_equal_four_straight(backend, optimizer, tmp_path):
    straight = make_learner(optimizer)
    straight.fit(X, Y, epochs=4, verbose=0)
    first = make_learner(optimizer)
    first.fit(X, Y, epochs=2, verbose=0)
    first.save_checkpoint(tmp_path / "run.npz")
    resumed = make_learner(optimizer)
    history = resumed.fit(X, Y, epochs=4, resume_from=tmp_path / "run.npz", verbose=0)
    assert_same_weights(straight, resumed)
    assert history.epoch == [2, 3] and resumed.epoch == 4 and resumed.step == straight.step
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.history.epoch == [0, 1, 2, 3]
    assert resumed.optimizer.state_dict()["step"] == straight.optimizer.state_dict()["step"]


def test_a_resume_in_a_new_process_equals_the_straight_run(tmp_path):
    first = make_learner()
    first.fit(X, Y, epochs=2, verbose=0)
    first.save_checkpoint(tmp_path / "run.npz")
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / "tests")!r})
import numpy as np
import tinyml
from test_checkpoint import X, Y, make_learner
learner = make_learner()
learner.fit(X, Y, epochs=4, resume_from={str(tmp_path / "run.npz")!r}, verbose=0)
np.savez({str(tmp_path / "after.npz")!r}, **{{k: tinyml.to_numpy(v) for k, v in
                                             learner.net.state_dict().items()}})
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    straight = make_learner()
    straight.fit(X, Y, epochs=4, verbose=0)
    with np.load(tmp_path / "after.npz") as after:
        for key, value in host_state(straight).items():
            assert np.array_equal(after[key], value), key


def test_resuming_a_finished_run_trains_nothing(tmp_path, capsys):
    first = make_learner()
    first.fit(X, Y, epochs=3, verbose=0)
    first.save_checkpoint(tmp_path / "run.npz")
    again = make_learner()
    history = again.fit(X, Y, epochs=3, resume_from=tmp_path / "run.npz", verbose=1)
    assert dict(history) == {} and again.epoch == 3
    assert_same_weights(first, again)
    assert "nothing to train" in capsys.readouterr().out


def test_a_weights_file_is_not_a_checkpoint(tmp_path):
    learner = make_learner()
    learner.net.save(tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a training checkpoint.*net.load"):
        make_learner().fit(X, Y, epochs=1, resume_from=tmp_path / "weights.npz", verbose=0)


def test_a_missing_checkpoint_names_its_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        make_learner().fit(X, Y, epochs=1, resume_from=tmp_path / "nope.npz", verbose=0)


@pytest.mark.parametrize("other", ["wider net", "other optimizer"])
def test_a_checkpoint_that_does_not_fit_changes_nothing(tmp_path, other):
    source = make_learner()
    source.fit(X, Y, epochs=1, verbose=0)
    source.save_checkpoint(tmp_path / "run.npz")
    target = make_learner("adam-cosine") if other == "other optimizer" else make_learner(hidden=13)
    target.fit(X, Y, epochs=1, verbose=0)
    weights, optimizer = host_state(target), target.optimizer.state_dict()
    streams = tinyml.backend.streams_state()
    with pytest.raises(ValueError, match="run.npz"):
        target.load_checkpoint(tmp_path / "run.npz")
    for key, value in host_state(target).items():
        assert np.array_equal(weights[key], value), key
    after = target.optimizer.state_dict()
    assert after["step"] == optimizer["step"] and after["lr"] == optimizer["lr"]
    for name, entry in optimizer["state"].items():
        for key, value in entry.items():
            assert np.array_equal(after["state"][name][key], value)
    assert tinyml.backend.streams_state() == streams and target.epoch == 1


def test_a_checkpoint_needs_an_optimizer_with_state(tmp_path):
    class Plain:
        def step(self, parameters):
            pass

    tinyml.seed(0)
    learner = tinyml.Learner(tinyml.Net([Linear("fc", 6, 2), Softmax("sm")]), cross_entropy,
                             Plain())
    with pytest.raises(TypeError, match="state_dict"):
        learner.save_checkpoint(tmp_path / "run.npz")
    assert not os.listdir(tmp_path)


def test_a_checkpoint_is_a_plain_npz_without_pickle(tmp_path):
    learner = make_learner("adam-cosine")
    learner.fit(X, Y, epochs=1, verbose=0)
    learner.save_checkpoint(tmp_path / "run.npz")
    with np.load(tmp_path / "run.npz", allow_pickle=False) as archive:
        names = set(archive.files)
    assert "net/fc1.weight" in names and "__checkpoint__" in names
    assert {"optimizer/fc1.weight/m", "optimizer/fc1.weight/v"} <= names or any(
        n.startswith("optimizer/fc1.weight/") for n in names)


def test_a_model_checkpoint_written_mid_run_resumes_to_the_same_weights(tmp_path):
    """ModelCheckpoint(save_weights_only=False) saves at each epoch's end, inside fit; the
    epoch-2 file of a 4-epoch run resumes to exactly that run's final weights."""
    from tinyml.callbacks import ModelCheckpoint

    straight = make_learner()
    every_epoch = ModelCheckpoint(str(tmp_path / "run-{epoch}.npz"), save_weights_only=False)
    straight.fit(X, Y, epochs=4, verbose=0, validation_data=(X, Y), callbacks=[every_epoch])
    assert len(every_epoch.saved) == 4
    resumed = make_learner()
    resumed.fit(X, Y, epochs=4, verbose=0, validation_data=(X, Y),
                resume_from=tmp_path / "run-2.npz")
    assert_same_weights(straight, resumed)
    assert resumed.history["val_loss"] == straight.history["val_loss"]
