"""The Keras-style callbacks: each one changes what training does, and these tests show how.

EarlyStopping, ModelCheckpoint, LearningRateScheduler, CSVLogger and TensorBoard, driven both
through real ``fit`` calls on a tiny net and, for their rules, with synthetic epoch logs.
"""

import csv
import math
import os
import struct
import sys
import types
import warnings

import numpy as np
import pytest

import tinyml
from tinyml.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TensorBoard,
)
from tinyml.layers import Linear, ReLu, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.optim.schedules import CosineScheduler, StepScheduler

RNG = np.random.default_rng(0)
X = RNG.standard_normal((48, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
# Validation labels flipped: the better the net learns (X, Y), the higher val_loss gets, so
# val_loss rises every epoch and its best is epoch 0.
FLIPPED = (X[:16], 1 - Y[:16])


def make_net():
    return tinyml.Net([Linear("fc1", 4, 8), ReLu("relu"), Linear("fc2", 8, 2),
                       Softmax("softmax")])


def make_learner(lr=0.1, optimizer=None):
    """The same initial weights and shuffles at every call."""
    tinyml.seed(0)
    return tinyml.Learner(make_net(), cross_entropy, optimizer or SGD(lr=lr), batch_size=16,
                          seed=0)


def host_weights(net):
    """Host copies of the net's arrays now (to_numpy of a NumPy array is that array)."""
    return {key: np.array(tinyml.to_numpy(value), copy=True)
            for key, value in net.state_dict().items()}


def assert_same_weights(actual, expected):
    assert actual.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)


def differs(first, second):
    return any(not np.array_equal(first[key], second[key]) for key in first)


class WeightsPerEpoch(Callback):
    """Records the net's weights (host copies) and the optimizer's lr at each epoch's end."""

    def __init__(self):
        self.weights, self.lrs, self.logs = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(host_weights(self.learner.net))
        self.lrs.append(self.learner.optimizer.lr)
        self.logs.append(dict(logs))


def drive(callback, values, monitor="val_loss", learner=None):
    """Run `callback` through on_train_begin and one on_epoch_end per value of `monitor`,
    stopping as fit would; returns the learner."""
    learner = learner or make_learner()
    callback.set_learner(learner)
    callback.set_params({"epochs": len(values), "samples": 48, "batch_size": 16, "verbose": 0})
    learner.stop_training = False
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, {"loss": 1.0, monitor: value})
        if learner.stop_training:
            break
    callback.on_train_end({})
    return learner


# ==================================================================== EarlyStopping
NAN = math.nan
STOPPING_CASES = {
    # name: (arguments, monitored values, expected stopped_epoch (0 = ran to the end), best,
    #        best_epoch)
    "patience 0 stops at the first non-improvement": (
        {}, [1.0, 0.9, 0.95, 0.8], 2, 0.9, 1),
    "patience 2 waits two epochs": (
        {"patience": 2}, [1.0, 0.9, 0.95, 0.92, 0.8], 3, 0.9, 1),
    "patience 2 reset by an improvement": (
        {"patience": 2}, [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.5], 5, 0.85, 3),
    "min_delta: a small gain is no improvement": (
        {"patience": 1, "min_delta": 0.05}, [1.0, 0.97, 0.96, 0.5], 1, 1.0, 0),
    "min_delta: a gain larger than it is": (
        {"patience": 1, "min_delta": 0.05}, [1.0, 0.9, 0.8, 0.79], 3, 0.8, 2),
    "always improving never stops": (
        {}, [1.0, 0.9, 0.8, 0.7], 0, 0.7, 3),
    "NaN never improves": (
        {"patience": 1}, [1.0, NAN, NAN], 1, 1.0, 0),
    "NaN first, then numbers": (
        {}, [NAN, 1.0, 1.1], 2, 1.0, 1),
    "baseline never reached: patience counts from the start": (
        {"patience": 2, "baseline": 0.5}, [1.0, 0.9, 0.95], 2, 0.9, 1),
    "baseline reached resets the count": (
        {"patience": 2, "baseline": 0.95}, [1.0, 0.9, 0.95], 0, 0.9, 1),
    "start_from_epoch skips the warm-up": (
        {"start_from_epoch": 2}, [0.5, 1.0, 1.0, 0.9, 1.0], 4, 0.9, 3),
    "epoch 0 never stops, whatever patience 0 says": (
        {}, [NAN, 1.0], 0, 1.0, 1),
}


