"""Real data, real training for the layers of issue 7's dense family, on numpy and
array_api_strict: an RBM learns digits without labels and its features classify them; a
SparseEvolution MLP keeps its number of connections while it evolves, and learns them."""

import numpy as np
import pytest

import tinyml
from tinyml.data import load_digits
from tinyml.layers import RBM, Linear, Softmax, SparseEvolution
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.train import train_rbm

pytestmark = [pytest.mark.slow, pytest.mark.extra("data"),
              pytest.mark.parametrize("backend", ["numpy", "array_api_strict"], indirect=True)]


@pytest.fixture(scope="module")
def digits():
    return load_digits(flat=True, seed=0)


def test_rbm_features_classify_digits(backend32, digits):
    x_train, y_train, x_test, y_test = digits
    binary_train = (x_train > 0.5).astype(np.float32)
    binary_test = (x_test > 0.5).astype(np.float32)
    tinyml.seed(0)
    rbm = RBM("rbm", 64, 100, K=1)
    errors = train_rbm(rbm, binary_train, SGD(lr=0.1, momentum=0.5), epochs=15, batch_size=32)
    assert errors[-1] < 0.5 * errors[0], f"reconstruction errors {errors}"
    assert all(later < errors[0] for later in errors[1:])
    net = tinyml.Net([rbm.freeze(), Linear("fc", 100, 10), Softmax("softmax")])
    frozen = tinyml.to_numpy(rbm.weight.data).copy()
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.9), batch_size=32,
                             seed=0)
    learner.fit(binary_train, y_train, epochs=15, verbose=0)
    accuracy = learner.evaluate(binary_test, y_test)["accuracy"]
    assert accuracy >= 0.90, f"RBM features + Linear: {accuracy:.3f} on {backend32.name}"
    np.testing.assert_array_equal(tinyml.to_numpy(rbm.weight.data), frozen)


def test_sparse_evolution_mlp_keeps_its_connections_and_learns_digits(backend32, digits):
    x_train, y_train, x_test, y_test = digits
    tinyml.seed(0)
    hidden = SparseEvolution("set1", 64, 128, epsilon=10, act_fn="relu")
    output = SparseEvolution("set2", 128, 10, epsilon=3)
    layers = (hidden, output)
    assert all(layer.density < 0.5 for layer in layers)

    def counts():
        return [(int((tinyml.to_numpy(layer.weight.data) != 0).sum()),
                 int(tinyml.to_numpy(layer.mask.data).sum())) for layer in layers]

    masks = []

    class Watch(tinyml.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            masks.append(tinyml.to_numpy(hidden.mask.data).copy())
            seen.append(counts())

    expected = [(layer.connections, layer.connections) for layer in layers]
    seen = [counts()]
    net = tinyml.Net([hidden, output, Softmax("softmax")])
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.05, momentum=0.9), batch_size=32,
                             seed=0)
    learner.fit(x_train, y_train, epochs=15, verbose=0, callbacks=[Watch()])
    assert all(epoch == expected for epoch in seen), f"non-zeros, mask sums per epoch: {seen}"
    assert (masks[0] != masks[-1]).any(), "the connections evolved"
    accuracy = learner.evaluate(x_test, y_test)["accuracy"]
    assert accuracy >= 0.90, f"SparseEvolution MLP: {accuracy:.3f} on {backend32.name}"
