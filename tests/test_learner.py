"""Learner: the training loop, its history, the fused Softmax step, and its input checks."""

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.layers import Dropout, Flatten, Linear, ReLu, Softmax
from tinyml.losses import cross_entropy, cross_entropy_with_logits, mse
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)
X = RNG.standard_normal((50, 2, 3)).astype(np.float32)
Y = (X.reshape(50, 6).sum(axis=1) > 0).astype(np.int64) + 2 * (X[:, 0, 0] > 0)


def make_net(dropout=0.0):
    return tinyml.Net([Flatten("flat"), Linear("fc1", 6, 8), ReLu("relu"),
                       Dropout("drop", dropout), Linear("fc2", 8, 4), Softmax("softmax")])


def make_learner(net=None, loss=cross_entropy, **kwargs):
    return tinyml.Learner(net or make_net(), loss, SGD(lr=0.1, momentum=0.9), batch_size=8,
                          **kwargs)


def test_fit_returns_python_float_history(backend):
    learner = make_learner()
    history = learner.fit(X, Y, epochs=3, validation_data=(X[:10], Y[:10]), verbose=0)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"}
    assert all(len(values) == 3 for values in history.values())
    assert all(type(value) is float for values in history.values() for value in values)
    assert history["loss"][-1] < history["loss"][0]
    assert 0.0 <= history["accuracy"][-1] <= 1.0
    learner.fit(X, Y, epochs=2, verbose=0)
    assert len(learner.history["loss"]) == 5  # kept across calls


def test_evaluate_matches_a_direct_computation(backend):
    learner = make_learner()
    learner.fit(X, Y, epochs=2, verbose=0)
    result = learner.evaluate(X, Y)
    probabilities = tinyml.to_numpy(learner.net.forward(tinyml.asarray(X)))
    expected_loss = -np.mean(np.log(probabilities[np.arange(50), Y]))
    assert abs(result["loss"] - expected_loss) < 1e-9
    assert result["accuracy"] == np.mean(probabilities.argmax(axis=1) == Y)


def test_predict_returns_one_array_on_the_backend_in_eval_mode(backend):
    learner = make_learner(make_net(dropout=0.5))
    first = learner.predict(X)
    assert_close(first, tinyml.to_numpy(learner.predict(X)), backend=backend)  # no dropout
    assert tuple(first.shape) == (50, 4)
    assert learner.net.training, "predict must restore the net's training mode"


def test_data_already_on_the_backend_is_used_in_place(backend):
    """Device data trains exactly as the same data from the host does (same seed, same
    shuffles): the histories and the weights agree, and the loss went down."""
    runs = []
    for data in ((X, Y), (tinyml.asarray(X), tinyml.asarray(Y))):
        tinyml.seed(3)
        learner = make_learner()
        history = learner.fit(*data, epochs=2, verbose=0)
        runs.append((history, learner))
    (host_history, host), (device_history, device) = runs
    np.testing.assert_allclose(device_history["loss"], host_history["loss"], rtol=1e-12)
    assert device_history["loss"][1] < device_history["loss"][0]
    for key, value in host.net.state_dict().items():
        assert_close(device.net.state_dict()[key], tinyml.to_numpy(value), backend=backend,
                     err_msg=key)
    assert_close(device.predict(tinyml.asarray(X)), tinyml.to_numpy(host.predict(X)),
                 backend=backend)


def test_the_fused_step_equals_the_chain_rule_through_softmax(backend):
    """Ending in Softmax with cross_entropy fuses the pair; the update must not change."""
    tinyml.seed(3)
    fused_net = make_net()
    state = {k: tinyml.to_numpy(v) for k, v in fused_net.state_dict().items()}
    plain_net = make_net()
    plain_net.load_state_dict(state)

    def unfused(predicted, labels):  # the same loss, but not `cross_entropy` itself
        return cross_entropy(predicted, labels)

    fused = make_learner(fused_net)
    plain = make_learner(plain_net, loss=unfused)
    assert fused.fused and not plain.fused
    x, y = tinyml.asarray(X[:8]), tinyml.asarray(Y[:8])
    for _ in range(3):
        _, fused_loss = fused.train_step(x, y)
        _, plain_loss = plain.train_step(x, y)
        assert abs(float(fused_loss) - float(plain_loss)) < 1e-10
    for key, value in fused_net.state_dict().items():
        assert_close(value, tinyml.to_numpy(plain_net.state_dict()[key]), backend=backend)


