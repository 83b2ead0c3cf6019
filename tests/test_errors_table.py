"""docs/errors.md is the contract: every row is a mistake tinyml refuses, and this file holds one
trigger per row that makes the mistake.

The test parses the markdown tables of docs/errors.md (those whose first column is ``id``),
requires that each row id has exactly one trigger here and each trigger a row, then runs each
trigger and checks the exception's type (exactly the documented one) and that every key word
(each `backticked` span of the "key words" column) appears in the message, ignoring case.

Adding a row: write the table line in docs/errors.md, then a function here::

    @trigger("nan-loss")
    def _(tmp_path):        # parameters are pytest fixtures, asked for by name
        ...                 # do the mistake; the test expects it to raise

Triggers run on the numpy backend (messages are the same on every backend); a row that is
about devices picks its own.
"""

import builtins
import inspect
import pathlib
import re
import sys
import types

import numpy as np
import pytest

import tinyml
from tinyml import Learner, Net
from tinyml.backend import make_backend
from tinyml.layers import (
    Conv2D,
    Dropout,
    Flatten,
    FullyConnected,
    Linear,
    Pool2D,
    ReLu,
    Residual,
    Softmax,
)
from tinyml.losses import (
    binary_cross_entropy,
    cross_entropy,
    cross_entropy_with_logits,
    huber,
    mse,
    nll,
)
from tinyml.optim import SGD, Adam
from tinyml.optim.schedules import CosineScheduler

ERRORS_MD = pathlib.Path(__file__).resolve().parents[1] / "docs" / "errors.md"
TRIGGERS = {}


def trigger(row_id):
    """Register the decorated function as the trigger of row `row_id` (one per row)."""
    def register(function):
        if row_id in TRIGGERS:
            raise AssertionError(f"two triggers for row {row_id!r}")
        TRIGGERS[row_id] = function
        return function
    return register


def parse_rows(text):
    """{id: (exception name, [key words])} from every markdown table whose header starts with
    ``id``; the columns are found by their header names."""
    rows, header = {}, None
    for line in text.splitlines():
        cells = _cells(line)
        if cells is None:
            header = None
            continue
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if set("".join(cells)) <= set("-: ") or header[0] != "id":
            continue  # the |---| line, or a table that is not a list of errors
        row = dict(zip(header, cells, strict=True))
        row_id = row["id"].strip("`")
        if row_id in rows:
            raise AssertionError(f"docs/errors.md has the id {row_id!r} twice")
        rows[row_id] = (row["exception"].strip("`"), re.findall(r"`([^`]+)`", row["key words"]))
    return rows


def _cells(line):
    line = line.strip()
    if not (line.startswith("|") and line.endswith("|")):
        return None
    return [cell.strip() for cell in line[1:-1].split("|")]


ROWS = parse_rows(ERRORS_MD.read_text())


# ---------------------------------------------------------------- the contract itself
def test_every_row_has_one_trigger_and_every_trigger_a_row():
    assert len(ROWS) >= 40, f"only {len(ROWS)} rows parsed from {ERRORS_MD}"
    assert sorted(set(ROWS) - set(TRIGGERS)) == [], "rows without a trigger in this file"
    assert sorted(set(TRIGGERS) - set(ROWS)) == [], "triggers without a row in docs/errors.md"


def test_the_parser_reads_rows_and_refuses_a_repeated_id():
    text = ("| id | what the user did | exception | key words | fix |\n|---|---|---|---|---|\n"
            "| `a` | x | `ValueError` | `one`, `two words` | y |\n")
    assert parse_rows(text) == {"a": ("ValueError", ["one", "two words"])}
    with pytest.raises(AssertionError, match="twice"):
        parse_rows(text + "| `a` | x | `TypeError` | `z` | y |\n")