@pytest.mark.parametrize("case", STOPPING_CASES.values(), ids=STOPPING_CASES.keys())
def test_early_stopping_rules_on_synthetic_logs(case):
    arguments, values, stopped_epoch, best, best_epoch = case
    stop = EarlyStopping(**arguments)
    learner = drive(stop, values)
    assert stop.stopped_epoch == stopped_epoch
    assert learner.stop_training == (stopped_epoch > 0)
    assert stop.best == best
    assert stop.best_epoch == best_epoch


def test_early_stopping_mode_auto_is_max_for_accuracy_and_min_otherwise():
    assert EarlyStopping("val_accuracy").monitor.mode == "max"
    assert EarlyStopping("train_f1").monitor.mode == "max"
    assert EarlyStopping("val_loss").monitor.mode == "min"
    assert EarlyStopping("val_accuracy", mode="min").monitor.mode == "min"
    stop = EarlyStopping("val_accuracy")
    drive(stop, [0.5, 0.6, 0.55], monitor="val_accuracy")
    assert (stop.stopped_epoch, stop.best, stop.best_epoch) == (2, 0.6, 1)
    stop = EarlyStopping("error_rate", mode="max")
    drive(stop, [0.5, 0.4], monitor="error_rate")
    assert stop.stopped_epoch == 1


def test_early_stopping_warns_once_about_a_missing_monitor_and_never_stops():
    stop = EarlyStopping("val_loss")
    learner = make_learner()
    with pytest.warns(RuntimeWarning, match=r"'val_loss' is not in the epoch logs \(available: "
                                            r"loss, accuracy, lr, epoch_time\)") as caught:
        history = learner.fit(X, Y, epochs=3, verbose=0, callbacks=[stop])
    assert len([w for w in caught if "val_loss" in str(w.message)]) == 1
    assert len(history["loss"]) == 3
    assert stop.stopped_epoch == 0


def test_early_stopping_stops_a_real_fit():
    stop = EarlyStopping("val_loss", patience=1)
    history = make_learner().fit(X, Y, epochs=10, validation_data=FLIPPED, verbose=0,
                                 callbacks=[stop])
    assert history["val_loss"][1] > history["val_loss"][0]  # the contrivance works
    assert len(history["loss"]) == 2
    assert (stop.stopped_epoch, stop.best_epoch) == (1, 0)
    assert stop.best == history["val_loss"][0]


@pytest.mark.parametrize("patience", [1, 50], ids=["stopped early", "ran to the end"])
def test_restore_best_weights_gives_the_best_epochs_weights(backend, tmp_path, patience):
    """Stopped early or not (Keras 3 restores in both cases), the net ends with exactly the
    weights it had at the end of the best epoch, which a save_best_only checkpoint holds
    too."""
    record = WeightsPerEpoch()
    best_file = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(best_file, save_best_only=True)
    stop = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
    learner = make_learner()
    history = learner.fit(X, Y, epochs=6, validation_data=FLIPPED, verbose=0,
                          callbacks=[record, checkpoint, stop])
    best_epoch = int(np.argmin(history["val_loss"]))  # 0 on numpy, 2 on the others' inits
    assert stop.best_epoch == best_epoch
    # after its minimum val_loss only rises, so patience 1 stops one epoch after the best
    assert len(history["loss"]) == (best_epoch + 2 if patience == 1 else 6)
    assert differs(record.weights[-1], record.weights[best_epoch])  # restoring changes them
    restored = host_weights(learner.net)
    assert_same_weights(restored, record.weights[stop.best_epoch])
    assert checkpoint.last_saved == os.fspath(best_file)
    with np.load(best_file) as saved:
        assert_same_weights({key: saved[key] for key in restored}, restored)
    weight = learner.net.state_dict()["fc1.weight"]  # restored onto the net's backend
    assert tinyml.backend.namespace_name(weight) == backend.name
    assert str(tinyml.backend.device_of(weight)) == str(backend.device)


