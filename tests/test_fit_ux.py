"""fit as a user meets it: History, validation_split, verbose, the NaN guard, check_inputs,
Ctrl-C at step boundaries, and DataLoader input."""

import os
import signal
import warnings

import numpy as np
import pytest

import tinyml
from tinyml.callbacks import Callback, History, TerminateOnNaN
from tinyml.data import DataLoader
from tinyml.layers import Dropout, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def make_learner(lr=0.1, dropout=0.0, **kwargs):
    tinyml.seed(3)
    net = tinyml.Net([Linear("fc1", 5, 8), ReLU("relu"), Dropout("drop", dropout),
                      Linear("fc2", 8, 2), Softmax("softmax")])
    return tinyml.Learner(net, cross_entropy, SGD(lr=lr, momentum=0.9), batch_size=8, seed=0,
                          **kwargs)


def weights(learner):
    return {k: tinyml.to_numpy(v).copy() for k, v in learner.net.state_dict().items()}


# ---------------------------------------------------------------- history
def test_fit_returns_a_history_with_epoch_time_and_lr(backend):
    learner = make_learner()
    history = learner.fit(X, Y, epochs=3, verbose=0)
    assert isinstance(history, History) and isinstance(history, dict)
    assert history.history is history and history.epoch == [0, 1, 2]
    assert history["lr"] == [0.1] * 3
    assert all(isinstance(t, float) and t > 0 for t in history["epoch_time"])
    more = learner.fit(X, Y, epochs=2, verbose=0)
    assert more.epoch == [3, 4] and learner.history.epoch == [0, 1, 2, 3, 4]
    assert learner.history["loss"] == history["loss"] + more["loss"]
    assert learner.epoch == 5 and learner.step == 5 * 8


def test_lr_in_the_history_follows_a_schedule():
    from tinyml.optim.schedules import StepScheduler

    tinyml.seed(0)
    net = tinyml.Net([Linear("fc1", 5, 2), Softmax("softmax")])
    scheduler = StepScheduler(initial_lr=0.1, step_size=9, gamma=0.5)
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1, scheduler=scheduler), batch_size=8)
    history = learner.fit(X, Y, epochs=3, verbose=0)  # the lr of each epoch's last step
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])


# ---------------------------------------------------------------- validation_split
def test_validation_split_holds_out_the_last_samples(backend):
    split = make_learner().fit(X, Y, epochs=2, validation_split=0.25, shuffle=False, verbose=0)
    given = make_learner().fit(X[:45], Y[:45], epochs=2, validation_data=(X[45:], Y[45:]),
                               shuffle=False, verbose=0)
    assert split["val_loss"] == given["val_loss"] and split["loss"] == given["loss"]


@pytest.mark.parametrize("fraction", [0.0001, 1.0, 1.5, -0.1, "0.2", True])
def test_a_bad_validation_split_is_refused(fraction):
    with pytest.raises(ValueError, match="validation_split"):
        make_learner().fit(X, Y, epochs=1, validation_split=fraction, verbose=0)


def test_validation_split_and_validation_data_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        make_learner().fit(X, Y, epochs=1, validation_split=0.2, validation_data=(X, Y),
                           verbose=0)


