"""Real data through time: a GRU and an LSTM read scikit-learn's digits row by row (8 steps of
8 pixels) and classify them from their last state, on every backend."""

import pytest

import tinyml
from tinyml.data import load_digits
from tinyml.layers import GRU, LSTM, Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digit_rows():
    """(N, 8, 8) sequences: time runs down the image, each step is one row of 8 pixels."""
    x_train, y_train, x_test, y_test = load_digits(flat=False, seed=0)
    return x_train.reshape(-1, 8, 8), y_train, x_test.reshape(-1, 8, 8), y_test


@pytest.mark.parametrize("recurrent", [GRU, LSTM])
def test_a_recurrent_net_reads_digits_row_by_row(backend32, digit_rows, recurrent):
    """Adam at lr 0.02, 6 epochs, 32 hidden units: on NumPy (float32) seeds 0-5 gave test
    accuracies 0.936-0.961 (GRU) and 0.930-0.967 (LSTM) when this was written, 0.958 and
    0.967 on seed 0. About 0.8 s on NumPy, 6 s on array_api_strict and 2 s on torch, on a
    shared 2-core machine with BLAS on one thread (OpenBLAS's own threads, spinning for cores
    that other jobs hold, made the LSTM's NumPy run 10 times slower there)."""
    x_train, y_train, x_test, y_test = digit_rows
    tinyml.seed(0)
    net = tinyml.Net([recurrent("rnn", 8, 32, return_sequences=False), Linear("fc", 32, 10),
                      Softmax("softmax")])
    learner = tinyml.Learner(net, cross_entropy, Adam(lr=0.02), batch_size=32, seed=0)
    learner.fit(x_train, y_train, epochs=6, verbose=0)
    accuracy = learner.evaluate(x_test, y_test)["accuracy"]
    assert accuracy >= 0.90, (f"{recurrent.__name__} on digit rows: test accuracy "
                              f"{accuracy:.3f} on {backend32.name}")


def test_the_readme_example_runs(capsys):
    """The README's sequence example, as written: a GRU on digit rows prints its accuracy."""
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    section = readme.read_text().split("## Sequences: RNN, LSTM, GRU", 1)[1]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    namespace = {}
    exec(compile(example, str(readme), "exec"), namespace)
    accuracy = namespace["learner"].evaluate(namespace["x_test"], namespace["y_test"])["accuracy"]
    assert accuracy >= 0.90
    assert "'accuracy'" in capsys.readouterr().out
