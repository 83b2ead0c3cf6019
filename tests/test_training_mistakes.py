"""What fit refuses or says before it trains on something that cannot be right (issue 16, items
6 to 9): labels from anywhere, pairings that squash twice, unscaled images, DataLoader's
shuffle, a BatchNorm net's batch of one, and two fits on one Learner."""

import threading
import warnings

import numpy as np
import pytest

import tinyml
from tinyml.callbacks import Callback
from tinyml.data import DataLoader
from tinyml.layers import (
    BatchNorm1D,
    FullyConnected,
    Linear,
    LogSoftmax,
    ReLu,
    Sigmoid,
    Softmax,
)
from tinyml.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    cross_entropy_with_logits,
    hinge,
    kl_divergence,
    mse,
)
from tinyml.optim import SGD

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 40)


def net(*last):
    tinyml.seed(0)
    return tinyml.Net([Linear("fc", 4, 3), *(last or (Softmax("softmax"),))])


def learner(loss=cross_entropy, network=None, batch_size=8):
    return tinyml.Learner(network or net(), loss, SGD(lr=0.1), batch_size=batch_size)


def weights(a_learner):
    return {k: tinyml.to_numpy(v).copy() for k, v in a_learner.net.state_dict().items()}


def assert_unchanged(a_learner, before):
    for key, value in weights(a_learner).items():
        assert np.array_equal(value, before[key]), key