def test_same_seed_same_backend_same_weights(backend):
    def train_once():
        tinyml.seed(7)
        learner = make_learner(make_net(dropout=0.3), seed=7)
        learner.fit(X, Y, epochs=2, verbose=0)
        return {k: tinyml.to_numpy(v) for k, v in learner.net.state_dict().items()}

    first, second = train_once(), train_once()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_one_hot_labels_and_logit_loss(backend):
    learner = make_learner(tinyml.Net([Flatten("flat"), Linear("fc", 6, 4)]),
                           loss=cross_entropy_with_logits)
    history = learner.fit(X, np.eye(4)[Y], epochs=2, verbose=0)
    assert "accuracy" in history
    assert learner.evaluate(X, np.eye(4)[Y])["accuracy"] == learner.evaluate(X, Y)["accuracy"]


def test_regression_has_no_accuracy(backend):
    net = tinyml.Net([Flatten("flat"), Linear("fc", 6, 1)])
    targets = X.reshape(50, 6) @ np.arange(6.0).reshape(6, 1)
    history = make_learner(net, loss=mse).fit(X, targets, epochs=3, verbose=0)
    assert set(history) == {"loss", "lr", "epoch_time"}
    assert history["loss"][-1] < history["loss"][0]


def test_verbose_prints_one_line_per_epoch(backend, capsys):
    make_learner().fit(X, Y, epochs=2, validation_data=(X, Y), verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  loss ") and "val_accuracy" in lines[1]
    make_learner().fit(X, Y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_no_shuffle_visits_samples_in_order(backend):
    seen = []

    def recording_loss(predicted, labels):
        seen.append(tinyml.to_numpy(labels).tolist())
        return cross_entropy_with_logits(predicted, labels)

    net = tinyml.Net([Flatten("flat"), Linear("fc", 6, 4)])
    make_learner(net, loss=recording_loss).fit(X, Y, epochs=1, shuffle=False, verbose=0)
    assert sum(seen, []) == Y.tolist()
    seen.clear()
    make_learner(net, loss=recording_loss).fit(X, Y, epochs=1, shuffle=True, verbose=0)
    assert sorted(sum(seen, [])) == sorted(Y.tolist()) and sum(seen, []) != Y.tolist()


def test_integer_images_become_floats(backend):
    learner = make_learner()
    pixels = (X * 10).astype(np.int16)
    history = learner.fit(pixels, Y, epochs=1, verbose=0)
    assert np.isfinite(history["loss"][0])
    assert learner.predict(pixels).dtype == backend.dtype
    assert learner.predict(tinyml.asarray(pixels)).dtype == backend.dtype


def test_learner_backend_argument_moves_the_net():
    with tinyml.use_backend("numpy"):
        net = make_net()
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1), backend="array_api_strict")
    assert net.backend.name == "array_api_strict"
    assert learner.fit(X, Y, epochs=1, verbose=0)["loss"]