# ---------------------------------------------------------------- verbose
def test_verbose_2_prints_one_line_per_epoch(capsys):
    make_learner().fit(X, Y, epochs=3, validation_split=0.2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3")
    assert "val_loss" in lines[0] and "lr 0.1" in lines[0] and "\r" not in lines[0]


def test_verbose_0_prints_nothing(capsys):
    make_learner().fit(X, Y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("verbose", [3, -1, "1", None])
def test_a_bad_verbose_is_refused(verbose):
    with pytest.raises(ValueError, match="verbose"):
        make_learner().fit(X, Y, epochs=1, verbose=verbose)


# ---------------------------------------------------------------- NaN and check_inputs
def test_a_diverging_run_stops_and_says_where(backend):
    learner = make_learner(lr=1e30)
    with pytest.warns(RuntimeWarning, match=r"epoch 1/5, step \d+ \(batch \d+ of the epoch\)"):
        history = learner.fit(X * 1e10, Y, epochs=5, verbose=0, log_every=1)
    assert len(history["loss"]) == 1, "stopped in the first epoch, not after five"
    assert "last finite loss" in history.stop_reason or "no step" in history.stop_reason
    assert learner.stop_reason == history.stop_reason


def test_the_nan_guard_names_the_first_bad_step_and_the_last_finite_loss():
    class PoisonAtStep(Callback):
        def on_batch_end(self, batch, logs=None):
            if logs["step"] == 4:  # from step 5 on, every loss is NaN
                for parameter in self.learner.net.parameters():
                    parameter.data[...] = float("nan")

    learner = make_learner()
    with pytest.warns(RuntimeWarning) as caught:
        history = learner.fit(X, Y, epochs=3, verbose=0, callbacks=[PoisonAtStep()])
    message = str(caught[0].message)
    assert "step 5 (batch 5 of the epoch)" in message and "at step 4" in message
    assert len(history["loss"]) == 1


def test_terminate_on_nan_can_raise_instead():
    learner = make_learner(lr=1e30)
    with pytest.raises(FloatingPointError, match="epoch 1"):
        learner.fit(X * 1e10, Y, epochs=3, verbose=0, callbacks=[TerminateOnNaN(True)])


def test_a_nan_input_is_refused_before_training_and_located():
    x = X.copy()
    x[7, 3] = np.nan
    x[9, 0] = np.inf
    learner = make_learner()
    before = weights(learner)
    with pytest.raises(ValueError, match=r"x\[7, 3\] is nan \(2 of 300 values"):
        learner.fit(x, Y, epochs=1, verbose=0)
    assert all(np.array_equal(before[k], v) for k, v in weights(learner).items())
    with pytest.raises(ValueError, match=r"validation x\[7, 3\]"):
        learner.fit(X, Y, epochs=1, validation_data=(x, Y), verbose=0)


def test_check_inputs_false_trains_and_the_guard_stops_it():
    x = X.copy()
    x[0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="loss was nan"):
        make_learner().fit(x, Y, epochs=2, verbose=0, shuffle=False, check_inputs=False)


def test_nan_targets_are_refused_for_a_regression():
    from tinyml.losses import mse

    tinyml.seed(0)
    net = tinyml.Net([Linear("fc", 5, 2)])
    learner = tinyml.Learner(net, mse, SGD(lr=0.1))
    targets = np.ones((60, 2), np.float32)
    targets[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"y\[3, 1\] is inf"):
        learner.fit(X, targets, epochs=1, verbose=0)


def test_device_data_is_not_checked_unless_asked(backend):
    x = X.copy()
    x[0, 0] = np.nan
    on_device = backend.asarray(x.astype(backend.dtype_name))
    with pytest.raises(ValueError, match=r"x\[0, 0\] is nan"):
        make_learner().fit(on_device, backend.asarray(Y), epochs=1, verbose=0,
                           check_inputs=True)


# ---------------------------------------------------------------- Ctrl-C
class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_returns_the_history_so_far(capsys):
    learner = make_learner()
    history = learner.fit(X, Y, epochs=5, verbose=2, callbacks=[InterruptAt(8 * 2 + 3)])
    assert history.interrupted and len(history["loss"]) == 2 and learner.step == 19
    out = capsys.readouterr().out
    assert "interrupted (Ctrl-C) during epoch 3" in out and "step 19" in out
    layers = [learner.net, *learner.net.named_layers().values()]
    assert all(layer.pending_records == 0 for layer in layers), "no record is left behind"


class HalfwaySignal(SGD):
    """Sends itself SIGINT in the middle of update number `at`, between two parameters."""

    def __init__(self, at, **kwargs):
        super().__init__(**kwargs)
        self.at, self.updates = at, 0

    def update(self, data, grad, state, **kwargs):
        self.updates += 1
        if self.updates == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        super().update(data, grad, state, **kwargs)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_sigint_inside_a_step_waits_for_the_step_to_end():
    """4 parameters per step: a SIGINT after the 2nd update of step 6 still lets the step
    finish; the weights equal an uninterrupted run stopped after 6 steps, bit for bit."""
    tinyml.seed(3)
    net = make_learner().net
    interrupted = tinyml.Learner(net, cross_entropy, HalfwaySignal(at=5 * 4 + 2, lr=0.1,
                                                                   momentum=0.9),
                                 batch_size=8, seed=0)
    history = interrupted.fit(X, Y, epochs=3, verbose=0)
    assert history.interrupted and interrupted.step == 6

    class StopAfter(Callback):
        def on_batch_end(self, batch, logs=None):
            if logs["step"] == 6:
                self.learner.stop_training = True

    straight = make_learner()
    straight.fit(X, Y, epochs=3, verbose=0, callbacks=[StopAfter()])
    for key, value in weights(straight).items():
        assert np.array_equal(value, weights(interrupted)[key]), key
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------- DataLoader
def test_fit_takes_a_data_loader_and_moves_each_batch(backend):
    loader = DataLoader(X, Y, batch_size=8, shuffle=True, seed=5)
    learner = make_learner()
    history = learner.fit(loader, epochs=3, verbose=0, validation_data=(X[:10], Y[:10]))
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    assert learner.step == 3 * len(loader)


def test_a_data_loader_with_a_transform_and_drop_last():
    seen = []

    def flip(x, y):
        seen.append(x.shape[0])
        return -x, y

    loader = DataLoader(X, Y, batch_size=16, drop_last=True, transform=flip)
    make_learner().fit(loader, epochs=1, verbose=0)
    assert seen == [16, 16, 16]


def test_a_data_loader_refuses_y_and_validation_split():
    loader = DataLoader(X, Y, batch_size=8)
    with pytest.raises(ValueError, match="own labels"):
        make_learner().fit(loader, Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        make_learner().fit(loader, epochs=1, validation_split=0.2, verbose=0)


def test_warnings_do_not_fire_on_a_healthy_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_learner().fit(X, Y, epochs=2, verbose=0)


# ---------------------------------------------------------------- metrics
def test_the_learner_logs_the_metrics_it_is_given(backend):
    from tinyml import metrics

    learner = make_learner(metrics=["accuracy", "top_2", "f1", "precision"])
    history = learner.fit(X, Y, epochs=2, validation_data=(X, Y), verbose=0, shuffle=False)
    assert {"top_2", "f1", "precision", "val_f1", "val_top_2"} <= set(history)
    assert history["val_top_2"] == [1.0, 1.0]  # two classes
    predicted = backend.xp.argmax(learner.predict(X), axis=1)
    labels = backend.asarray(Y)
    assert history["val_f1"][-1] == pytest.approx(metrics.f1(predicted, labels), abs=1e-12)
    assert learner.evaluate(X, Y)["precision"] == pytest.approx(
        metrics.precision(predicted, labels), abs=1e-12)


@pytest.mark.parametrize("bad, error", [("f1", TypeError), (["f2"], ValueError),
                                        (["f1", "f1"], ValueError)])
def test_unknown_metrics_are_refused_when_the_learner_is_built(bad, error):
    with pytest.raises(error):
        make_learner(metrics=bad)


def test_a_data_loader_trains_a_regression_on_1d_integer_targets():
    from tinyml.losses import mse

    tinyml.seed(0)
    targets = (X[:, 0] > 0).astype(np.int64) * 3  # 1-D integers, for a net with one output
    learner = tinyml.Learner(tinyml.Net([Linear("fc", 5, 1)]), mse, SGD(lr=0.05))
    history = learner.fit(DataLoader(X, targets, batch_size=10, shuffle=True), epochs=5,
                          verbose=0)
    assert "accuracy" not in history and history["loss"][-1] < history["loss"][0]