def test_without_restore_best_weights_the_net_keeps_its_last_weights():
    record = WeightsPerEpoch()
    learner = make_learner()
    learner.fit(X, Y, epochs=5, validation_data=FLIPPED, verbose=0,
                callbacks=[record, EarlyStopping(patience=1)])
    assert_same_weights(host_weights(learner.net), record.weights[-1])


def test_restore_best_weights_with_nothing_to_restore_warns():
    stop = EarlyStopping("val_loss", restore_best_weights=True)
    learner = make_learner()
    before = host_weights(learner.net)
    with pytest.warns(RuntimeWarning, match="no epoch to restore"):
        drive(stop, [NAN, NAN], learner=learner)
    assert_same_weights(host_weights(learner.net), before)


def test_restore_best_weights_reads_nothing_back_from_the_device(monkeypatch):
    """The copies stay on the device: a torch fit makes as many value reads with
    restore_best_weights as without it."""
    pytest.importorskip("torch")
    from device_reads import watch_torch_reads

    counts = []
    for callbacks in ([], [EarlyStopping("val_loss", patience=50, restore_best_weights=True)]):
        with tinyml.use_backend("torch", dtype="float64"):
            learner = make_learner()
            reads = watch_torch_reads(monkeypatch)
            learner.fit(X, Y, epochs=3, validation_data=FLIPPED, verbose=0, callbacks=callbacks)
            counts.append(len(reads))
            monkeypatch.undo()
    assert counts[0] == counts[1]


# EarlyStopping's bad arguments: tests/test_declared_arguments.py
def test_early_stopping_verbose_says_when_and_where(capsys):
    drive(EarlyStopping(patience=0, restore_best_weights=True, verbose=1), [1.0, 0.9, 1.0])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out
    with pytest.warns(RuntimeWarning, match="no epoch to restore"):
        drive(EarlyStopping(restore_best_weights=True, verbose=1), [NAN, NAN])
    assert "Epoch 2: early stopping (val_loss did not improve for 2 epochs)" in \
        capsys.readouterr().out


def test_early_stopping_starts_over_at_each_fit():
    stop = EarlyStopping(patience=0)
    drive(stop, [1.0, 2.0])
    learner = drive(stop, [5.0, 4.0, 3.0])  # a stale best of 1.0 would stop it at epoch 1
    assert (stop.stopped_epoch, stop.best, stop.best_epoch) == (0, 3.0, 2)
    assert not learner.stop_training


# ==================================================================== ModelCheckpoint
def test_save_best_only_writes_only_on_improvement_with_formatted_names(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.npz",
                                 save_best_only=True)
    drive(checkpoint, [1.0, 0.8, 0.9, NAN, 0.7])
    expected = ["ckpt-01-1.00.npz", "ckpt-02-0.80.npz", "ckpt-05-0.70.npz"]
    assert sorted(os.listdir(tmp_path)) == expected
    assert checkpoint.saved == [os.fspath(tmp_path / name) for name in expected]
    assert checkpoint.last_saved == os.fspath(tmp_path / expected[-1])
    assert checkpoint.best == 0.7


def test_save_best_only_in_mode_max_and_every_epoch_without_it(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "acc-{epoch}.npz", monitor="val_accuracy",
                                 save_best_only=True)
    drive(checkpoint, [0.5, 0.4, 0.6], monitor="val_accuracy")
    assert sorted(os.listdir(tmp_path)) == ["acc-1.npz", "acc-3.npz"]
    every = ModelCheckpoint(tmp_path / "all-{epoch}.npz")
    drive(every, [1.0, 2.0, 3.0])
    assert sorted(name for name in os.listdir(tmp_path) if name.startswith("all")) == \
        ["all-1.npz", "all-2.npz", "all-3.npz"]


