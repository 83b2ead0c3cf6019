"""Small ready-made nets for image classification (the demo trains them on digits).

Each size is written once: the layers learn their input sizes from the net's `input_shape`.
The sequence models (:func:`gru`, :func:`lstm`, :func:`transformer`) read an image as a
sequence of its rows, top to bottom: (C, H, W) becomes H steps of C * W features.
"""

from .core import Net
from .layers import (
    GRU,
    LSTM,
    Conv2D,
    Dropout,
    Flatten,
    LayerNorm1D,
    Linear,
    MaxPool2D,
    Permute,
    PositionalEncoding,
    ReLu,
    Reshape,
    Softmax,
    TransformerEncoderBlock,
)


def mlp(input_dim=(1, 8, 8), classes=10, hidden=128, dropout=0.1):
    """Flatten -> Linear -> ReLu -> Dropout -> Linear -> Softmax."""
    return Net([
        Flatten("flatten"),
        Linear("fc1", hidden),
        ReLu("relu1"),
        Dropout("dropout", dropout),
        Linear("fc2", classes),
        Softmax("softmax"),
    ], input_shape=input_dim)


def cnn(input_dim=(1, 8, 8), classes=10, filters=16):
    """Conv2D 3x3 (same padding) -> ReLu -> MaxPool2D 2x2 -> Flatten -> Linear -> Softmax."""
    return Net([
        Conv2D("conv1", filters, 3, padding=1),
        ReLu("relu1"),
        MaxPool2D("pool1", 2),
        Flatten("flatten"),
        Linear("fc1", classes),
        Softmax("softmax"),
    ], input_shape=input_dim)


def gru(input_dim=(1, 8, 8), classes=10, hidden=64):
    """Rows as time steps -> GRU (its last state) -> Linear -> Softmax."""
    return _recurrent(GRU, input_dim, classes, hidden)


def lstm(input_dim=(1, 8, 8), classes=10, hidden=64):
    """Rows as time steps -> LSTM (its last state) -> Linear -> Softmax."""
    return _recurrent(LSTM, input_dim, classes, hidden)


def transformer(input_dim=(1, 8, 8), classes=10, dim=32, heads=4, hidden=64, blocks=2):
    """Rows as tokens: Linear (each row to `dim` features) -> PositionalEncoding -> `blocks`
    pre-norm TransformerEncoderBlocks -> LayerNorm1D -> Flatten -> Linear -> Softmax."""
    steps, features = _steps(input_dim)
    return Net([
        *_rows(input_dim),
        Linear("embed", features, dim),  # the same map for every row (leading axes kept)
        PositionalEncoding("positions", steps, dim),
        *(TransformerEncoderBlock(f"block{i + 1}", dim, heads, hidden) for i in range(blocks)),
        LayerNorm1D("norm", dim),
        Flatten("flatten"),
        Linear("fc", steps * dim, classes),
        Softmax("softmax"),
    ], input_shape=input_dim)


def _recurrent(kind, input_dim, classes, hidden):
    _, features = _steps(input_dim)
    return Net([
        *_rows(input_dim),
        kind(kind.__name__.lower(), features, hidden, return_sequences=False),
        Linear("fc", hidden, classes),
        Softmax("softmax"),
    ], input_shape=input_dim)


def _steps(input_dim):
    """(time steps, features per step) of an image read row by row."""
    channels, height, width = input_dim
    return height, channels * width


def _rows(input_dim):
    """The layers that turn (N, C, H, W) images into (N, H, C * W) sequences of rows."""
    channels, height, width = input_dim
    rows_first = [] if channels == 1 else [Permute("rows_first", (2, 1, 3))]
    return [*rows_first, Reshape("rows", _steps(input_dim))]