@pytest.mark.parametrize("row_id", sorted(ROWS))
def test_the_row_holds(row_id, request):
    name, words = ROWS[row_id]
    exception = getattr(builtins, name, None)
    assert isinstance(exception, type) and issubclass(exception, Exception), name
    assert words, f"row {row_id!r} lists no key words"
    function = TRIGGERS.get(row_id)
    if function is None:
        pytest.fail(f"row {row_id!r} of docs/errors.md has no @trigger({row_id!r}) here")
    fixtures = {arg: request.getfixturevalue(arg) for arg in inspect.signature(function).parameters}
    with tinyml.use_backend("numpy"), pytest.raises(Exception) as raised:
        function(**fixtures)
    assert type(raised.value) is exception, f"{row_id}: {raised.value!r}"
    message = str(raised.value).lower()
    missing = [word for word in words if word.lower() not in message]
    assert not missing, f"{row_id}: {missing} not in the message: {raised.value}"


# ---------------------------------------------------------------- what the triggers share
RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 12)


def classifier(*last):
    return Net([Linear("fc1", 4, 8), ReLu("relu"), Linear("fc2", 8, 3),
                *(last or (Softmax("softmax"),))])


def learner(net=None, loss=cross_entropy):
    return Learner(net or classifier(), loss, SGD(lr=0.1), batch_size=4)


def fit(x, y, **kwargs):
    return learner(**kwargs).fit(x, y, epochs=1, verbose=0)


