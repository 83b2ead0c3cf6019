"""
A small Transformer learns to reverse a sequence
================================================

Six tokens from a vocabulary of eight go in; the same tokens in reverse order come out, one
prediction per position. No step can do this alone: position t has to find the token at
position 5 - t (counting from 0), and only the position encoding and attention can find it. Two
pre-norm encoder blocks of width 16 learn it in a few seconds.

The losses take one row per prediction, (N, C), so the per-step logits are computed on the
(N T, 16) rows of the encoder's output, and this example writes its training loop by hand:
forward, loss, backward, step.
"""

# sphinx_gallery_thumbnail_number = 2

import tempfile

import numpy as np
from matplotlib.figure import Figure

import tinyml
from tinyml import viz
from tinyml.backend import array_namespace
from tinyml.core import skip_index_checks
from tinyml.layers import (
    Embedding,
    LayerNorm1D,
    Linear,
    PositionalEncoding,
    TransformerEncoderBlock,
)
from tinyml.losses import cross_entropy_with_logits
from tinyml.optim import Adam

VOCAB, LENGTH, DIM, HEADS = 8, 6, 16, 4
tinyml.set_backend("numpy")
tinyml.seed(0)
rng = np.random.default_rng(0)
x_train = rng.integers(0, VOCAB, (1536, LENGTH))   # token ids, (N, T)
x_test = rng.integers(0, VOCAB, (500, LENGTH))
y_train, y_test = x_train[:, ::-1].copy(), x_test[:, ::-1].copy()   # the task: reverse

# %%
# The encoder: token vectors, plus the sinusoidal position table, through two blocks
# (``x + MHA(LN(x))``, then ``x + FFN(LN(x))``), then a last LayerNorm. The head is one Linear
# from each step's 16 features to the 8 tokens' logits.
encoder = tinyml.Net([Embedding("embed", VOCAB, DIM), PositionalEncoding("pos", LENGTH, DIM),
                      TransformerEncoderBlock("block1", DIM, HEADS, 32),
                      TransformerEncoderBlock("block2", DIM, HEADS, 32),
                      LayerNorm1D("norm", DIM)])
head = tinyml.Net([Linear("head", DIM, VOCAB)])
encoder.summary(input_shape=(LENGTH,))
parameters = {**encoder.named_parameters(), **head.named_parameters()}
optimizer = Adam(lr=5e-3)


def logits(tokens):
    """Per-step logits (N T, VOCAB) of (N, T) token ids."""
    encoded = encoder.forward(tinyml.asarray(tokens))            # (N, T, DIM)
    xp = array_namespace(encoded)
    return head.forward(xp.reshape(encoded, (-1, DIM))), encoded.shape


def train_step(tokens, targets):
    encoder.zero_grad()
    head.zero_grad()
    rows, shape = logits(tokens)
    loss, gradient = cross_entropy_with_logits(rows, tinyml.asarray(targets.reshape(-1)))
    xp = array_namespace(rows)
    encoder.backward(xp.reshape(head.backward(gradient), shape), input_gradient=False)
    optimizer.step(parameters)
    return loss


def evaluate(tokens, targets):
    with tinyml.no_grad():
        rows, _ = logits(tokens)
    loss, _ = cross_entropy_with_logits(rows, tinyml.asarray(targets.reshape(-1)))
    predicted = np.argmax(tinyml.to_numpy(rows), axis=1).reshape(targets.shape)
    return float(loss), float(np.mean(predicted == targets)), float(
        np.mean((predicted == targets).all(axis=1)))


# %%
# Six epochs of 24 batches of 64. The token ids are checked once against the Embedding's table,
# then the batches skip the check (which on a GPU would read a bool back every forward). The
# loss is read once per epoch, not once per step.
encoder.layers[0].check_indices(np.concatenate([x_train, x_test]), "this example")
history = {"loss": [], "val_loss": [], "val_accuracy": [], "val_sequences": []}
with skip_index_checks():
    for epoch in range(6):
        order = rng.permutation(len(x_train))
        total = 0.0
        for batch in np.array_split(order, 24):
            total = total + train_step(x_train[batch], y_train[batch])
        val_loss, val_accuracy, val_sequences = evaluate(x_test, y_test)
        history["loss"].append(float(total) / 24)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_accuracy)
        history["val_sequences"].append(val_sequences)
        print(f"epoch {epoch + 1:2d}  loss {history['loss'][-1]:.4f}  val_loss {val_loss:.4f}  "
              f"tokens right {val_accuracy:.3f}  sequences right {val_sequences:.3f}")

out = tempfile.mkdtemp()
curves = viz.plot_history(history, f"{out}/history.png", title="Reversing 6 tokens")

# %%
# Where each block looks: the attention weights of its heads, averaged over the test
# sequences, computed from the block's own parameters as its forward does,
# ``softmax(q k^T / sqrt(d))`` with ``q, k`` the projections of ``LN(x)``. Row t is the output
# step, column s the input step it reads; to reverse, step t needs step 5 - t. In this run the
# first block's heads found that anti-diagonal, and the second block's look mostly at each
# step itself: the lookup is done by then.
def attention_of(block, x):
    """(heads, T, T): the block's attention weights on its input x (N, T, DIM), averaged."""
    with tinyml.no_grad():
        normed = tinyml.to_numpy(block.norm1.forward(tinyml.asarray(x)))
    weights = tinyml.to_numpy(block.self_attn.in_proj_weight.data)
    biases = tinyml.to_numpy(block.self_attn.in_proj_bias.data)
    size = DIM // HEADS
    q, k = ((normed @ weights[i * DIM:(i + 1) * DIM].T + biases[i * DIM:(i + 1) * DIM])
            .reshape(len(x), LENGTH, HEADS, size).transpose(0, 2, 1, 3) for i in (0, 1))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (scores / scores.sum(axis=-1, keepdims=True)).mean(axis=0)


embed, position, block1, block2 = encoder.layers[:4]
with tinyml.no_grad():
    into_block1 = position.forward(embed.forward(tinyml.asarray(x_test)))
    into_block2 = block1.forward(into_block1)
maps = Figure(figsize=(9, 5.2))
for row, (name, block, x) in enumerate([("block1", block1, into_block1),
                                        ("block2", block2, into_block2)]):
    attention = attention_of(block, tinyml.to_numpy(x))
    for h in range(HEADS):
        axes = maps.add_subplot(2, HEADS, row * HEADS + h + 1)
        axes.imshow(attention[h], cmap="viridis", vmin=0, vmax=1)
        axes.set_title(f"{name}, head {h + 1}", fontsize=9)
        axes.set_xticks(range(LENGTH))
        axes.set_yticks(range(LENGTH))
        if h == 0:
            axes.set_ylabel("output step")
        if row == 1:
            axes.set_xlabel("input step")
maps.tight_layout()
