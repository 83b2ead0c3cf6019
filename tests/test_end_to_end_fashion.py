"""End to end on real data: Fashion-MNIST from Debian's dataset-fashion-mnist package, when
it is installed (skipped otherwise: nothing is downloaded)."""

import pytest

import tinyml
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

pytestmark = pytest.mark.slow


def fashion_mnist():
    try:
        return tinyml.data.load_fashion_mnist()
    except FileNotFoundError as missing:
        pytest.skip(f"Fashion-MNIST is not installed: {str(missing)[:120]}...")


def test_an_mlp_learns_fashion_mnist(backend32):
    x_train, y_train, x_test, y_test = fashion_mnist()
    tinyml.seed(0)
    net = tinyml.models.mlp(input_dim=(1, 28, 28))
    learner = tinyml.Learner(net, cross_entropy, Adam(lr=1e-3), batch_size=64, seed=0,
                             metrics=["f1"])
    history = learner.fit(x_train[:12000], y_train[:12000], epochs=2, verbose=0,
                          validation_data=(x_test[:2000], y_test[:2000]))
    assert history["val_accuracy"][-1] >= 0.80, history
    assert history["val_f1"][-1] >= 0.78, history