@pytest.mark.parametrize(
    ("x", "y", "error", "match"),
    [
        (X, Y[:40], ValueError, "fit: x has 50 samples but y has 40 labels"),
        (X[:0], Y[:0], ValueError, "fit: x is empty"),
        (X, Y + 2, ValueError, r"class indices in \[0, 4\).*from 2 to 5"),
        (X, Y - 1, ValueError, r"class indices in \[0, 4\).*from -1"),
        (X.reshape(50, 6, 1, 1)[:, :5], Y, ValueError,
         r"Linear 'fc1' expects input of shape \(batch, 6\); got \(50, 5\)"),
        (X[:, 0], Y, ValueError, r"expects input of shape \(batch, 6\); got \(50, 3\)"),
        (X, np.eye(3)[Y % 3], ValueError, "one-hot labels have 3 columns but the net has 4"),
        (X, Y.astype(np.float32), TypeError, "1-D labels must be integer class indices"),
        (X.astype(str), Y, TypeError, "x must hold numbers"),
    ],
)
def test_bad_data_is_refused_before_training(backend, x, y, error, match):
    learner = make_learner()
    before = {k: tinyml.to_numpy(v).copy() for k, v in learner.net.state_dict().items()}
    with pytest.raises(error, match=match):
        learner.fit(x, y, epochs=1, verbose=0)
    for key, value in learner.net.state_dict().items():
        np.testing.assert_array_equal(tinyml.to_numpy(value), before[key])


def test_bad_input_rank_for_a_first_linear_layer(backend):
    learner = make_learner(tinyml.Net([Linear("fc1", 6, 4), Softmax("softmax")]))
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 6\); got \(50, 2, 3\)"
                                         r"\. Add a Flatten before it"):
        learner.fit(X, Y, epochs=1, verbose=0)


@pytest.mark.parametrize(("epochs", "error"), [(0, ValueError), (-1, ValueError),
                                               (1.0, TypeError), (True, TypeError)])
def test_bad_epochs(epochs, error):
    with pytest.raises(error, match=r"fit: epochs must be (an int|>= 1)"):
        make_learner().fit(X, Y, epochs=epochs, verbose=0)


# batch_size's bad values: tests/test_declared_arguments.py
def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="Learner needs a tinyml.Net"):
        tinyml.Learner([Linear("fc", 2, 2)], cross_entropy, SGD(lr=0.1))
    with pytest.raises(TypeError, match="loss must be a function"):
        tinyml.Learner(make_net(), "cross_entropy", SGD(lr=0.1))
    with pytest.raises(TypeError, match="optimizer must have a step"):
        tinyml.Learner(make_net(), cross_entropy, 0.1)


def test_bad_validation_data():
    with pytest.raises(TypeError, match=r"validation_data must be a pair"):
        make_learner().fit(X, Y, epochs=1, validation_data=X, verbose=0)
    with pytest.raises(ValueError, match=r"fit \(validation_data\): x has 50 samples but y has 3"):
        make_learner().fit(X, Y, epochs=1, validation_data=(X, Y[:3]), verbose=0)


def test_predict_and_evaluate_check_their_input(backend):
    learner = make_learner()
    with pytest.raises(ValueError, match="predict: x is empty"):
        learner.predict(X[:0])
    with pytest.raises(ValueError, match="Linear 'fc1' expects"):
        learner.predict(X[:, :1])
    with pytest.raises(ValueError, match="evaluate: x has 50 samples but y has 49"):
        learner.evaluate(X, Y[:49])


@pytest.mark.parametrize("frozen_first", [False, True])
def test_a_training_step_updates_as_the_full_backward_does(backend, frozen_first):
    """train_step skips the input gradient of the first trainable layer; nothing else moves."""
    from tinyml.layers import Conv2D, MaxPool2D

    def conv_net():
        return tinyml.Net([Conv2D("conv1", (2, 4, 4), 3, 3, 3, 1, 1), ReLu("relu"),
                           Conv2D("conv2", (3, 4, 4), 2, 3, 3, 1, 1),
                           MaxPool2D("pool", (2, 4, 4), 2, 2), Flatten("flat"),
                           Linear("fc", 8, 4)])

    stepped, manual = conv_net(), conv_net()
    manual.load_state_dict({k: tinyml.to_numpy(v) for k, v in stepped.state_dict().items()})
    if frozen_first:
        stepped["conv1"].freeze()
        manual["conv1"].freeze()
    x = tinyml.asarray(np.random.default_rng(2).standard_normal((5, 2, 4, 4)))
    y = tinyml.asarray(np.array([0, 1, 2, 3, 1]))
    make_learner(stepped, loss=cross_entropy_with_logits).train_step(x, y)
    manual.zero_grad()
    _, gradient = cross_entropy_with_logits(manual.forward(x), y)
    manual.backward(gradient)
    manual.update(SGD(lr=0.1, momentum=0.9))
    for key, value in stepped.state_dict().items():
        assert_close(value, tinyml.to_numpy(manual.state_dict()[key]), backend=backend,
                     err_msg=key)


