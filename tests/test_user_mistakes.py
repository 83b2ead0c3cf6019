"""The mistakes a new user makes, each refused up front with the fix (issue 9, defects 9, 10,
11 and 13): cross_entropy on a net without Softmax, regression on 1-D targets, a missing batch
axis, bool labels, ragged lists, an optimizer class instead of an instance, and the GPU
install line."""

import pathlib
import re
import sys

import numpy as np
import pytest

import tinyml
from tinyml import Layer, Net
from tinyml.backend import device_of, make_backend
from tinyml.layers import (
    Flatten,
    FullyConnected,
    Identity,
    Linear,
    LogSoftmax,
    ReLu,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinyml.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    cross_entropy_with_logits,
    huber,
    mae,
    mse,
    nll,
)
from tinyml.optim import SGD, Adam

RNG = np.random.default_rng(9)
X = RNG.standard_normal((48, 4)).astype(np.float32)
CLASSES = RNG.integers(0, 3, 48)
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def body(*last):
    return [Linear("fc1", 4, 8), ReLu("relu"), Linear("fc2", 8, 3), *last]


def weights(net):
    return {key: tinyml.to_numpy(value).copy() for key, value in net.state_dict().items()}


def assert_unchanged(net, before):
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(tinyml.to_numpy(value), before[key], err_msg=key)


class Scale(Layer):
    """A user's own last layer: tinyml cannot know what it outputs, so it must not refuse."""

    def forward(self, input):
        return input * 1.0

    def backward(self, in_gradient, *, input_gradient=True):
        return in_gradient * 1.0


# ---------------------------------------------------------------- defect 9: what the net ends in
@pytest.mark.parametrize("loss", [cross_entropy, cross_entropy(label_smoothing=0.1)],
                         ids=["plain", "smoothed"])
@pytest.mark.parametrize("last", [
    lambda: [],                                               # PyTorch's habit: Linear last
    lambda: [ReLu("out")],
    lambda: [Sigmoid("out")],                                 # rows do not sum to one
    lambda: [LogSoftmax("out")],                              # log-probabilities
    lambda: [Softmax("out", axis=0)],                         # over the batch, not the classes
    lambda: [Net([Linear("head", 3, 3)], name="block")],      # a nested net ending in Linear
], ids=["linear", "relu", "sigmoid", "log_softmax", "softmax_axis0", "nested_linear"])
def test_cross_entropy_needs_a_softmax_at_the_end(last, loss):
    with pytest.raises(ValueError) as error:
        tinyml.Learner(Net(body(*last())), loss, SGD(lr=0.1))
    message = str(error.value)
    assert "cross_entropy_with_logits" in message and "Softmax" in message, message


@pytest.mark.parametrize(("loss", "last", "fixes"), [
    (nll, lambda: [], ("LogSoftmax", "cross_entropy_with_logits")),
    (nll, lambda: [Softmax("out")], ("LogSoftmax", "cross_entropy")),
    (binary_cross_entropy, lambda: [], ("binary_cross_entropy_with_logits", "Sigmoid")),
    (binary_cross_entropy, lambda: [Tanh("out")], ("binary_cross_entropy_with_logits",)),
], ids=["nll_linear", "nll_softmax", "bce_linear", "bce_tanh"])
def test_the_other_probability_losses_need_their_layer(loss, last, fixes):
    with pytest.raises(ValueError) as error:
        tinyml.Learner(Net(body(*last())), loss, SGD(lr=0.1))
    for fix in fixes:
        assert fix in str(error.value), str(error.value)


@pytest.mark.parametrize(("loss", "last"), [
    (cross_entropy, lambda: [Softmax("out")]),
    (cross_entropy, lambda: [Net([Linear("head", 3, 3), Softmax("sm")], name="block")]),
    (cross_entropy, lambda: [Softmax("out"), Identity("same")]),
    (cross_entropy, lambda: [FullyConnected("head", 3, 3, act_fn="softmax")]),
    (cross_entropy, lambda: [Softmax("sm"), Scale("mine")]),   # unknown: not refused
    (nll, lambda: [LogSoftmax("out")]),
    (binary_cross_entropy, lambda: [Sigmoid("out")]),
    (cross_entropy_with_logits, lambda: []),
    (mse, lambda: []),
], ids=["softmax", "nested_softmax", "identity_after", "dense_softmax", "custom", "nll",
        "bce", "logits", "mse"])
def test_nets_that_end_right_train_to_a_finite_loss(loss, last):
    labels = np.eye(3)[CLASSES] if loss in (binary_cross_entropy, mse) else CLASSES
    learner = tinyml.Learner(Net(body(*last())), loss, SGD(lr=0.1), batch_size=16)
    history = learner.fit(X, labels, epochs=2, verbose=0)
    assert all(np.isfinite(history["loss"])) and min(history["loss"]) >= 0.0


def test_a_dense_layer_with_a_relu_is_no_softmax():
    net = Net(body(FullyConnected("head", 3, 3, act_fn="relu")))
    with pytest.raises(ValueError, match=r"FullyConnected 'head'.*cross_entropy_with_logits"):
        tinyml.Learner(net, cross_entropy, SGD(lr=0.1))