def test_a_fixed_path_holds_the_last_epochs_weights_and_loads_as_a_net(backend, tmp_path):
    path = tmp_path / "last.npz"
    record = WeightsPerEpoch()
    checkpoint = ModelCheckpoint(path)
    learner = make_learner()
    learner.fit(X, Y, epochs=3, validation_data=FLIPPED, verbose=0,
                callbacks=[record, checkpoint])
    assert checkpoint.saved == [os.fspath(path)] * 3
    loaded = tinyml.load_net(path)
    assert_same_weights(host_weights(loaded), record.weights[-1])
    assert differs(record.weights[0], record.weights[-1])


def test_a_missing_folder_fails_before_the_first_epoch(tmp_path):
    record = WeightsPerEpoch()
    checkpoint = ModelCheckpoint(tmp_path / "nowhere" / "w-{epoch}.npz")
    with pytest.raises(ValueError, match=r"nowhere .*does not exist; create it first"):
        make_learner().fit(X, Y, epochs=2, verbose=0, callbacks=[record, checkpoint])
    assert record.weights == []
    with pytest.raises(ValueError, match="is a folder; name a file in it"):
        drive(ModelCheckpoint(tmp_path), [1.0])


def test_a_folder_named_by_fields_is_created(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "run-{epoch}" / "w.npz")
    drive(checkpoint, [1.0, 0.5])
    assert sorted(os.listdir(tmp_path)) == ["run-1", "run-2"]
    assert os.path.isfile(tmp_path / "run-2" / "w.npz")


def test_a_field_the_logs_lack_is_a_clear_error(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "w-{val_acc:.2f}.npz")
    with pytest.raises(ValueError, match=r"names \{val_acc\}, which the epoch logs lack "
                                         r"\(available: epoch, loss, val_loss\)"):
        drive(checkpoint, [1.0])


def test_save_freq_in_batches(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "w-{epoch}-{batch}.npz", save_freq=2)
    make_learner().fit(X, Y, epochs=2, verbose=0, callbacks=[checkpoint])  # 3 batches each
    assert sorted(os.listdir(tmp_path)) == ["w-1-2.npz", "w-2-1.npz", "w-2-3.npz"]


def test_full_checkpoints_use_the_learners_save_checkpoint(tmp_path):
    class CheckpointingLearner(tinyml.Learner):
        def save_checkpoint(self, path):
            self.written = [*getattr(self, "written", []), path]

    learner = CheckpointingLearner(make_net(), cross_entropy, SGD(lr=0.1), batch_size=16)
    checkpoint = ModelCheckpoint(tmp_path / "full-{epoch}.ckpt", save_weights_only=False)
    drive(checkpoint, [1.0, 0.5], learner=learner)
    assert learner.written == [os.fspath(tmp_path / "full-1.ckpt"),
                               os.fspath(tmp_path / "full-2.ckpt")]
    assert os.listdir(tmp_path) == []  # the learner wrote them, not net.save
    lacking = ModelCheckpoint(tmp_path / "x.ckpt", save_weights_only=False)
    lacking.set_learner(types.SimpleNamespace(net=make_net()))  # a loop without the method
    with pytest.raises(TypeError, match="SimpleNamespace lacks; use save_weights_only=True"):
        lacking.on_train_begin({})


# each argument alone: tests/test_declared_arguments.py
@pytest.mark.parametrize(("arguments", "error", "match"), [
    ({"path": "w-{}.npz"}, ValueError, "positional field"),
    ({"path": "w-{epoch.npz"}, ValueError, "not a valid format string"),
    ({"path": "w-{val_loss:d}.npz"}, ValueError, "cannot be formatted"),
    ({"path": "w-{batch}.npz"}, ValueError, "names {batch}, which is only known"),
    ({"path": "w-{loss}.npz", "save_freq": 5}, ValueError, "may name only {epoch} and {batch}"),
    ({"path": "w.npz", "save_freq": 5, "save_best_only": True}, ValueError,
     "use save_freq='epoch' with it"),
])
def test_model_checkpoint_refuses_bad_path_formats_and_combinations(arguments, error, match):
    with pytest.raises(error, match=match):
        ModelCheckpoint(**arguments)


