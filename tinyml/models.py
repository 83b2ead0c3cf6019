"""Small ready-made nets for image classification (the demo trains them on digits)."""

from .core import Net
from .layers import Conv2D, Dropout, Flatten, Linear, MaxPool2D, ReLu, Softmax


def mlp(input_dim=(1, 8, 8), classes=10, hidden=128, dropout=0.1):
    """Flatten -> Linear -> ReLu -> Dropout -> Linear -> Softmax."""
    features = 1
    for extent in input_dim:
        features *= extent
    return Net([
        Flatten("flatten"),
        Linear("fc1", features, hidden),
        ReLu("relu1"),
        Dropout("dropout", dropout),
        Linear("fc2", hidden, classes),
        Softmax("softmax"),
    ])


def cnn(input_dim=(1, 8, 8), classes=10, filters=16):
    """Conv2D 3x3 (same padding) -> ReLu -> MaxPool2D 2x2 -> Flatten -> Linear -> Softmax."""
    channels, height, width = input_dim
    pooled = (filters, height // 2, width // 2)
    return Net([
        Conv2D("conv1", input_dim, filters, 3, 3, 1, 1),
        ReLu("relu1"),
        MaxPool2D("pool1", (filters, height, width), 2, 2),
        Flatten("flatten"),
        Linear("fc1", pooled[0] * pooled[1] * pooled[2], classes),
        Softmax("softmax"),
    ])