def test_training_step_never_backpropagates_into_layers_before_the_first_trainable(backend):
    net = make_net()
    net.forward(tinyml.asarray(X[:4]))
    net["flat"].backward = None  # would raise TypeError if called
    assert net.backward(tinyml.asarray(np.ones((4, 4))), input_gradient=False) is None
    untrained = tinyml.Net([Flatten("f"), ReLu("r")])
    untrained.forward(tinyml.asarray(X[:4]))
    assert untrained.backward(tinyml.asarray(np.ones((4, 4))), input_gradient=False) is None


@pytest.mark.parametrize("data_on_device", [False, True])
def test_fit_reads_the_device_once_per_epoch_not_once_per_batch(monkeypatch, data_on_device):
    """Every float()/bool()/item()/numpy() of a device array makes a GPU wait. Count them on
    torch, whose tensors let us watch: with no logging interval due inside an epoch, two reads
    per epoch (the training losses with their totals, the validation totals), plus one check
    of each label array (when the labels live on the device) before training starts."""
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch"):
        learner = make_learner(make_net(dropout=0.2))
        move = tinyml.asarray if data_on_device else (lambda data: data)
        reads.clear()
        learner.fit(move(X), move(Y), epochs=3, validation_data=(move(X[:16]), move(Y[:16])),
                    verbose=0, log_every=10**6)
    batches = 3 * (-(-len(X) // 8) + 2)  # training and validation batches
    label_checks = 2 if data_on_device else 0
    assert len(reads) <= 3 * 2 + label_checks, f"{len(reads)} reads, {batches} batches: {reads}"


def test_log_every_reads_the_losses_once_per_interval(monkeypatch):
    """log_every=k: one read per k steps (all k losses at once), plus the epoch's end."""
    torch = pytest.importorskip("torch")
    reads = []
    original = torch.Tensor.numpy
    monkeypatch.setattr(torch.Tensor, "numpy", lambda self, *a, **k: reads.append(self.shape)
                        or original(self, *a, **k))
    with tinyml.use_backend("torch"):
        learner = make_learner(make_net())
        seen = []

        class Watch(tinyml.callbacks.Callback):
            def on_progress(self, batch, logs=None):
                seen.append(list(logs["steps"]))

        learner.fit(X, Y, epochs=1, verbose=0, log_every=3, callbacks=[Watch()])
    steps = -(-len(X) // 8)
    assert [s for chunk in seen for s in chunk] == list(range(1, steps + 1))
    assert all(len(chunk) == 3 for chunk in seen[:-1]) and len(reads) == len(seen)


def test_naming_a_backend_keeps_the_nets_dtype_and_device(backend):
    """Learner(..., backend=name) moves the net to that library, keeping its dtype (float64
    here) and, for the same library, its device (device1 for array_api_strict)."""
    net = make_net()
    learner = make_learner(net, backend=backend.name)
    for parameter in learner.net.parameters():
        assert_close(parameter.data, tinyml.to_numpy(parameter.data), backend=backend)
    chosen = tinyml.backend.make_backend("numpy", dtype="float32")
    make_learner(net, backend=chosen)
    assert all(p.data.dtype == chosen.dtype for p in net.parameters()), "a Backend is as given"