def test_model_checkpoint_warns_about_a_missing_monitor_and_saves_nothing(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "w.npz", save_best_only=True)
    with pytest.warns(RuntimeWarning, match=r"'val_loss' is not in the epoch logs"):
        make_learner().fit(X, Y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert os.listdir(tmp_path) == []


def test_model_checkpoint_verbose_says_what_it_did(tmp_path, capsys):
    drive(ModelCheckpoint(tmp_path / "w.npz", save_best_only=True, verbose=1), [1.0, 1.5])
    path = os.fspath(tmp_path / "w.npz")
    assert capsys.readouterr().out.splitlines() == [
        f"Epoch 1: val_loss improved from inf to 1.00000, saving model to {path}",
        "Epoch 2: val_loss did not improve from 1.00000"]


# ==================================================================== LearningRateScheduler
def test_a_schedule_function_sets_the_rate_each_epoch_and_changes_training():
    record = WeightsPerEpoch()
    scheduled = make_learner(lr=0.1)
    schedule = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.25 ** epoch)
    history = scheduled.fit(X, Y, epochs=3, verbose=0, callbacks=[schedule, record])
    assert record.lrs == [0.1, 0.025, 0.00625]
    assert [logs["lr"] for logs in record.logs] == record.lrs
    constant = make_learner(lr=0.1)
    reference = constant.fit(X, Y, epochs=3, verbose=0)
    assert history["loss"][0] == reference["loss"][0]  # epoch 0 ran at the same rate
    assert history["loss"][1] != reference["loss"][1]
    assert differs(host_weights(scheduled.net), host_weights(constant.net))


def test_the_function_receives_the_epoch_and_the_current_rate():
    calls = []

    def halve(epoch, lr):
        calls.append((epoch, lr))
        return lr / 2

    make_learner(lr=0.4).fit(X, Y, epochs=3, verbose=0,
                             callbacks=[LearningRateScheduler(halve)])
    assert calls == [(0, 0.4), (1, 0.2), (2, 0.1)]


def test_learning_rate_scheduler_verbose_prints_the_rate(capsys):
    make_learner().fit(X, Y, epochs=2, verbose=0,
                       callbacks=[LearningRateScheduler(lambda e, lr: 0.5 ** e, verbose=1)])
    assert capsys.readouterr().out.splitlines() == [
        "Epoch 1: LearningRateScheduler setting learning rate to 1.",
        "Epoch 2: LearningRateScheduler setting learning rate to 0.5."]


def test_a_tinyml_schedule_counts_epochs_from_one():
    record = WeightsPerEpoch()
    schedule = LearningRateScheduler(StepScheduler(0.1, step_size=2, gamma=0.5))
    make_learner().fit(X, Y, epochs=4, verbose=0, callbacks=[schedule, record])
    assert record.lrs == [0.1, 0.05, 0.05, 0.025]
    record = WeightsPerEpoch()
    cosine = CosineScheduler(0.1, total_steps=3)
    make_learner().fit(X, Y, epochs=3, verbose=0,
                       callbacks=[LearningRateScheduler(cosine), record])
    assert record.lrs == [cosine.learning_rate(1), cosine.learning_rate(2), 0.0]


def test_a_loss_driven_schedule_sees_the_previous_epochs_monitored_loss():
    class Spy:
        def __init__(self):
            self.calls = []

        def learning_rate(self, step, cur_loss=None):
            self.calls.append((step, cur_loss))
            return 0.1

    for monitor in ("loss", "val_loss"):
        spy = Spy()
        history = make_learner().fit(X, Y, epochs=3, validation_data=FLIPPED, verbose=0,
                                     callbacks=[LearningRateScheduler(spy, monitor=monitor)])
        assert spy.calls == [(1, None), (2, history[monitor][0]), (3, history[monitor][1])]


def test_a_zero_rate_freezes_that_epoch():
    record = WeightsPerEpoch()
    schedule = LearningRateScheduler(lambda epoch, lr: 0.0 if epoch == 1 else 0.1)
    make_learner().fit(X, Y, epochs=3, verbose=0, callbacks=[schedule, record])
    assert record.lrs == [0.1, 0.0, 0.1]
    assert_same_weights(record.weights[1], record.weights[0])
    assert differs(record.weights[2], record.weights[1])


