"""Small ready-made nets for image classification (the demo trains them on digits).

Each size is written once: the layers learn their input sizes from the net's `input_shape`.
"""

from .core import Net
from .layers import Conv2D, Dropout, Flatten, Linear, MaxPool2D, ReLu, Softmax


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
