"""A checkpoint's every field is checked before anything changes, and every checkpoint tinyml
writes loads again, however long the run (issue 16, items 2 and 5)."""

import json
import zipfile

import numpy as np
import pytest

import tinyml
from tinyml.callbacks import History
from tinyml.layers import Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.optim.schedules import ReduceOnPlateau

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def make_learner(scheduler=None):
    tinyml.seed(1)
    net = tinyml.Net([Linear("fc", 4, 2), Softmax("softmax")])
    optimizer = SGD(lr=0.1, momentum=0.9, scheduler=scheduler)
    return tinyml.Learner(net, cross_entropy, optimizer, batch_size=8, seed=0)


def plateau():
    return ReduceOnPlateau(initial_lr=0.1, patience=0, factor=0.5)


def saved(tmp_path, scheduler=None):
    """A checkpoint after two epochs, and the learner that wrote it."""
    learner = make_learner(scheduler)
    learner.fit(X, Y, epochs=2, verbose=0)
    path = tmp_path / "run.npz"
    learner.save_checkpoint(path)
    return path, learner


def rewrite_meta(path, change):
    """Rewrite the checkpoint's JSON member through `change(meta)`, keeping the arrays."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["__checkpoint__"].tobytes().decode())
    change(meta)
    arrays["__checkpoint__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def snapshot(learner):
    weights = {k: tinyml.to_numpy(v).copy() for k, v in learner.net.state_dict().items()}
    return (weights, learner.optimizer.state_dict()["step"], learner.optimizer.lr,
            learner.epoch, learner.step, dict(learner.history),
            tinyml.backend.streams_state())


def assert_unchanged(learner, before):
    weights, step, lr, epoch, steps, history, streams = before
    after = snapshot(learner)
    for key, value in weights.items():
        assert np.array_equal(after[0][key], value), key
    assert after[1:] == (step, lr, epoch, steps, history, streams)


DAMAGE = {
    "negative rank": (lambda m: m["streams"].__setitem__("rank", -1), "rank must be"),
    "rank as text": (lambda m: m["streams"].__setitem__("rank", "0"), "rank must be"),
    "seed negative": (lambda m: m["streams"].__setitem__("seed", -5), "seed must be"),
    "entropy text": (lambda m: m["streams"].__setitem__("entropy", "x"), "entropy"),
    "generator state damaged": (
        lambda m: next(iter(m["streams"]["generators"].values()))["state"].__setitem__(
            "state", -1), "generator 'numpy|cpu'"),
    "generator state a float": (
        lambda m: next(iter(m["streams"]["generators"].values()))["state"].__setitem__(
            "state", 1.5), "generator 'numpy|cpu'"),
    "generator not PCG64": (
        lambda m: next(iter(m["streams"]["generators"].values())).__setitem__(
            "bit_generator", "MT19937"), "PCG64"),
    "streams missing a key": (lambda m: m["streams"].pop("entropy"), "streams are damaged"),
    "negative epoch": (lambda m: m.__setitem__("epoch", -2), "epoch must be an int >= 0"),
    "epoch as text": (lambda m: m.__setitem__("epoch", "2"), "epoch must be an int >= 0"),
    "epoch a float": (lambda m: m.__setitem__("epoch", 2.0), "epoch must be an int >= 0"),
    "step negative": (lambda m: m.__setitem__("step", -1), "step must be an int >= 0"),
    "optimizer lr text": (lambda m: m["optimizer"].__setitem__("lr", "0.1"),
                          "optimizer.lr must be a finite number >= 0"),
    "optimizer lr negative": (lambda m: m["optimizer"].__setitem__("lr", -0.1),
                              "optimizer.lr must be"),
    "optimizer step bool": (lambda m: m["optimizer"].__setitem__("step", True),
                            "optimizer.step must be an int"),
    "parameter step negative": (
        lambda m: m["optimizer"]["parameter_steps"].__setitem__("fc.weight", -3),
        "parameter_steps['fc.weight']"),
    "reported loss text": (lambda m: m["optimizer"].__setitem__("reported_loss", "low"),
                           "reported_loss must be a number"),
    "optimizer type a number": (lambda m: m["optimizer"].__setitem__("type", 3),
                                "optimizer.type"),
    "an unknown field": (lambda m: m.__setitem__("extra", 1), "unknown keys ['extra']"),
    "a missing field": (lambda m: m.pop("history"), "missing keys ['history']"),
    "scheduler a list": (lambda m: m.__setitem__("scheduler", [1]), "scheduler must be"),
    "history values not lists": (lambda m: m["history"]["values"].__setitem__("loss", 0.5),
                                 "history.values['loss']"),
    "history value text": (lambda m: m["history"]["values"]["loss"].__setitem__(0, "x"),
                           "history.values['loss']"),
    "history longer than its epochs": (
        lambda m: m["history"]["values"]["loss"].append(0.1), "history.values['loss']"),
    "history epoch past the checkpoint's": (
        lambda m: m["history"]["epoch"].__setitem__(1, 7), "history.epoch[1]"),
    "history epoch negative": (lambda m: m["history"]["epoch"].__setitem__(0, -1),
                               "history.epoch[0]"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_field_is_refused_and_changes_nothing(tmp_path, damage):
    path, _ = saved(tmp_path)
    change, words = DAMAGE[damage]
    rewrite_meta(path, change)
    learner = make_learner()
    learner.fit(X, Y, epochs=1, verbose=0)
    before = snapshot(learner)
    with pytest.raises(ValueError, match="run.npz") as raised:
        learner.load_checkpoint(path)
    assert words in str(raised.value)
    assert_unchanged(learner, before)


def test_a_refused_rank_leaves_seeding_working(tmp_path):
    """The instance of the issue: rank -1 loaded, then every tinyml.seed() failed."""
    path, _ = saved(tmp_path)
    rewrite_meta(path, lambda m: m["streams"].__setitem__("rank", -1))
    with pytest.raises(ValueError, match="rank"):
        make_learner().load_checkpoint(path)
    tinyml.seed(3)
    assert tinyml.backend.streams_state()["rank"] == 0


def test_a_negative_epoch_trains_no_extra_epochs(tmp_path):
    path, _ = saved(tmp_path)
    rewrite_meta(path, lambda m: m.__setitem__("epoch", -2))
    learner = make_learner()
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        learner.fit(X, Y, epochs=3, resume_from=path, verbose=0)
    assert learner.epoch == 0 and learner.step == 0


def test_a_refused_file_leaves_a_reduce_on_plateau_rate_as_it_was(tmp_path):
    """The scheduler's state is in the file beside damaged streams: neither loads."""
    path, source = saved(tmp_path, plateau())
    rewrite_meta(path, lambda m: (m["scheduler"].__setitem__("lr", 0.0125),
                                  m["streams"].__setitem__("rank", -1)))
    learner = make_learner(plateau())
    scheduler_before = learner.optimizer.scheduler.state_dict()
    with pytest.raises(ValueError, match="rank"):
        learner.load_checkpoint(path)
    assert learner.optimizer.scheduler.state_dict() == scheduler_before