@pytest.mark.parametrize(("returned", "error", "match"), [
    (math.nan, ValueError, r"returned nan for epoch 1; a learning rate must be a finite"),
    (-0.1, ValueError, r"returned -0.1 for epoch 1"),
    ("0.1", TypeError, r"returned '0.1' for epoch 1; it must return the learning rate as a"),
    (None, TypeError, r"returned None for epoch 1"),
])
def test_a_bad_rate_is_an_error_naming_the_epoch(returned, error, match):
    schedule = LearningRateScheduler(lambda epoch, lr: returned if epoch == 1 else lr)
    with pytest.raises(error, match=match):
        make_learner().fit(X, Y, epochs=3, verbose=0, callbacks=[schedule])


# verbose's bad values: tests/test_declared_arguments.py
def test_learning_rate_scheduler_refuses_what_cannot_work():
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)
    optimizer = SGD(lr=0.1, scheduler=StepScheduler(0.1, step_size=10))
    with pytest.raises(ValueError, match="already has a scheduler .StepScheduler"):
        make_learner(optimizer=optimizer).fit(
            X, Y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: lr)])

    class Plain:
        def step(self, parameters):
            pass

    learner = tinyml.Learner(make_net(), cross_entropy, Plain(), batch_size=16)
    with pytest.raises(TypeError, match="sets optimizer.lr, which Plain does not have"):
        learner.fit(X, Y, epochs=1, verbose=0,
                    callbacks=[LearningRateScheduler(lambda e, lr: lr)])


# ==================================================================== CSVLogger
def read_csv(path, separator=","):
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=separator))


def test_csv_logger_writes_a_header_and_a_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    history = make_learner().fit(X, Y, epochs=3, validation_data=FLIPPED, verbose=0,
                                 callbacks=[CSVLogger(path)])
    header, *rows = read_csv(path)
    assert header == ["epoch", *history]
    assert [row[0] for row in rows] == ["0", "1", "2"]
    for column, key in enumerate(header[1:], start=1):
        assert [float(row[column]) for row in rows] == history[key]  # every digit kept


def test_csv_logger_append_continues_without_a_second_header(tmp_path):
    path = tmp_path / "log.tsv"
    learner = make_learner()
    learner.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    learner.fit(X, Y, epochs=2, verbose=0,
                callbacks=[CSVLogger(path, separator="\t", append=True)])
    lines = read_csv(path, "\t")
    assert lines[0][:2] == ["epoch", "loss"]
    # the learner counts its epochs over the run, so a second fit goes on from epoch 2
    assert [line[0] for line in lines] == ["epoch", "0", "1", "2", "3"]
    assert [float(line[1]) for line in lines[1:]] == learner.history["loss"]
    make_learner().fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    assert len(read_csv(path, "\t")) == 2  # append=False starts over


def test_csv_logger_keeps_its_header_and_flushes_every_row(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    assert read_csv(path) == [["epoch", "loss", "val_loss"], ["0", "0.5", "0.75"]]  # flushed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logger.on_epoch_end(1, {"loss": 0.25, "lr": 0.1})
        logger.on_epoch_end(2, {"loss": 0.125, "lr": 0.1})
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == [
        f"CSVLogger: the epoch logs now hold ['lr'], which the header of {path} "
        f"(epoch,loss,val_loss) lacks; they are not written"]
    logger.on_train_end({})
    assert read_csv(path)[2:] == [["1", "0.25", ""], ["2", "0.125", ""]]


def test_csv_logger_appends_under_the_existing_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,loss\n0,2.0,1.0\n")
    logger = CSVLogger(path, append=True)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    logger.on_train_end({})
    assert read_csv(path) == [["epoch", "val_loss", "loss"], ["0", "2.0", "1.0"],
                              ["0", "0.75", "0.5"]]


# each argument alone: tests/test_declared_arguments.py
def test_csv_logger_refuses_paths_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="does not exist; create it first"):
        make_learner().fit(X, Y, epochs=1, verbose=0,
                           callbacks=[CSVLogger(tmp_path / "no" / "a.csv")])
    with pytest.raises(ValueError, match="is a folder"):
        CSVLogger(tmp_path).on_train_begin({})


