"""The training loop's events, callbacks that stop it, and the fusion table as data."""

import numpy as np
import pytest

import tinyml
from tinyml import Layer, Net, callbacks
from tinyml.layers import Linear, ReLu
from tinyml.losses import fusions, mse
from tinyml.optim import SGD

RNG = np.random.default_rng(0)
X = RNG.standard_normal((10, 3))
Y = RNG.integers(0, 2, 10)


def make_learner(layers=None, loss=None):
    net = Net(layers or [Linear("fc", 3, 2), tinyml.layers.Softmax("softmax")])
    return tinyml.Learner(net, loss or tinyml.losses.cross_entropy, SGD(lr=0.1), batch_size=4)


class Recorder(callbacks.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", self.params["epochs"]))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, logs["size"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


def test_callbacks_see_the_events_in_order(backend):
    recorder = Recorder()
    learner = make_learner()
    learner.fit(X, Y, epochs=2, verbose=0, callbacks=[recorder],
                validation_data=(X[:4], Y[:4]))
    assert recorder.learner is learner
    epoch = [("batch_end", 0, 4), ("batch_end", 1, 4), ("batch_end", 2, 2)]
    keys = ["accuracy", "epoch_time", "loss", "lr", "val_accuracy", "val_loss"]
    assert recorder.events == [("train_begin", 2),
                               ("epoch_begin", 0), *epoch, ("epoch_end", 0, keys),
                               ("epoch_begin", 1), *epoch, ("epoch_end", 1, keys),
                               ("train_end",)]


def test_batch_logs_hold_device_arrays_not_floats(backend):
    seen = []

    class Grab(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    make_learner().fit(X, Y, epochs=1, verbose=0, callbacks=[Grab()])
    assert all(tinyml.backend.namespace_name(loss) == backend.name for loss in seen)


def test_a_callback_stops_training_after_the_current_batch(backend):
    class StopAtSecondBatch(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                self.learner.stop_training = True

    recorder = Recorder()
    history = make_learner().fit(X, Y, epochs=5, verbose=0,
                                 callbacks=[StopAtSecondBatch(), recorder])
    assert [e[0] for e in recorder.events] == ["train_begin", "epoch_begin", "batch_end",
                                               "batch_end", "epoch_end", "train_end"]
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])


def test_history_and_printing_are_callbacks(backend, capsys):
    learner = make_learner()
    history = learner.fit(X, Y, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert len(history["loss"]) == 2 and history["loss"] == learner.history["loss"]
    losses = [float(line.split("loss ")[1].split()[0]) for line in lines]
    np.testing.assert_allclose(losses, history["loss"], atol=5e-5)


def test_a_callback_must_be_a_callback(backend):
    with pytest.raises(TypeError, match="callbacks must be tinyml.callbacks.Callback"):
        make_learner().fit(X, Y, epochs=1, verbose=0, callbacks=[print])


class Double(Layer):
    """y = 2x: a last layer that a test fuses with its own loss."""

    def forward(self, input):
        self._remember(output_shape=input.shape)
        return 2.0 * input

    def backward(self, in_gradient, *, input_gradient=True):
        self._recall(in_gradient)
        return 2.0 * in_gradient if input_gradient else None


def test_a_fusion_row_added_in_a_test_is_picked_up(backend):
    calls = []

    def fused(inputs, targets):  # mse of 2 * inputs, computed from the inputs
        calls.append(tuple(inputs.shape))
        loss, gradient = mse(2.0 * inputs, targets)
        return loss, 2.0 * gradient

    targets = RNG.standard_normal((10, 2))
    plain = make_learner([Linear("fc", 3, 2), Double("double")], loss=mse)
    fused_learner = make_learner([Linear("fc", 3, 2), Double("double")], loss=mse)
    fused_learner.net.load_state_dict({k: tinyml.to_numpy(v)
                                       for k, v in plain.net.state_dict().items()})
    row = fusions.register_fusion(Double, mse, fused)
    try:
        assert fused_learner.fusion is row and fused_learner.fused
        fused_learner.fit(X, targets, epochs=2, shuffle=False, verbose=0)
    finally:
        fusions.unregister_fusion(row)
    assert calls and calls[0] == (4, 2), "the fused loss sees the last layer's input"
    assert not plain.fused
    plain.fit(X, targets, epochs=2, shuffle=False, verbose=0)
    for key, value in plain.net.state_dict().items():
        np.testing.assert_allclose(tinyml.to_numpy(fused_learner.net.state_dict()[key]),
                                   tinyml.to_numpy(value), rtol=1e-10, atol=1e-12)


def test_softmax_and_cross_entropy_is_the_first_row():
    row = fusions.find_fusion(tinyml.layers.Softmax("softmax"), tinyml.losses.cross_entropy)
    assert row.fused_loss is tinyml.losses.cross_entropy_with_logits
    assert fusions.find_fusion(tinyml.layers.Softmax("s", axis=0),
                               tinyml.losses.cross_entropy) is None
    assert fusions.find_fusion(ReLu("relu"), tinyml.losses.cross_entropy) is None


def test_layers_hear_the_end_of_each_epoch_before_the_callbacks(backend):
    order = []

    class Counting(ReLu):
        def on_epoch_end(self, epoch):
            order.append(("layer", self.name, epoch))

    class Listener(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            order.append(("callback", epoch))

    block = Net([Counting("inner")], name="block")
    learner = make_learner([Linear("fc", 3, 2), block, tinyml.layers.Softmax("softmax")])
    learner.fit(X, Y, epochs=2, verbose=0, callbacks=[Listener()])
    assert order == [("layer", "inner", 0), ("callback", 0), ("layer", "inner", 1),
                     ("callback", 1)]