def test_a_scheduler_state_it_refuses_puts_everything_back(tmp_path):
    path, _ = saved(tmp_path, plateau())
    rewrite_meta(path, lambda m: m["scheduler"].__setitem__("num_bad", 10**6))
    learner = make_learner(plateau())
    learner.fit(X, Y, epochs=1, verbose=0)
    before = snapshot(learner)
    scheduler_before = learner.optimizer.scheduler.state_dict()
    with pytest.raises(ValueError, match="does not fit the learner"):
        learner.load_checkpoint(path)
    assert_unchanged(learner, before)
    assert learner.optimizer.scheduler.state_dict() == scheduler_before


def test_the_history_and_the_scheduler_come_back_whole(tmp_path):
    path, source = saved(tmp_path, plateau())
    learner = make_learner(plateau())
    learner.load_checkpoint(path)
    assert dict(learner.history) == dict(source.history)
    assert learner.history.epoch == source.history.epoch == [0, 1]
    assert learner.optimizer.scheduler.state_dict() == source.optimizer.scheduler.state_dict()


def test_a_member_the_net_has_no_parameter_for_is_refused_before_reading(tmp_path):
    path, _ = saved(tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["optimizer/ghost.weight/momentum_buffer"] = np.zeros(3)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="'ghost.weight', which the net has no parameter"):
        make_learner().load_checkpoint(path)


