"""Sequence tasks that need memory or attention, learnt by nets that start with an Embedding of
integer tokens, and the command line's sequence models.

Reversing a sequence of 6 tokens (a vocabulary of 8) needs every output step to know the input
step mirrored to it: a step alone says nothing of the others, so a per-step map stays at chance
(1/8). A bidirectional LSTM must carry each token across the sequence in its state; a
Transformer must find the mirrored step with its position encoding and attention. Both are
plain Nets: Embedding in, a Linear over every step out (Linear keeps leading axes), trained by
a loop that takes the per-step cross-entropy over the (N * T, V) logits.
"""

import numpy as np
import pytest

import tinyml
from tinyml import cli, models
from tinyml.layers import (
    LSTM,
    Bidirectional,
    Embedding,
    LayerNorm1D,
    Linear,
    PositionalEncoding,
    TransformerEncoderBlock,
)
from tinyml.losses import cross_entropy_with_logits
from tinyml.optim import Adam

VOCAB, LENGTH = 8, 6


@pytest.fixture
def numpy32():
    """NumPy in float32, as users train, for the tests that need no other backend."""
    with tinyml.use_backend("numpy", dtype="float32"):
        yield


def reversal(rng, n):
    """(tokens (n, T) int64, the reversed tokens (n, T))."""
    tokens = rng.integers(0, VOCAB, (n, LENGTH))
    return tokens, tokens[:, ::-1].copy()


def train_per_step(net, steps, lr, batch=64, seed=0):
    """Adam on fresh reversal batches, the loss averaged over every step of every sequence;
    then the token accuracy on 500 sequences never trained on."""
    rng, optimizer = np.random.default_rng(seed), Adam(lr=lr)
    for _ in range(steps):
        x, y = reversal(rng, batch)
        net.clear_records()
        net.zero_grad()
        logits = net.forward(tinyml.asarray(x))  # (N, T, V)
        xp = tinyml.backend.array_namespace(logits)
        _, gradient = cross_entropy_with_logits(xp.reshape(logits, (-1, VOCAB)),
                                                tinyml.asarray(y.reshape(-1)))
        net.backward(xp.reshape(gradient, logits.shape), input_gradient=False)
        optimizer.step(net.named_parameters())
    x, y = reversal(np.random.default_rng(seed + 1), 500)
    with tinyml.no_grad():
        predicted = np.argmax(tinyml.to_numpy(net.forward(tinyml.asarray(x))), axis=-1)
    return float(np.mean(predicted == y))


def backends_of_the_issue(backend32):
    if backend32.name not in ("numpy", "array_api_strict"):
        pytest.skip("end to end on numpy and array_api_strict, as the issue asks")


@pytest.mark.slow
def test_an_embedding_and_a_bidirectional_lstm_learn_to_reverse(backend32):
    backends_of_the_issue(backend32)
    tinyml.seed(0)
    net = tinyml.Net([Embedding("embedding", VOCAB, 16),
                      Bidirectional("bi", LSTM("lstm", 16, 48)),  # (N, T, 96)
                      Linear("head", 96, VOCAB)])
    accuracy = train_per_step(net, steps=500, lr=2e-2)
    assert accuracy >= 0.95, f"token accuracy {accuracy:.3f}"


@pytest.mark.slow
def test_an_embedding_and_two_transformer_blocks_learn_to_reverse(backend32):
    backends_of_the_issue(backend32)
    tinyml.seed(0)
    net = tinyml.Net([Embedding("embedding", VOCAB, 16),
                      PositionalEncoding("positions", LENGTH, 16),
                      TransformerEncoderBlock("block1", 16, 4, 32),
                      TransformerEncoderBlock("block2", 16, 4, 32),
                      LayerNorm1D("norm", 16),
                      Linear("head", 16, VOCAB)])
    accuracy = train_per_step(net, steps=150, lr=5e-3)
    assert accuracy >= 0.95, f"token accuracy {accuracy:.3f}"


def test_a_per_step_map_alone_stays_at_chance(numpy32):
    """The control: without memory or attention the same loop cannot reverse."""
    tinyml.seed(0)
    net = tinyml.Net([Embedding("embedding", VOCAB, 16), Linear("head", 16, VOCAB)])
    assert train_per_step(net, steps=150, lr=1e-2) < 0.25


# ---------------------------------------------------------------- tinyml.models, the CLI
@pytest.mark.parametrize("make", [models.gru, models.lstm, models.transformer])
@pytest.mark.parametrize("input_dim", [(1, 8, 8), (1, 28, 28), (3, 5, 4)])
def test_the_sequence_models_read_images_row_by_row(numpy32, make, input_dim):
    net = make(input_dim=input_dim, classes=10)
    x = np.random.default_rng(0).standard_normal((3, *input_dim)).astype(np.float32)
    assert net.output_shape((None, *input_dim)) == (None, 10)
    y = net.forward(tinyml.asarray(x))
    np.testing.assert_allclose(tinyml.to_numpy(y).sum(axis=1), 1.0, rtol=1e-5)
    assert tinyml.to_numpy(net.backward(tinyml.asarray(np.ones((3, 10))))).shape == x.shape


def test_rows_are_the_time_steps(numpy32):
    """Row r of the image is step r of the sequence: for several channels, the channels of
    one row side by side."""
    net = models.gru(input_dim=(2, 3, 4))
    rows = tinyml.Net(net.layers[:2])  # Permute, Reshape
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    steps = tinyml.to_numpy(rows.forward(tinyml.asarray(x)))
    np.testing.assert_array_equal(steps[0, 1], np.concatenate([x[0, 0, 1], x[0, 1, 1]]))


@pytest.mark.parametrize("model", ["gru", "lstm", "transformer"])
def test_the_command_line_trains_the_sequence_models(capsys, model):
    code = cli.main(["train", "--model", model, "--limit", "200", "--epochs", "1",
                     "--optimizer", "adam"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{model} on " in out and "test accuracy" in out