def test_a_net_changed_after_the_learner_was_built_is_checked_at_fit():
    net = Net(body(Softmax("out")))
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1))
    net.add(Linear("extra", 3, 3))
    before = weights(net)
    with pytest.raises(ValueError, match="cross_entropy_with_logits"):
        learner.fit(X, CLASSES, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="cross_entropy_with_logits"):
        learner.evaluate(X, CLASSES)
    assert_unchanged(net, before)


# ---------------------------------------------------------------- defect 10: regression
TARGETS = X @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32) + 1.0


def regression_net():
    return Net([Linear("fc1", 4, 16), ReLu("relu"), Linear("fc2", 16, 1)])


@pytest.mark.parametrize("loss", [mse, mae, huber(delta=2.0)], ids=["mse", "mae", "huber"])
@pytest.mark.parametrize("kind", ["float", "int", "device"])
def test_one_output_regression_trains_on_1d_targets(backend, loss, kind):
    targets = {"float": TARGETS, "int": np.round(TARGETS).astype(np.int64),
               "device": tinyml.asarray(TARGETS)}[kind]
    learner = tinyml.Learner(regression_net(), loss, SGD(lr=0.01), batch_size=8, seed=0)
    history = learner.fit(X, targets, epochs=5, verbose=0, validation_data=(X, targets))
    assert set(history) == {"loss", "val_loss", "lr", "epoch_time"}, "no accuracy for a regression"
    assert history["loss"][-1] < (0.5 if loss is mse else 0.9) * history["loss"][0], \
        history["loss"]
    scores = learner.evaluate(X, targets)
    assert set(scores) == {"loss"}
    predicted = tinyml.to_numpy(learner.predict(X))
    column = tinyml.to_numpy(targets).astype(np.float64).reshape(-1, 1)
    if loss is mse:
        assert scores["loss"] == pytest.approx(np.mean((predicted - column) ** 2), rel=1e-4)


def test_integer_targets_become_floats_of_the_backends_dtype(backend):
    seen = []

    def spy(predicted, truth):
        seen.append((truth.dtype, tuple(truth.shape), device_of(truth)))
        return mse(predicted, truth)

    learner = tinyml.Learner(regression_net(), mse, SGD(lr=0.01), batch_size=48)
    learner.loss = spy  # the decision is made for mse; the spy sees what mse would
    learner.fit(X, np.arange(48), epochs=1, verbose=0)
    dtype, shape, device = seen[0]
    assert dtype == backend.dtype and shape == (48, 1) and str(device) == str(backend.device)


def test_binary_targets_of_shape_n_train_a_one_output_net(backend):
    labels = X[:, 0] > 0
    net = Net([Linear("fc", 4, 1), Sigmoid("out")])
    for targets in (labels, labels.astype(np.int64), labels.astype(np.float32)):
        learner = tinyml.Learner(net, binary_cross_entropy, SGD(lr=0.5), batch_size=8)
        history = learner.fit(X, targets, epochs=3, verbose=0)
        assert set(history) == {"loss", "lr", "epoch_time"}
        assert history["loss"][-1] < history["loss"][0]
    logits = tinyml.Learner(Net([Linear("fc", 4, 1)]), binary_cross_entropy_with_logits,
                            SGD(lr=0.5), batch_size=8)
    assert logits.fit(X, labels, epochs=2, verbose=0)["loss"][-1] > 0.0


def test_targets_that_do_not_fit_the_outputs_are_refused_up_front():
    learner = tinyml.Learner(Net(body()), mse, SGD(lr=0.1))
    before = weights(learner.net)
    with pytest.raises(ValueError, match=r"mse.*\(3,\).*\(\)"):
        learner.fit(X, TARGETS, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"class indices.*cross_entropy_with_logits"):
        learner.fit(X, CLASSES, epochs=1, verbose=0)
    assert_unchanged(learner.net, before)


def test_class_indices_still_classify():
    learner = tinyml.Learner(Net(body(Softmax("out"))), cross_entropy, SGD(lr=0.1))
    assert "accuracy" in learner.fit(X, CLASSES, epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"1-D labels must be integer class indices.*mse"):
        learner.fit(X, TARGETS, epochs=1, verbose=0)


# ---------------------------------------------------------------- defect 11: misleading messages
@pytest.mark.parametrize("make_optimizer", [lambda: SGD(lr=0.1, momentum=0.9),
                                            lambda: Adam(lr=0.01)], ids=["sgd", "adam"])
def test_moving_the_net_after_building_the_optimizer_just_works(make_optimizer):
    """The optimizer's state follows its parameters: no optimizer.to(...) is needed."""
    with tinyml.use_backend("numpy"):
        net = Net(body(Softmax("out")))
    optimizer = make_optimizer()
    learner = tinyml.Learner(net, cross_entropy, optimizer, batch_size=16)
    learner.fit(X, CLASSES, epochs=1, verbose=0)
    net.to("array_api_strict", device="device1")
    assert learner.fit(X, CLASSES, epochs=1, verbose=0)["loss"][0] > 0.0
    target = make_backend("array_api_strict", device="device1").device
    for state in optimizer.state.values():
        for key, value in state.items():
            if key != "step":
                assert device_of(value) == target, key


