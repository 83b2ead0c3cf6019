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
import os
import pathlib
import re
import sys
import types

import numpy as np
import pytest

import tinyml
from tinyml import Learner, Net, layers
from tinyml.backend import make_backend
from tinyml.layers import (
    Conv2D,
    DotProductAttention,
    Dropout,
    Flatten,
    FullyConnected,
    Linear,
    MultiHeadAttention,
    Pool2D,
    PositionalEncoding,
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


def token_net():
    from tinyml.layers import Embedding

    return Net([Embedding("emb", 10, 4, pool="mean"), Linear("fc", 4, 2), Softmax("softmax")])


@trigger("fit-float-indices")
def _():
    Learner(token_net(), cross_entropy, SGD(lr=0.1)).fit(np.ones((4, 3)), np.zeros(4, int),
                                                         verbose=0)


@trigger("fit-index-out-of-range")
def _():
    ids = np.zeros((4, 3), dtype=int)
    ids[1, 2] = 10
    Learner(token_net(), cross_entropy, SGD(lr=0.1)).fit(ids, np.zeros(4, int), verbose=0)


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


@trigger("embedding-float-indices")
def _():
    tinyml.layers.Embedding("emb", 11, 4).forward(tinyml.asarray(np.ones((2, 3)), dtype="float64"))


@trigger("embedding-index-out-of-range")
def _():
    tinyml.layers.Embedding("emb", 11, 4).forward(tinyml.asarray(np.array([[0, 1, 11]])))


@trigger("embedding-input-shape")
def _():
    tinyml.layers.Embedding("emb", 11, 4).forward(tinyml.asarray(np.array([0, 1, 2])))


@trigger("embedding-pool")
def _():
    tinyml.layers.Embedding("emb", 11, 4, pool="max")


@trigger("permute-axes")
def _():
    tinyml.layers.Permute("p", (0, 2, 1))


@trigger("reshape-size")
def _():
    tinyml.layers.Reshape("r", (7,)).forward(tinyml.asarray(np.ones((2, 3, 4))))


@trigger("reshape-two-unknowns")
def _():
    tinyml.layers.Reshape("r", (-1, -1))

@trigger("attention-mask-not-boolean")
def _():
    q = tinyml.asarray(np.ones((2, 3, 4)))
    DotProductAttention("att").forward(q, q, q, mask=tinyml.asarray(np.ones((3, 3))))


@trigger("attention-mask-shape")
def _():
    q = tinyml.asarray(np.ones((2, 3, 4)))
    DotProductAttention("att").forward(q, q, q, mask=tinyml.asarray(np.ones((2, 3), dtype=bool)))


@trigger("attention-shapes")
def _():
    q, k = tinyml.asarray(np.ones((2, 3, 4))), tinyml.asarray(np.ones((2, 5, 3)))
    DotProductAttention("att").forward(q, k, k)


@trigger("attention-key-without-value")
def _():
    x = tinyml.asarray(np.ones((2, 3, 8)))
    MultiHeadAttention("mha", 8, 2).forward(x, x)


@trigger("attention-scale")
def _():
    DotProductAttention("att", scale=0)


@trigger("attention-heads")
def _():
    MultiHeadAttention("mha", 10, 4)


@trigger("positional-too-long")
def _():
    PositionalEncoding("pos", 4, 3).forward(tinyml.asarray(np.ones((2, 6, 3))))


@trigger("backward-before-forward")
def _():
    Linear("fc", 4, 3).backward(tinyml.asarray(np.ones((2, 3))))


# ---------------------------------------------------------------- recurrent layers
@trigger("rnn-input-without-time")
def _():
    layers.GRU("gru", 8, 16).forward(tinyml.asarray(np.ones((4, 8))))


@trigger("rnn-sequence-into-cell")
def _():
    layers.LSTMCell("cell", 8, 16).forward(tinyml.asarray(np.ones((4, 5, 8))))


@trigger("rnn-no-time-steps")
def _():
    layers.RNN("rnn", 8, 16).forward(tinyml.asarray(np.ones((4, 0, 8))))


@trigger("rnn-nonlinearity")
def _():
    layers.RNN("rnn", 8, 16, nonlinearity="sigmoid")


@trigger("rnn-return-sequences")
def _():
    layers.LSTM("lstm", 8, 16, return_sequences="last")


@trigger("rnn-state-shape")
def _():
    layers.GRU("gru", 8, 16).forward(tinyml.asarray(np.ones((4, 5, 8))),
                                     initial_state=tinyml.asarray(np.ones((4, 8))))


@trigger("rnn-lstm-state-not-pair")
def _():
    layers.LSTM("lstm", 8, 16).forward(tinyml.asarray(np.ones((4, 5, 8))),
                                       initial_state=tinyml.asarray(np.ones((4, 16))))


@trigger("rnn-state-pair-not-lstm")
def _():
    h = tinyml.asarray(np.ones((4, 16)))
    layers.GRU("gru", 8, 16).forward(tinyml.asarray(np.ones((4, 5, 8))), initial_state=(h, h))


@trigger("bidirectional-cell")
def _():
    layers.Bidirectional("bi", layers.GRUCell("cell", 8, 16))


@trigger("bidirectional-merge")
def _():
    layers.Bidirectional("bi", layers.GRU("gru", 8, 16), merge="mean")


@trigger("bidirectional-state")
def _():
    layers.Bidirectional("bi", layers.GRU("gru", 8, 16)).forward(
        tinyml.asarray(np.ones((4, 5, 8))), initial_state=tinyml.asarray(np.ones((4, 16))))


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


@trigger("clip-grad-norm-max-norm")
def _():
    tinyml.optim.clip_grad_norm(Linear("fc", 4, 3).parameters(), 0)


@trigger("clip-grad-norm-no-parameters")
def _():
    tinyml.optim.clip_grad_norm([], 1.0)


@trigger("optimizer-scheduler")
def _():
    SGD(lr=0.1, scheduler=0.5)


@trigger("optimizer-state-of-another")
def _():
    Adam().load_state_dict(SGD(lr=0.1).state_dict())


@trigger("declared-argument-not-passed")
def _():
    from tinyml.core.params import Real

    class Scaled(tinyml.optim.Optimizer):
        declared_arguments = {"lr": Real(above=0.0), "scale": Real(above=0.0)}

        def __init__(self, lr, scale=1.0):
            super().__init__(lr)

    Scaled(0.1)


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


# ---------------------------------------------------------------- issue 16: saves and loads
@trigger("save-special-file")
def _(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "pipe")
    classifier().save(tmp_path / "pipe")


@trigger("save-trailing-separator")
def _(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    classifier().save("run/")


@trigger("save-write-protected")
def _(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    path.write_bytes(b"keep")
    path.chmod(0o444)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root writes anyway: refuse as a user
        real_open = os.open

        def refused_for_writing(name, flags, *args, **kwargs):
            if os.fspath(name) == os.path.realpath(path) and flags & os.O_WRONLY:
                raise PermissionError(13, "Permission denied", name)
            return real_open(name, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refused_for_writing)
    classifier().save(path)


@trigger("save-name-too-long")
def _(tmp_path):
    classifier().save(tmp_path / ("w" * 300))


def _npy_header(shape):
    header = repr({"descr": "<f4", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


@trigger("load-impossible-shape")
def _(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "w.npz", "w") as archive:
        archive.writestr("fc1.weight.npy", _npy_header((0, 2**62, 2**62)))
    tinyml.io.load_state(tmp_path / "w.npz")


@trigger("load-array-not-npy")
def _(tmp_path):
    (tmp_path / "x.npy").write_text("0.1 0.2 0.3\n")
    tinyml.io.load_array(tmp_path / "x.npy")


@trigger("load-net-config-too-large")
def _(tmp_path):
    import json

    net = Net([Linear("fc", 4, 3)])
    config = net.config()
    config["hyperparameters"]["layers"][0]["hyperparameters"].update(input_dim=200_000,
                                                                      output_dim=200_000)
    arrays = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    arrays[tinyml.io.CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    np.savez(tmp_path / "evil.npz", **arrays)
    tinyml.load_net(tmp_path / "evil.npz")


@trigger("load-net-config-too-deep")
def _(tmp_path):
    text = '{"class": "ReLu", "name": "r", "hyperparameters": {"name": "r"}}'
    for i in range(300):
        text = (f'{{"class": "Net", "name": "n{i}", "hyperparameters": {{"layers": [{text}], '
                f'"name": "n{i}"}}}}')
    text = '{"version": 1, "class": "Net", "name": null, "hyperparameters": {"layers": [' + \
        text + '], "name": null}}'
    np.savez(tmp_path / "deep.npz",
             **{tinyml.io.CONFIG_KEY: np.frombuffer(text.encode(), dtype=np.uint8)})
    tinyml.load_net(tmp_path / "deep.npz")


@trigger("idx-impossible-shape")
def _(tmp_path):
    shape = np.asarray([0, 2**32 - 1, 2**32 - 1], ">u4")
    (tmp_path / "labels-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + shape.tobytes())
    tinyml.data.load_idx(tmp_path / "labels-idx3-ubyte")


# ---------------------------------------------------------------- issue 16: checkpoints
def _edited_checkpoint(tmp_path, change):
    """A checkpoint of learner() with its JSON member changed by `change(meta)`."""
    import json

    path = tmp_path / "run.npz"
    learner().save_checkpoint(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["__checkpoint__"].tobytes().decode())
    change(meta)
    arrays["__checkpoint__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


@trigger("checkpoint-field")
def _(tmp_path):
    path = _edited_checkpoint(tmp_path, lambda meta: meta.__setitem__("epoch", -2))
    learner().fit(X, Y, epochs=3, verbose=0, resume_from=path)


@trigger("checkpoint-streams")
def _(tmp_path):
    path = _edited_checkpoint(tmp_path, lambda meta: meta["streams"].__setitem__("rank", -1))
    learner().load_checkpoint(path)


@trigger("checkpoint-optimizer-member")
def _(tmp_path):
    path = tmp_path / "run.npz"
    learner().save_checkpoint(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["optimizer/ghost.weight/momentum_buffer"] = np.zeros(3)
    np.savez(path, **arrays)
    learner().load_checkpoint(path)


class _RaiseFromCallback(tinyml.callbacks.Callback):
    """Runs `action(learner)` at the first batch's end, letting what it raises out of fit."""

    def __init__(self, action):
        self.action = action

    def on_batch_end(self, batch, logs=None):
        self.action(self.learner)


@trigger("checkpoint-during-fit")
def _(tmp_path):
    trainee = learner()
    trainee.save_checkpoint(tmp_path / "run.npz")
    loads = _RaiseFromCallback(lambda t: t.load_checkpoint(tmp_path / "run.npz"))
    trainee.fit(X, Y, epochs=1, verbose=0, callbacks=[loads])


# ---------------------------------------------------------------- issue 16: training
@trigger("labels-from-transform")
def _():
    loader = tinyml.data.DataLoader(X, Y, batch_size=4, transform=lambda xb, yb: (xb, yb + 3))
    learner().fit(loader, epochs=1, verbose=0)


@trigger("labels-transform-dropped")
def _():
    loader = tinyml.data.DataLoader(X, Y, batch_size=4, transform=lambda xb, yb: (xb, None))
    learner().fit(loader, epochs=1, verbose=0)


@trigger("labels-one-hot-not-distribution")
def _():
    labels = np.eye(3)[Y]
    labels[0] = [-1.0, 2.0, 0.0]
    fit(X, labels)


@trigger("labels-missing")
def _():
    learner().fit(X, epochs=1, verbose=0)


@trigger("fit-loader-no-labels")
def _():
    learner().fit(tinyml.data.DataLoader(X, batch_size=4), epochs=1, verbose=0)


@trigger("loss-logits-after-softmax")
def _():
    learner(classifier(), cross_entropy_with_logits)


@trigger("loss-binary-logits-after-sigmoid")
def _():
    from tinyml.layers import Sigmoid
    from tinyml.losses import binary_cross_entropy_with_logits

    learner(Net([Linear("fc", 4, 1), Sigmoid("sigmoid")]), binary_cross_entropy_with_logits)


@trigger("loss-kl-after-softmax")
def _():
    from tinyml.losses import kl_divergence

    learner(classifier(), kl_divergence)


@trigger("fit-loader-shuffle")
def _():
    loader = tinyml.data.DataLoader(X, Y, batch_size=4, shuffle=False)
    learner().fit(loader, epochs=1, verbose=0, shuffle=True)


@trigger("fit-batch-norm-one-sample")
def _():
    from tinyml.layers import BatchNorm1D

    net = Net([Linear("fc1", 4, 8), BatchNorm1D("bn", 8), ReLu("relu"), Linear("fc2", 8, 3),
               Softmax("softmax")])
    Learner(net, cross_entropy, SGD(lr=0.1), batch_size=1).fit(X, Y, epochs=1, verbose=0)


@trigger("fit-concurrent")
def _():
    import threading

    def from_another_thread(trainee):
        raised = []

        def run():
            try:
                trainee.fit(X, Y, epochs=1, verbose=0)
            except RuntimeError as error:
                raised.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        raise raised[0]

    learner().fit(X, Y, epochs=1, verbose=0, callbacks=[_RaiseFromCallback(from_another_thread)])


@trigger("fit-reentrant")
def _():
    again = _RaiseFromCallback(lambda t: t.fit(X, Y, epochs=1, verbose=0))
    learner().fit(X, Y, epochs=1, verbose=0, callbacks=[again])


# ---------------------------------------------------------------- issue 16: the command
@trigger("cli-outputs-collide")
def _(tmp_path):
    from tinyml.cli import build_parser
    from tinyml.cli.training import check_train_arguments

    path = str(tmp_path / "run.npz")
    check_train_arguments(build_parser().parse_args(["train", "--save", path,
                                                     "--checkpoint", path]))


@trigger("cli-output-is-input")
def _(tmp_path):
    from tinyml.cli import build_parser

    classifier().save(tmp_path / "w.npz")
    np.save(tmp_path / "x.npy", X)
    args = build_parser().parse_args(["predict", "--weights", str(tmp_path / "w.npz"),
                                      "--input", str(tmp_path / "x.npy"),
                                      "--output", str(tmp_path / "x.npy")])
    args.run(args)


@trigger("cli-input-damaged")
def _(tmp_path):
    from tinyml.cli.evaluation import read_input

    (tmp_path / "notes.txt").write_text("0.1 0.2 0.3\n")
    read_input(str(tmp_path / "notes.txt"))

# ---------------------------------------------------------------- more than one process
def _one_rank(**kwargs):
    """A Communicator of one process over the in-process stand-in for MPI (no mpirun)."""
    from thread_world import ThreadWorld

    return ThreadWorld(1).communicator(0, **kwargs)


@trigger("distributed-no-mpi4py")
def _(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    tinyml.distributed.init()


@trigger("learner-distributed-type")
def _():
    Learner(classifier(), cross_entropy, SGD(lr=0.1), distributed="mpi")


@trigger("collective-not-a-list")
def _():
    _one_rank().allreduce_mean(tinyml.asarray(X))


@trigger("allreduce-mean-integers")
def _():
    _one_rank().allreduce_mean([tinyml.asarray(Y)])


@trigger("allreduce-mean-weight")
def _():
    _one_rank().allreduce_mean([tinyml.asarray(X)], weight=-1)


@trigger("broadcast-root")
def _():
    _one_rank().broadcast([tinyml.asarray(X)], root=1)


@trigger("broadcast-mismatch")
def _():
    from thread_world import run_ranks

    run_ranks(2, lambda comm, rank: comm.broadcast([tinyml.asarray(X[:4 + rank])]))


@trigger("gpu-path-unknown")
def _():
    _one_rank(gpu="mpi")


@trigger("gpu-path-no-nccl")
def _(monkeypatch):
    from tinyml.distributed import transports

    monkeypatch.setattr(transports, "load_nccl", lambda: (types.SimpleNamespace(), None))
    transports.make_transport("cupy", "nccl", None, None)


@trigger("fit-fewer-samples-than-processes")
def _():
    from thread_world import run_ranks

    run_ranks(2, lambda comm, rank: Learner(classifier(), cross_entropy, SGD(lr=0.1),
                                            distributed=comm).fit(X[:1], Y[:1], verbose=0))


@trigger("loader-batch-below-processes")
def _():
    from thread_world import run_ranks

    loader = tinyml.data.DataLoader(X, Y, batch_size=1)
    run_ranks(2, lambda comm, rank: Learner(classifier(), cross_entropy, SGD(lr=0.1),
                                            distributed=comm).fit(loader, verbose=0))


@trigger("batchnorm-sync-not-bool")
def _():
    tinyml.layers.BatchNorm1D("bn", 4, sync="yes")

# ---------------------------------------------------------------- export to ONNX
def _onnx_extra():
    pytest.importorskip("ndonnx")
    pytest.importorskip("onnx")


@trigger("onnx-extra-missing")
def _(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ndonnx", None)
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(None, 1, 8, 8))


@trigger("onnx-not-a-net")
def _(tmp_path):
    tinyml.onnx.export([Linear("fc", 4, 3), ReLu("relu")], tmp_path / "net.onnx",
                       input_shape=(None, 4))


@trigger("onnx-sample-shape")
def _(tmp_path):
    _onnx_extra()
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(1, 8, 8))


@trigger("onnx-dynamic-axis")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(None, 1, None, 8))


@trigger("onnx-opset")
def _(tmp_path):
    _onnx_extra()
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(None, 1, 8, 8),
                       opset=7)


class Noise(tinyml.Layer):
    """y = x + noise drawn where x lives, in every mode: no ONNX form."""

    def forward(self, input):
        return input + tinyml.backend.backend_of(input).normal(input.shape, dtype=input.dtype)


@trigger("onnx-layer-refused")
def _(tmp_path):
    _onnx_extra()
    tinyml.onnx.export(Net([Linear("fc", 4, 3), Noise("noise")]), tmp_path / "net.onnx",
                       input_shape=(None, 4))


@trigger("cli-export-input-shape")
def _(tmp_path):
    from tinyml.cli.exporting import input_shape_of

    input_shape_of(Net([Flatten("flat"), Linear("fc", 12, 2)]), "net.npz")


@trigger("cli-export-sequence-length")
def _(tmp_path):
    from tinyml.cli.exporting import input_shape_of

    input_shape_of(Net([layers.Embedding("embedding", 20, 8), layers.LSTM("lstm", 8, 4)]),
                   "net.npz")


@trigger("onnx-input-shape-type")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape="1,8,8")


@trigger("onnx-input-dtype")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(None, 1, 8, 8),
                       input_dtype="uint8")


@trigger("onnx-opset-type")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=(None, 1, 8, 8),
                       opset="21")


@trigger("onnx-path-folder")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path, input_shape=(None, 1, 8, 8))


@trigger("onnx-path-no-folder")
def _(tmp_path):
    tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "missing" / "cnn.onnx",
                       input_shape=(None, 1, 8, 8))