# ==================================================================== TensorBoard
def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC32C_TABLE = _crc32c_table()


def masked_crc32c(data):
    """TFRecord's checksum: CRC-32C (Castagnoli), rotated right by 15 bits plus a constant."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(folder):
    """Every Event in the TFRecord files of `folder`: (uint64 length, uint32 masked CRC of the
    length, data, uint32 masked CRC of the data), each record a serialized Event proto."""
    from tensorboardX.proto.event_pb2 import Event

    events = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith("events.out.tfevents."):
            continue
        data = (folder / name).read_bytes()
        offset = 0
        while offset < len(data):
            header = data[offset:offset + 8]
            (length,) = struct.unpack("<Q", header)
            (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
            assert length_crc == masked_crc32c(header)
            payload = data[offset + 12:offset + 12 + length]
            (payload_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
            assert payload_crc == masked_crc32c(payload)
            events.append(Event.FromString(payload))
            offset += 16 + length
    return events


def summaries(folder):
    """{tag: [(step, summary value)]} of the scalars, histograms and texts in `folder`."""
    found = {}
    for event in read_events(folder):
        for value in event.summary.value:
            found.setdefault(value.tag, []).append((event.step, value))
    return found


def test_tensorboard_writes_epoch_scalars_and_weight_histograms(tmp_path):
    pytest.importorskip("tensorboardX")
    learner = make_learner()
    board = TensorBoard(tmp_path, histogram_freq=2)
    history = learner.fit(X, Y, epochs=3, validation_data=FLIPPED, verbose=0,
                          callbacks=[board])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, validation = summaries(tmp_path / "train"), summaries(tmp_path / "validation")
    for run, key, tag in [(train, "loss", "epoch_loss"), (train, "accuracy", "epoch_accuracy"),
                          (validation, "val_loss", "epoch_loss"),
                          (validation, "val_accuracy", "epoch_accuracy")]:
        assert [step for step, _ in run[tag]] == [0, 1, 2]
        np.testing.assert_allclose([value.simple_value for _, value in run[tag]], history[key],
                                   rtol=1e-6)  # a float32 in the proto
    names = ["fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias"]
    assert sorted(tag for tag in train if not tag.startswith("epoch_")) == sorted(names)
    final = host_weights(learner.net)
    for name in names:
        assert [step for step, _ in train[name]] == [0, 2]
        histogram = train[name][-1][1].histo  # epoch 2 is the last: the final weights
        weights = final[name.replace("/", ".")]
        assert histogram.num == weights.size
        assert histogram.min == pytest.approx(weights.min())
        assert histogram.max == pytest.approx(weights.max())
        assert histogram.sum == pytest.approx(weights.sum())


def test_tensorboard_tags_other_logs_and_writes_the_summary_as_text(tmp_path):
    pytest.importorskip("tensorboardX")
    board = TensorBoard(tmp_path, histogram_freq=0, write_graph=True)
    learner = make_learner()
    board.set_learner(learner)
    board.on_train_begin({})
    board.on_epoch_end(0, {"loss": 0.5, "lr": 0.1, "epoch_time": 1.5})
    board.on_train_end({})
    train = summaries(tmp_path / "train")
    assert {tag for tag in train if tag.startswith("epoch")} == {"epoch_loss", "epoch_lr",
                                                                "epoch_time"}
    assert not any("/weight" in tag for tag in train)  # histogram_freq=0
    (text_tag,) = [tag for tag in train if tag.startswith("model/summary")]
    text = train[text_tag][0][1].tensor.string_val[0].decode()
    assert "fc1 (Linear)" in text and "Total params: 58" in text


def test_tensorboard_without_tensorboardx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[tensorboard\]\" in the root"):
        TensorBoard("logs")


# each argument alone: tests/test_declared_arguments.py
def test_tensorboard_refuses_a_file_for_its_folder(tmp_path):
    pytest.importorskip("tensorboardX")
    (tmp_path / "file").write_text("")
    board = TensorBoard(tmp_path / "file")
    board.set_learner(types.SimpleNamespace(net=make_net()))
    with pytest.raises(ValueError, match="is a file; name a folder"):
        board.on_train_begin({})
