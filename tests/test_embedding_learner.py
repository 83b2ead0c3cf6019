"""The Learner on nets that start with an Embedding: integer inputs are kept as integers (no
cast to float), their range is checked once per fit / evaluate / predict before any step (on
the host for host data) and never per batch, DataLoader batches too, and a bag-of-words net
learns a small task."""

import pathlib
import re

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.data import DataLoader
from tinyml.layers import Embedding, Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD, Adam

V, T = 10, 6
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def token_task(n, seed):
    """Rows of T token ids in [0, V); the label says whether token 3 occurs in the row."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (n, T))
    return ids, (ids == 3).any(axis=1).astype(np.int64)


def bag_of_words(pool="mean"):
    return tinyml.Net([Embedding("emb", V, 8, pool=pool), Linear("fc", 8, 2),
                       Softmax("softmax")])


def test_a_bag_of_words_net_learns_whether_a_token_occurs(backend):
    x, y = token_task(600, seed=0)
    x_test, y_test = token_task(300, seed=1)
    tinyml.seed(0)
    learner = tinyml.Learner(bag_of_words(), cross_entropy, Adam(lr=0.05), batch_size=32)
    learner.fit(x, y, epochs=10, verbose=0)
    scores = learner.evaluate(x_test, y_test)
    assert scores["accuracy"] >= 0.95, scores  # 1.0 on numpy and array_api_strict
    predicted = np.argmax(tinyml.to_numpy(learner.predict(x_test)), axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(scores["accuracy"])


def test_integer_inputs_reach_the_embedding_as_integers(backend):
    seen = []

    class Spy(Embedding):
        def forward(self, input):
            seen.append(input.dtype)
            return super().forward(input)

    x, y = token_task(8, seed=0)
    net = tinyml.Net([Spy("emb", V, 4, pool="sum"), Linear("fc", 4, 2), Softmax("softmax")])
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1), batch_size=4)
    learner.fit(x.astype(np.int32), y, epochs=1, verbose=0)
    learner.fit(tinyml.asarray(x), tinyml.asarray(y), epochs=1, verbose=0)  # on the device
    learner.predict(x)
    xp = backend.xp
    assert seen and all(xp.isdtype(dtype, "integral") for dtype in seen), seen


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict", "validation"])
def test_an_index_out_of_range_is_refused_before_any_step(backend, call):
    x, y = token_task(12, seed=0)
    x[7, 2] = V
    good, _ = token_task(12, seed=1)
    learner = tinyml.Learner(bag_of_words(), cross_entropy, SGD(lr=0.1), batch_size=4)
    before = {key: tinyml.to_numpy(value).copy() for key, value in
              learner.net.state_dict().items()}
    who = {"fit": "fit", "evaluate": "evaluate", "predict": "predict",
           "validation": r"fit \(validation_data\)"}[call]
    with pytest.raises(ValueError, match=rf"{who}: index {V} at x\[7, 2\] is outside \[0, {V}\), "
                                         rf"the indices Embedding 'emb' takes"):
        if call == "fit":
            learner.fit(x, y, epochs=1, verbose=0)
        elif call == "validation":
            learner.fit(good, y, epochs=1, verbose=0, validation_data=(x, y))
        elif call == "evaluate":
            learner.evaluate(x, y)
        else:
            learner.predict(x)
    assert learner.step == 0
    for key, value in learner.net.state_dict().items():
        np.testing.assert_array_equal(tinyml.to_numpy(value), before[key])


def test_data_already_on_the_device_is_checked_too(backend):
    x, y = token_task(12, seed=0)
    x[3, 0] = -2
    learner = tinyml.Learner(bag_of_words(), cross_entropy, SGD(lr=0.1), batch_size=4)
    with pytest.raises(ValueError, match=r"fit: index -2 at x\[3, 0\] is outside"):
        learner.fit(tinyml.asarray(x), tinyml.asarray(y), epochs=1, verbose=0)


def test_floating_inputs_are_refused_for_a_net_that_takes_indices(backend):
    x, y = token_task(12, seed=0)
    learner = tinyml.Learner(bag_of_words(), cross_entropy, SGD(lr=0.1), batch_size=4)
    with pytest.raises(TypeError, match=r"Embedding 'emb' expects integer indices; fit: x has "
                                        r"dtype float64. Pass token ids as integers"):
        learner.fit(x.astype(np.float64), y, epochs=1, verbose=0)


def test_an_embedding_inside_a_nested_net_is_found():
    inner = tinyml.Net([Embedding("emb", V, 4, pool="sum")], name="encoder")
    net = tinyml.Net([inner, Linear("fc", 4, 2), Softmax("softmax")])
    x, y = token_task(8, seed=0)
    history = tinyml.Learner(net, cross_entropy, SGD(lr=0.1), batch_size=4).fit(
        x, y, epochs=1, verbose=0)
    assert len(history["loss"]) == 1


def test_data_loader_batches_stay_integers_and_transformed_ones_are_checked(backend):
    x, y = token_task(16, seed=0)
    learner = tinyml.Learner(bag_of_words(), cross_entropy, SGD(lr=0.1), batch_size=4)
    history = learner.fit(DataLoader(x, y, batch_size=4, shuffle=True), epochs=2, verbose=0)
    assert len(history["loss"]) == 2 and learner.step == 8

    def shift(x_batch, y_batch):  # a transform that makes ids the upfront check never saw
        return x_batch + 5, y_batch
    with pytest.raises(ValueError, match=r"fit: DataLoader batch \d+ of epoch \d+ \(after its "
                                         r"transform\): index 1\d at x\["):
        learner.fit(DataLoader(x, y, batch_size=4, transform=shift), epochs=1, verbose=0)

    x[5, 1] = V + 1
    with pytest.raises(ValueError, match=rf"fit: index {V + 1} at x\[5, 1\]"):
        learner.fit(DataLoader(x, y, batch_size=4), epochs=1, verbose=0)


def torch_reads_of(monkeypatch, run):
    """The torch tensor reads `run(learner, x, y)` makes on a bag-of-words net."""
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        tinyml.seed(0)
        learner = tinyml.Learner(bag_of_words(), cross_entropy, SGD(lr=0.1), batch_size=4)
        x, y = token_task(24, seed=0)
        reads.clear()
        run(learner, x, y)
    return list(reads)


def test_fit_reads_the_device_per_epoch_not_per_batch(monkeypatch):
    """With the losses read once per epoch (log_every beyond the epoch), 2 and 6 batches per
    epoch make the same reads: none of them is the Embedding's per-forward range check."""
    def fit_with(batch_size):
        def run(learner, x, y):
            learner.batch_size = batch_size
            learner.fit(x, y, epochs=1, verbose=0, log_every=1000)
        return torch_reads_of(monkeypatch, run)

    few, many = fit_with(12), fit_with(4)
    assert many == few


def test_predict_and_evaluate_on_host_data_read_nothing_per_batch(monkeypatch):
    predicting = torch_reads_of(monkeypatch, lambda learner, x, y: learner.predict(x))
    assert predicting == []
    evaluating = torch_reads_of(monkeypatch, lambda learner, x, y: learner.evaluate(x, y))
    more = torch_reads_of(monkeypatch, lambda learner, x, y: learner.evaluate(
        np.concatenate([x, x, x]), np.concatenate([y, y, y])))
    assert evaluating == more  # the totals, once; no read per batch


def test_the_readme_example_runs(capsys):
    section = README.read_text().split("## Token ids", 1)[1]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    namespace = {}
    exec(compile(example, str(README), "exec"), namespace)
    assert "'accuracy': 1.0}" in capsys.readouterr().out
    assert namespace["learner"].step == 10 * 19