def quiet_fit(a_learner, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may fire where none is expected
        return a_learner.fit(*args, verbose=0, **kwargs)


# ---------------------------------------------------------------- 6. labels, wherever from
@pytest.mark.parametrize("shift, low, high", [(5, 5, 7), (-3, -3, -1)])
def test_labels_a_transform_makes_are_checked_before_their_step(shift, low, high):
    loader = DataLoader(X, Y, batch_size=8, shuffle=False,
                        transform=lambda xb, yb: (xb, yb + shift))
    trainee = learner()
    before = weights(trainee)
    with pytest.raises(ValueError, match=rf"DataLoader batch 0 of epoch 1 \(after its "
                                         rf"transform\): labels must be class indices in "
                                         rf"\[0, 3\).*from {low} to {high}"):
        trainee.fit(loader, epochs=1, verbose=0)
    assert_unchanged(trainee, before)


def test_a_transform_that_spoils_a_later_batch_is_named_by_its_batch():
    calls = []

    def spoil_the_third(xb, yb):
        calls.append(1)
        return xb, (yb + 10 if len(calls) == 3 else yb)

    trainee = learner()
    with pytest.raises(ValueError, match=r"batch 2 of epoch 1"):
        trainee.fit(DataLoader(X, Y, batch_size=8, transform=spoil_the_third), verbose=0)
    assert trainee.step == 2  # the two good batches trained; the bad one never reached it


def test_a_transform_that_drops_the_labels_or_makes_nan_is_refused():
    drop = DataLoader(X, Y, batch_size=8, transform=lambda xb, yb: (xb, None))
    with pytest.raises(ValueError, match="transform returned y_batch None"):
        learner().fit(drop, verbose=0)
    poison = DataLoader(X, Y, batch_size=8, transform=lambda xb, yb: (xb * np.nan, yb))
    with pytest.raises(ValueError, match=r"after its transform\): x\[0, 0\] is nan"):
        learner().fit(poison, verbose=0)


def test_regression_targets_a_transform_reshapes_are_checked_too():
    tinyml.seed(0)
    trainee = tinyml.Learner(tinyml.Net([Linear("fc", 4, 2)]), mse, SGD(lr=0.1), batch_size=8)
    targets = RNG.standard_normal((40, 2)).astype(np.float32)
    loader = DataLoader(X, targets, batch_size=8, transform=lambda xb, yb: (xb, yb[:, :1]))
    with pytest.raises(ValueError, match=r"mse compares each sample's targets"):
        trainee.fit(loader, verbose=0)


def test_a_transform_that_keeps_labels_right_trains():
    loader = DataLoader(X, Y, batch_size=8, transform=lambda xb, yb: (xb * 0.5, yb))
    history = quiet_fit(learner(), loader, epochs=2)
    assert len(history["loss"]) == 2


@pytest.mark.parametrize("row, why", [([-1.0, 2.0, 0.0], "-1"),
                                      ([1.0, 1.0, 0.0], r"\(sum 2\)"),
                                      ([0.5, 0.2, 0.2], r"\(sum 0.9\)"),
                                      ([np.nan, 1.0, 0.0], "nan")])
@pytest.mark.parametrize("where", ["fit", "validation", "evaluate"])
def test_one_hot_rows_that_are_not_distributions_are_refused(row, why, where):
    labels = np.eye(3)[Y]
    labels[0] = row
    trainee = learner()
    before = weights(trainee)
    with pytest.raises(ValueError, match=rf"rows of numbers >= 0 that sum to 1; row 0 .*{why}"):
        if where == "fit":
            trainee.fit(X, labels, verbose=0, check_inputs=False)
        elif where == "validation":
            trainee.fit(X, Y, validation_data=(X, labels), verbose=0, check_inputs=False)
        else:
            trainee.evaluate(X, labels)
    assert_unchanged(trainee, before)


def test_label_smoothed_rows_and_hinges_plus_minus_one_rows_are_fine():
    smoothed = np.eye(3)[Y] * 0.9 + 0.1 / 3
    quiet_fit(learner(), X, smoothed)
    plus_minus = 2 * np.eye(3)[Y] - 1  # hinge reads each row's argmax only
    quiet_fit(learner(hinge, net(ReLu("relu"))), X, plus_minus)


def test_missing_labels_are_a_value_error_wherever_they_are_missing():
    with pytest.raises(ValueError, match="DataLoader holds no labels"):
        learner().fit(DataLoader(X, batch_size=8), verbose=0)
    with pytest.raises(ValueError, match=r"fit: y is None"):
        learner().fit(X, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: y is None"):
        learner().evaluate(X, None)


# ---------------------------------------------------------------- 7. a new user's mistakes
@pytest.mark.parametrize("loss, last, words", [
    (cross_entropy_with_logits, Softmax("softmax"), "softmax twice"),
    (cross_entropy_with_logits(label_smoothing=0.1), Softmax("softmax"), "softmax twice"),
    (binary_cross_entropy_with_logits, Sigmoid("sigmoid"), "a sigmoid of probabilities"),
    (kl_divergence, Softmax("softmax"), "read as log-probabilities"),
])
def test_a_squashing_layer_before_a_loss_that_squashes_itself_is_refused(loss, last, words):
    with pytest.raises(ValueError, match=words):
        learner(loss, net(last))


def test_the_squashing_layer_is_found_inside_a_layers_own_activation():
    tinyml.seed(0)
    inside = tinyml.Net([FullyConnected("fc", 4, 3, act_fn="softmax")])
    with pytest.raises(ValueError, match=r"whose output is that of .*softmax twice"):
        learner(cross_entropy_with_logits, inside)


def test_log_softmax_before_cross_entropy_with_logits_is_fine():
    """log_softmax(log_softmax(z)) = log_softmax(z): the pair trains exactly as the logits."""
    history = quiet_fit(learner(cross_entropy_with_logits, net(LogSoftmax("log_softmax"))),
                        X, Y)
    assert np.isfinite(history["loss"][0])


def images():
    return (RNG.random((40, 4)) * 255).astype(np.uint8)


def test_uint8_images_of_0_to_255_are_warned_about_in_fit_evaluate_and_predict():
    trainee = learner()
    for call in (lambda: trainee.fit(images(), Y, verbose=0),
                 lambda: trainee.evaluate(images(), Y),
                 lambda: trainee.predict(images())):
        with pytest.warns(RuntimeWarning, match=r"uint8 with values above 1.*/ 255"):
            call()


def test_scaled_images_masks_and_a_transform_that_scales_are_not_warned_about():
    quiet_fit(learner(), images().astype(np.float32) / 255, Y)
    quiet_fit(learner(), (images() > 127).astype(np.uint8), Y)
    scaling = DataLoader(images(), Y, batch_size=8,
                         transform=lambda xb, yb: (xb.astype(np.float32) / 255, yb))
    quiet_fit(learner(), scaling)


def test_a_data_loader_shuffles_by_default_as_the_readme_says():
    loader = DataLoader(X, Y, batch_size=8)
    assert loader.shuffle
    assert not np.array_equal(loader.order(0), np.arange(40))


def test_fit_refuses_a_shuffle_that_a_data_loader_would_ignore():
    with pytest.raises(ValueError, match=r"shuffle=True does not apply to a DataLoader.*"
                                         r"DataLoader\(\.\.\., shuffle=True\)"):
        learner().fit(DataLoader(X, Y, batch_size=8, shuffle=False), shuffle=True, verbose=0)
    with pytest.raises(ValueError, match="shuffle=False does not apply"):
        learner().fit(DataLoader(X, Y, batch_size=8), shuffle=False, verbose=0)
    quiet_fit(learner(), DataLoader(X, Y, batch_size=8), shuffle=True)


# ---------------------------------------------------------------- 8. a batch of one
def batch_norm_net():
    tinyml.seed(0)
    return tinyml.Net([Linear("fc", 4, 6), BatchNorm1D("bn", 6), ReLu("relu"),
                       Linear("out", 6, 3), Softmax("softmax")])


def test_a_last_batch_of_one_is_dropped_with_a_warning_before_training():
    x, y = X[:33], Y[:33]  # 4 batches of 8 and one of 1
    trainee = learner(network=batch_norm_net())
    with pytest.warns(RuntimeWarning, match=r"last batch of each epoch would hold one sample "
                                            r"\(33 samples in batches of 8\).*drop_last=True"):
        history = trainee.fit(x, y, epochs=3, verbose=0)
    assert trainee.step == 12 and len(history["loss"]) == 3
    assert all(np.isfinite(tinyml.to_numpy(v)).all() for v in trainee.net.state_dict().values())


def test_a_data_loader_with_a_last_batch_of_one_is_treated_alike():
    trainee = learner(network=batch_norm_net())
    with pytest.warns(RuntimeWarning, match="last batch of each epoch would hold one sample"):
        trainee.fit(DataLoader(X[:33], Y[:33], batch_size=8), epochs=2, verbose=0)
    assert trainee.step == 8
    quiet_fit(learner(network=batch_norm_net()),
              DataLoader(X[:33], Y[:33], batch_size=8, drop_last=True))


@pytest.mark.parametrize("samples, batch_size", [(40, 1), (1, 8)])
def test_batches_that_can_only_hold_one_sample_are_refused_before_training(samples,
                                                                           batch_size):
    trainee = learner(network=batch_norm_net(), batch_size=batch_size)
    before = weights(trainee)
    with pytest.raises(ValueError, match=r"BatchNorm1D 'bn' normalizes with the statistics of "
                                         r"each training batch.*LayerNorm1D"):
        trainee.fit(X[:samples], Y[:samples], verbose=0)
    assert_unchanged(trainee, before) and trainee.step == 0


def test_a_transform_that_leaves_one_sample_is_skipped_with_one_warning():
    def shrink(xb, yb):
        return (xb[:1], yb[:1]) if xb[0, 0] > 0 else (xb, yb)

    trainee = learner(network=batch_norm_net())
    with pytest.warns(RuntimeWarning, match="made by the DataLoader's transform") as caught:
        trainee.fit(DataLoader(X, Y, batch_size=8, transform=shrink), epochs=3, verbose=0)
    assert len([w for w in caught if "transform" in str(w.message)]) == 1


def test_a_transform_that_leaves_one_sample_in_every_batch_is_refused():
    trainee = learner(network=batch_norm_net())
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="no batch to train on"):
        trainee.fit(DataLoader(X, Y, batch_size=8, transform=lambda xb, yb: (xb[:1], yb[:1])),
                    verbose=0)
    assert trainee.step == 0


def test_a_net_without_batch_norm_trains_on_a_batch_of_one_as_before():
    trainee = learner()
    quiet_fit(trainee, X[:33], Y[:33])
    assert trainee.step == 5


# ---------------------------------------------------------------- 9. one fit at a time
class CallsBack(Callback):
    """At the first batch's end, runs `action(learner)` and keeps what it raised."""

    def __init__(self, action):
        self.action, self.raised = action, []

    def on_batch_end(self, batch, logs=None):
        if batch == 0 and not self.raised:
            try:
                self.action(self.learner)
            except Exception as error:  # noqa: BLE001 - kept for the test to look at
                self.raised.append(error)


def in_another_thread(call):
    """An action for CallsBack: run `call(learner)` in a new thread (joined, bounded) and
    raise what it raised there."""
    def action(trainee):
        errors = []

        def run():
            try:
                call(trainee)
            except RuntimeError as error:
                errors.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive()
        if errors:
            raise errors[0]
    return action


@pytest.mark.parametrize("call", [
    lambda t: t.fit(X, Y, epochs=1, verbose=0),
    lambda t: t.evaluate(X, Y),
    lambda t: t.predict(X),
    lambda t: t.train_step(tinyml.asarray(X[:8]), tinyml.asarray(Y[:8])),
], ids=["fit", "evaluate", "predict", "train_step"])
def test_calls_from_another_thread_while_fit_runs_are_refused(call):
    trainee = learner()
    probe = CallsBack(in_another_thread(call))
    trainee.fit(X, Y, epochs=2, verbose=0, callbacks=[probe])
    assert "in use by another thread" in str(probe.raised[0])
    assert trainee.step == 10 and trainee.epoch == 2 and len(trainee.history["loss"]) == 2


def test_the_fitting_threads_own_callbacks_may_evaluate_and_save(tmp_path):
    trainee = learner()
    probe = CallsBack(lambda t: (t.evaluate(X, Y), t.predict(X[:2]),
                                 t.save_checkpoint(tmp_path / "mid.npz")))
    trainee.fit(X, Y, epochs=1, verbose=0, callbacks=[probe])
    assert probe.raised == [] and (tmp_path / "mid.npz").exists()


def test_after_a_fit_another_thread_may_use_the_learner():
    trainee = learner()
    quiet_fit(trainee, X, Y)
    results = []
    thread = threading.Thread(target=lambda: results.append(trainee.evaluate(X, Y)))
    thread.start()
    thread.join(timeout=60)
    assert len(results) == 1


def test_a_fit_from_a_callback_of_the_running_fit_is_refused():
    trainee = learner()
    probe = CallsBack(lambda t: t.fit(X, Y, epochs=1, verbose=0))
    trainee.fit(X, Y, epochs=1, verbose=0, callbacks=[probe])
    assert isinstance(probe.raised[0], RuntimeError) and trainee.step == 5


def test_loading_a_checkpoint_while_fit_runs_is_refused(tmp_path):
    trainee = learner()
    trainee.save_checkpoint(tmp_path / "run.npz")
    probe = CallsBack(lambda t: t.load_checkpoint(tmp_path / "run.npz"))
    trainee.fit(X, Y, epochs=1, verbose=0, callbacks=[probe])
    assert "fit is running" in str(probe.raised[0]) and trainee.step == 5


def test_a_fit_that_failed_leaves_the_learner_free_for_the_next():
    trainee = learner()
    with pytest.raises(ValueError):
        trainee.fit(X, Y + 7, verbose=0)
    quiet_fit(trainee, X, Y)
    assert trainee.step == 5
