"""Issue 7's residual net: two Residual blocks and GlobalAvgPool2D learn the digits."""

import pytest

import tinyml
from tinyml import Net
from tinyml.data import load_digits
from tinyml.layers import (
    BatchNorm2D,
    Conv2D,
    GlobalAvgPool2D,
    Linear,
    ReLu,
    Residual,
    Softmax,
)
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

pytestmark = [pytest.mark.slow, pytest.mark.extra("data")]


def block(name, channels):
    """relu(x + conv(relu(bn(conv(x))))): a ResNet basic block on 8x8 maps."""
    return [Residual(name, [Conv2D("conv1", (channels, 8, 8), channels, 3, 3, 1, 1),
                            BatchNorm2D("bn", channels), ReLu("relu"),
                            Conv2D("conv2", (channels, 8, 8), channels, 3, 3, 1, 1)]),
            ReLu(f"{name}_relu")]


def test_two_residual_blocks_and_global_average_pooling_learn_digits(backend32):
    """Over seeds 0-2 this net reached 0.978-0.989 on numpy (measured while writing it)."""
    if backend32.name not in ("numpy", "array_api_strict"):
        pytest.skip("end to end on numpy and array_api_strict, as the issue asks")
    tinyml.seed(0)
    net = Net([Conv2D("stem", (1, 8, 8), 16, 3, 3, 1, 1), BatchNorm2D("bn0", 16), ReLu("relu"),
               *block("res1", 16), *block("res2", 16), GlobalAvgPool2D("gap"),
               Linear("fc", 16, 10), Softmax("softmax")])
    x_train, y_train, x_test, y_test = load_digits(flat=False, seed=0)
    optimizer = Adam(lr=0.01)
    learner = tinyml.Learner(net, cross_entropy, optimizer, batch_size=32, seed=0)
    learner.fit(x_train, y_train, epochs=10, verbose=0)
    optimizer.lr = 0.001
    learner.fit(x_train, y_train, epochs=2, verbose=0)
    accuracy = learner.evaluate(x_test, y_test)["accuracy"]
    assert accuracy >= 0.97, f"residual net test accuracy {accuracy:.3f} on {backend32.name}"