class _PoisonAt(tinyml.callbacks.Callback):
    """Makes every weight NaN after step `step`, so the next loss is NaN."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step:
            for parameter in self.learner.net.parameters():
                parameter.data[...] = float("nan")


# ---------------------------------------------------------------- the Learner's arguments
@trigger("learner-optimizer-class")
def _():
    Learner(classifier(), cross_entropy, SGD)


@trigger("learner-optimizer-missing")
def _():
    Learner(classifier(), cross_entropy, 0.1)


@trigger("learner-loss-string")
def _():
    Learner(classifier(), "mse", SGD(lr=0.1))


@trigger("learner-loss-class")
def _():
    class MSELoss:
        pass

    Learner(classifier(), MSELoss, SGD(lr=0.1))


@trigger("learner-arguments-swapped")
def _():
    Learner(classifier(), SGD(lr=0.1), cross_entropy)


@trigger("learner-net-list")
def _():
    Learner([Linear("fc", 4, 3)], cross_entropy_with_logits, SGD(lr=0.1))


@trigger("learner-net-layer")
def _():
    Learner(Linear("fc", 4, 3), cross_entropy_with_logits, SGD(lr=0.1))


@trigger("learner-batch-size")
def _():
    Learner(classifier(), cross_entropy, SGD(lr=0.1), batch_size=0)


@trigger("fit-epochs")
def _():
    learner().fit(X, Y, epochs=0)


@trigger("fit-validation-pair")
def _():
    learner().fit(X, Y, epochs=1, validation_data=X, verbose=0)


# ---------------------------------------------------------------- the loss and the net's end
@trigger("loss-cross-entropy-without-softmax")
def _():
    Learner(classifier(Linear("out", 3, 3)), cross_entropy, SGD(lr=0.1))


@trigger("loss-nll-without-log-softmax")
def _():
    Learner(classifier(), nll, SGD(lr=0.1))


@trigger("loss-binary-without-sigmoid")
def _():
    Learner(Net([Linear("fc", 4, 1)]), binary_cross_entropy, SGD(lr=0.1))


# ---------------------------------------------------------------- data
@trigger("data-lengths-differ")
def _():
    fit(X, Y[:10])


@trigger("data-empty")
def _():
    fit(X[:0], Y[:0])


@trigger("data-one-label-no-batch-axis")
def _():
    fit(X[0], Y[0], net=Net([Flatten("flat"), *classifier().layers]))


@trigger("data-one-sample-no-batch-axis")
def _():
    fit(X[0], Y[:1])


@trigger("data-ragged-list")
def _():
    fit([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0]], [0, 1])


@trigger("data-not-numbers")
def _():
    fit(X.astype(str), Y)


@trigger("data-wrong-features")
def _():
    fit(X[:, :3], Y)


@trigger("data-images-into-linear")
def _():
    fit(X.reshape(12, 1, 2, 2), Y)


@trigger("predict-empty")
def _():
    learner().predict(X[:0])


# ---------------------------------------------------------------- labels and targets
@trigger("labels-out-of-range")
def _():
    fit(X, Y + 1)


@trigger("labels-float-for-classes")
def _():
    fit(X, Y.astype(np.float32))


@trigger("labels-bool")
def _():
    fit(X, Y > 0)


@trigger("labels-one-hot-width")
def _():
    fit(X, np.eye(4)[Y])


@trigger("labels-column")
def _():
    fit(X, Y[:, None])


@trigger("targets-shape")
def _():
    fit(X, X[:, 0], net=classifier(Linear("out", 3, 2)), loss=mse)


@trigger("targets-are-class-indices")
def _():
    fit(X, Y, net=classifier(Linear("out", 3, 3)), loss=mse)


@trigger("loss-shapes-differ")
def _():
    mse(tinyml.asarray(np.zeros((4, 1))), tinyml.asarray(np.zeros(4)))


@trigger("loss-float-class-indices")
def _():
    cross_entropy_with_logits(tinyml.asarray(np.zeros((4, 3))), tinyml.asarray(np.zeros(4)))


@trigger("loss-unknown-option")
def _():
    huber(delta2=2.0)


@trigger("loss-option-range")
def _():
    cross_entropy(label_smoothing=1.5)


# ---------------------------------------------------------------- layers and nets
@trigger("layer-name-first")
def _():
    Linear(64, 10)


@trigger("layer-name-dot")
def _():
    Linear("fc.1", 4, 3)


@trigger("layer-name-empty")
def _():
    Linear("", 4, 3)


@trigger("layer-size-zero")
def _():
    Linear("fc", 0, 3)


@trigger("layer-size-float")
def _():
    Linear("fc", 4.0, 3)


@trigger("dropout-probability")
def _():
    Dropout("drop", 1.0)


@trigger("conv-input-dim")
def _():
    Conv2D("conv", 28, 8, 3, 3, 1, 1)


@trigger("conv-no-output")
def _():
    Conv2D("conv", (1, 4, 4), 8, 7, 7, 1, 0)


@trigger("conv-needs-filters")
def _():
    Conv2D("conv")


@trigger("images-channels-last")
def _():
    net = Net([Conv2D("conv", 4, 3, padding=1), Flatten("flat"), Linear("fc", 3),
               Softmax("softmax")], input_shape=(1, 8, 8))
    learner(net).fit(np.ones((12, 8, 8, 1), dtype=np.float32), Y, epochs=1, verbose=0)


@trigger("input-dim-channels-last")
def _():
    net = Net([Conv2D("conv", (8, 8, 1), 4, 3, padding=1), Flatten("flat"), Linear("fc", 3),
               Softmax("softmax")])
    learner(net).fit(np.ones((12, 1, 8, 8), dtype=np.float32), Y, epochs=1, verbose=0)


@trigger("net-chain-mismatch")
def _():
    Net([Conv2D("conv", (1, 8, 8), 16, 3, padding=1), Flatten("flat"), Linear("fc", 100, 10)])


@trigger("net-input-shape-batch")
def _():
    Net([Flatten("flat"), Linear("fc", 10)], input_shape=(None, 1, 28, 28))


@trigger("net-save-not-built")
def _(tmp_path):
    Net([Flatten("flat"), Linear("fc", 10)]).save(tmp_path / "net.npz")


@trigger("pool-mode")
def _():
    Pool2D("pool", (1, 4, 4), 2, 2, mode="avg")


@trigger("act-fn-unknown")
def _():
    FullyConnected("fc", 4, 3, act_fn="relu6")


@trigger("init-unknown")
def _():
    Linear("fc", 4, 3, init="glorot")


@trigger("net-duplicate-name")
def _():
    Net([Linear("fc", 4, 4), Linear("fc", 4, 3)])


@trigger("net-unnamed-nested")
def _():
    Net([Net([Linear("fc", 4, 4)]), Linear("head", 4, 3)])


@trigger("net-holds-not-a-layer")
def _():
    Net([Linear("fc", 4, 3), "softmax"])


@trigger("net-no-such-layer")
def _():
    classifier()["fc3"]


@trigger("residual-changes-shape")
def _():
    Residual("res", [Linear("fc", 4, 3)]).output_shape((2, 4))


@trigger("layer-integer-input")
def _():
    Linear("fc", 4, 3).forward(tinyml.asarray(np.ones((2, 4), dtype=np.int64)))


@trigger("backward-before-forward")
def _():
    Linear("fc", 4, 3).backward(tinyml.asarray(np.ones((2, 3))))


# ---------------------------------------------------------------- optimizers and schedules
@trigger("optimizer-lr")
def _():
    SGD(lr=-0.1)


@trigger("optimizer-nesterov")
def _():
    SGD(lr=0.1, nesterov=True)


@trigger("optimizer-step-one-parameter")
def _():
    SGD(lr=0.1).step(Linear("fc", 4, 3).weight)


@trigger("optimizer-scheduler")
def _():
    SGD(lr=0.1, scheduler=0.5)


@trigger("optimizer-state-of-another")
def _():
    Adam().load_state_dict(SGD(lr=0.1).state_dict())


@trigger("schedule-warmup")
def _():
    CosineScheduler(0.1, 100, warmup_steps=100)


# ---------------------------------------------------------------- files
@trigger("load-empty-file")
def _(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"")
    classifier().load(path)


@trigger("load-not-npz")
def _(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_text("fc1.weight,1,2,3\n")
    classifier().load(path)


@trigger("load-other-architecture")
def _(tmp_path):
    Net([Linear("fc1", 4, 5)]).save(tmp_path / "weights.npz")
    classifier().load(tmp_path / "weights.npz")


@trigger("load-missing-file")
def _(tmp_path):
    classifier().load(tmp_path / "nowhere.npz")


@trigger("load-net-weights-only")
def _(tmp_path):
    classifier().save(tmp_path / "weights.npz", config=False)
    tinyml.load_net(tmp_path / "weights.npz")


@trigger("load-checkpoint-other-net")
def _(tmp_path):
    trained = learner()
    trained.fit(X, Y, epochs=1, verbose=0)
    trained.save_checkpoint(tmp_path / "run.npz")
    Net([Linear("fc1", 4, 5), Linear("fc2", 5, 3)]).load(tmp_path / "run.npz")


@trigger("load-state-dict-mismatch")
def _():
    classifier().load_state_dict({"fc1.weight": np.zeros((2, 2))})


@trigger("save-to-folder")
def _(tmp_path):
    classifier().save(tmp_path)


@trigger("save-missing-folder")
def _(tmp_path):
    classifier().save(tmp_path / "no" / "weights.npz")


@trigger("cli-save-empty")
def _():
    from tinyml.cli import check_save_path

    check_save_path("")


# ---------------------------------------------------------------- backends and devices
@trigger("backend-unknown")
def _():
    tinyml.set_backend("jax")


@trigger("backend-dtype")
def _():
    make_backend("numpy", dtype="float16")


@trigger("backend-numpy-device")
def _():
    make_backend("numpy", device="cuda:0")


@trigger("backend-strict-device")
def _():
    make_backend("array_api_strict", device="device9")


@trigger("backend-cupy-missing")
def _(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    make_backend("cupy")


@trigger("backend-cupy-no-gpu")
def _(monkeypatch):
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    runtime = types.SimpleNamespace(getDeviceCount=no_device)
    monkeypatch.setitem(sys.modules, "cupy",
                        types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime)))
    make_backend("cupy")


@trigger("device-mixed")
def _():
    net = classifier()
    net.to("array_api_strict", device="device1")
    net.forward(make_backend("array_api_strict").asarray(X))  # on CPU_DEVICE, not device1


@trigger("backend-mixed")
def _():
    net = classifier()
    net.to("array_api_strict", device="device1")
    net.forward(X)


@trigger("seed-negative")
def _():
    tinyml.seed(-1)


# ---------------------------------------------------------------- training runs
@trigger("fit-nan-input")
def _():
    x = X.copy()
    x[1, 2] = np.nan
    fit(x, Y)


@trigger("fit-nan-loss")
def _():
    learner().fit(X, Y, epochs=1, verbose=0, log_every=1,
                  callbacks=[_PoisonAt(2), tinyml.callbacks.TerminateOnNaN(raise_error=True)])


@trigger("fit-validation-split")
def _():
    learner().fit(X, Y, epochs=1, verbose=0, validation_split=1.5)


@trigger("fit-validation-both")
def _():
    learner().fit(X, Y, epochs=1, verbose=0, validation_split=0.25, validation_data=(X, Y))


@trigger("fit-verbose")
def _():
    learner().fit(X, Y, epochs=1, verbose=3)


@trigger("fit-log-every")
def _():
    learner().fit(X, Y, epochs=1, verbose=0, log_every=0)


@trigger("fit-loader-labels")
def _():
    learner().fit(tinyml.data.DataLoader(X, Y, batch_size=4), Y, epochs=1, verbose=0)


@trigger("learner-metrics-unknown")
def _():
    Learner(classifier(), cross_entropy, SGD(lr=0.1), metrics=["f2"])


@trigger("learner-metrics-string")
def _():
    Learner(classifier(), cross_entropy, SGD(lr=0.1), metrics="f1")


@trigger("checkpoint-weights-file")
def _(tmp_path):
    classifier().save(tmp_path / "weights.npz")
    learner().fit(X, Y, epochs=1, verbose=0, resume_from=tmp_path / "weights.npz")


@trigger("checkpoint-misfit")
def _(tmp_path):
    learner().save_checkpoint(tmp_path / "run.npz")
    wider = Net([Linear("fc1", 4, 9), ReLu("relu"), Linear("fc2", 9, 3), Softmax("softmax")])
    learner(wider).load_checkpoint(tmp_path / "run.npz")


@trigger("checkpoint-no-state")
def _(tmp_path):
    class Plain:
        def step(self, parameters):
            pass

    Learner(classifier(), cross_entropy, Plain()).save_checkpoint(tmp_path / "run.npz")


@trigger("callback-not-callback")
def _():
    learner().fit(X, Y, epochs=1, verbose=0, callbacks=[print])


@trigger("early-stopping-patience")
def _():
    tinyml.callbacks.EarlyStopping(patience=-1)


@trigger("model-checkpoint-folder")
def _(tmp_path):
    checkpoint = tinyml.callbacks.ModelCheckpoint(str(tmp_path / "missing" / "w.npz"))
    learner().fit(X, Y, epochs=1, verbose=0, callbacks=[checkpoint])


@trigger("lr-scheduler-negative")
def _():
    schedule = tinyml.callbacks.LearningRateScheduler(lambda epoch, lr: -1.0)
    learner().fit(X, Y, epochs=1, verbose=0, callbacks=[schedule])


@trigger("tensorboard-log-dir")
def _():
    pytest.importorskip("tensorboardX")
    tinyml.callbacks.TensorBoard(log_dir="")


# ---------------------------------------------------------------- data files, metrics, plots
@trigger("idx-truncated")
def _(tmp_path):
    (tmp_path / "short-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    tinyml.data.load_idx(tmp_path / "short-idx1-ubyte")


@trigger("idx-not-idx")
def _(tmp_path):
    (tmp_path / "archive").write_bytes(b"PK\x03\x04" + bytes(12))
    tinyml.data.load_idx(tmp_path / "archive")


@trigger("fashion-mnist-missing")
def _(tmp_path):
    tinyml.data.load_fashion_mnist(tmp_path)


@trigger("data-loader-lengths")
def _():
    tinyml.data.DataLoader(X, Y[:5])


@trigger("metrics-top-k")
def _():
    tinyml.metrics.top_k_accuracy(tinyml.asarray(X[:, :3]), tinyml.asarray(Y), k=5)


@trigger("metrics-confusion-range")
def _():
    labels = tinyml.asarray(Y)
    tinyml.metrics.confusion_matrix(labels, labels, num_classes=2)


@trigger("viz-folder-missing")
def _(tmp_path):
    pytest.importorskip("matplotlib")
    tinyml.viz.plot_history({"loss": [1.0]}, str(tmp_path / "missing" / "curves.png"))


@trigger("predict-no-batch-axis")
def _():
    learner().predict(X[0])