def test_an_optimizer_array_larger_than_its_parameter_is_refused_before_reading(tmp_path):
    path, _ = saved(tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["optimizer/fc.bias/momentum_buffer"] = np.zeros(1000)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="larger than its parameter"):
        make_learner().load_checkpoint(path)


# ---------------------------------------------------------------- every save loads
def test_a_long_runs_checkpoint_loads(tmp_path):
    """The history grows with the run (here 30,000 epochs, over 1.5 MiB of JSON); the load is
    bounded by the net's shapes, not by a fixed allowance for the description."""
    learner = make_learner()
    learner.fit(X, Y, epochs=1, verbose=0)
    epochs = 30_000
    learner.history = History({
        key: [0.123456789 + i * 1e-9 for i in range(epochs)]
        for key in ("loss", "accuracy", "lr", "epoch_time")})
    learner.history.epoch = list(range(epochs))
    learner.epoch = epochs
    path = tmp_path / "long.npz"
    learner.save_checkpoint(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("__checkpoint__.npy").file_size > 1.5 * 2**20
    resumed = make_learner()
    resumed.load_checkpoint(path)
    assert resumed.epoch == epochs and resumed.history["loss"] == learner.history["loss"]


class Scale(tinyml.Layer):
    """y = weight * x with one scalar weight: a 0-d Parameter."""

    def __init__(self, name):
        super().__init__(name)
        self.weight = tinyml.Parameter(tinyml.asarray(np.array(1.5)))

    def forward(self, input):
        self._remember(input, output_shape=input.shape)
        return input * self.weight.data

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self._recall(in_gradient)
        self.weight.grad += xp.sum(in_gradient * input)
        return in_gradient * self.weight.data if input_gradient else None


def test_a_checkpoint_of_a_net_with_a_0d_parameter_round_trips(tmp_path):
    def build():
        tinyml.seed(2)
        net = tinyml.Net([Linear("fc", 4, 2), Scale("scale"), Softmax("softmax")])
        return tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.9), batch_size=8)

    learner = build()
    learner.fit(X, Y, epochs=1, verbose=0)
    learner.save_checkpoint(tmp_path / "run.npz")
    resumed = build()
    resumed.load_checkpoint(tmp_path / "run.npz")
    weight = tinyml.to_numpy(resumed.net.state_dict()["scale.weight"])
    assert weight.shape == () and weight == tinyml.to_numpy(learner.net["scale"].weight.data)
    momentum = resumed.optimizer.state_dict()["state"]["scale.weight"]["momentum_buffer"]
    assert np.shape(momentum) == ()


def test_a_checkpoint_written_after_a_nan_epoch_loads(tmp_path):
    """The epoch's loss reported to the optimizer (and the history) may be NaN: what the run
    saved is what it had, and it loads."""
    learner = make_learner(plateau())
    learner.fit(X, Y, epochs=1, verbose=0)
    learner.optimizer.report_loss(float("nan"))
    learner.history["loss"][-1] = float("nan")
    learner.save_checkpoint(tmp_path / "run.npz")
    resumed = make_learner(plateau())
    resumed.load_checkpoint(tmp_path / "run.npz")
    assert np.isnan(resumed.optimizer.reported_loss) and np.isnan(resumed.history["loss"][-1])