def test_one_sample_without_its_batch_axis():
    learner = tinyml.Learner(Net(body(Softmax("out"))), cross_entropy, SGD(lr=0.1))
    with pytest.raises(ValueError, match=r"batch axis is missing.*y\[None\]"):
        learner.fit(X[0], CLASSES[0], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x has shape \(4,\).*batch axis is missing.*x\[None\]"):
        learner.fit(X[0], CLASSES[0:1], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"batch axis is missing"):
        learner.evaluate(X[0], CLASSES[0])
    flat_first = tinyml.Learner(Net([Flatten("flat"), *body(Softmax("out"))]), cross_entropy,
                                SGD(lr=0.1))
    with pytest.raises(ValueError, match=r"batch axis is missing.*x\[0:1\]"):
        flat_first.fit(X[0], CLASSES[0], epochs=1, verbose=0)
    assert learner.fit(X[0][None], CLASSES[0][None], epochs=1, verbose=0)["loss"]


def test_bool_labels_get_a_clear_message_before_any_step():
    learner = tinyml.Learner(Net(body(Softmax("out"))), cross_entropy, SGD(lr=0.1))
    before = weights(learner.net)
    with pytest.raises(TypeError) as error:
        learner.fit(X, CLASSES > 0, epochs=1, verbose=0)
    message = str(error.value)
    assert "bool" in message and "astype(int)" in message, message
    assert "binary_cross_entropy_with_logits" in message and "one output" in message, message
    assert_unchanged(learner.net, before)


@pytest.mark.parametrize(("x", "y", "what"), [
    ([[1.0, 2.0, 3.0, 4.0], [3.0]], [0, 1], "fit: x"),
    (X[:2], [[0], [1, 2]], "fit: y"),
    ([[[1.0, 2.0, 3.0, 4.0]], [[1.0, 2.0]]], [0, 1], "fit: x"),
])
def test_a_ragged_list_says_which_argument_and_where(x, y, what):
    learner = tinyml.Learner(Net(body(Softmax("out"))), cross_entropy, SGD(lr=0.1))
    with pytest.raises(ValueError) as error:
        learner.fit(x, y, epochs=1, verbose=0)
    message = str(error.value)
    assert message.startswith(what) and "ragged" in message and "item 1" in message, message


@pytest.mark.parametrize(("args", "words"), [
    ((cross_entropy, SGD), ("class SGD", "pass an instance", "SGD(lr=0.1)")),
    ((cross_entropy, Adam), ("class Adam", "Adam(lr=0.001)")),
    (("mse", SGD(lr=0.1)), ("string 'mse'", "tinyml.losses.mse")),
    (("crossentropy", SGD(lr=0.1)), ("string 'crossentropy'", "cross_entropy")),
    ((SGD(lr=0.1), cross_entropy), ("Learner(net, loss, optimizer)",)),
    ((cross_entropy, cross_entropy), ("optimizer", "Learner(net, loss, optimizer)")),
    ((Softmax, SGD(lr=0.1)), ("class Softmax", "loss function")),
    ((cross_entropy, "sgd"), ("string 'sgd'", "SGD(lr=0.1)")),
])
def test_the_wrong_kind_of_argument_says_what_to_pass(args, words):
    with pytest.raises(TypeError) as error:
        tinyml.Learner(Net(body(Softmax("out"))), *args)
    for word in words:
        assert word in str(error.value), str(error.value)


@pytest.mark.parametrize(("net", "words"), [
    (Net, ("class Net", "Net([")),
    ([Linear("fc", 4, 3)], ("list", "tinyml.Net([")),
    (Linear("fc", 4, 3), ("Linear 'fc'", "tinyml.Net([layer])")),
])
def test_a_net_that_is_not_a_net_says_how_to_make_one(net, words):
    with pytest.raises(TypeError) as error:
        tinyml.Learner(net, cross_entropy_with_logits, SGD(lr=0.1))
    for word in words:
        assert word in str(error.value), str(error.value)


# ---------------------------------------------------------------- defect 13: installing CuPy
def test_the_readme_gives_the_gpu_install_from_a_clone_and_from_an_index():
    section = README.read_text().split("## On a GPU", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    assert 'pip install -e ".[cuda12]"' in commands
    assert 'pip install "tinyml-xp[cuda12]"' in commands
    assert "cupy-cuda12x" in section


def test_the_missing_cupy_message_works_from_a_clone(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(RuntimeError) as error:
        make_backend("cupy")
    message = str(error.value)
    for command in ('pip install -e ".[cuda12]"', 'pip install "tinyml-xp[cuda12]"',
                    "pip install cupy-cuda12x"):
        assert command in message, message


def test_the_fixtures_cupy_skip_reason_works_from_a_clone(monkeypatch):
    import importlib.util

    from tinyml.backend import adapters

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert 'pip install -e ".[cuda12]"' in adapters.named("cupy").test_skip_reason()
