"""Embedding: the native and portable scatter-add, weights exchanged with PyTorch, the range
check's reads from the device and a vocabulary wider than the index dtype (each pool
against a lookup and torch.nn.functional's embedding and embedding_bag, every integer dtype,
refused shapes and indices and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py; the Learner: test_embedding_learner.py)."""

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.backend import portable_ops
from tinyml.core import skip_index_checks
from tinyml.layers import Embedding
from tinyml.testing import assert_close

V, D = 7, 3
# Repeats inside a row and across rows, and one index (5) never used: its row gets no gradient.
IDS = np.array([[1, 4, 4, 0, 6], [4, 1, 2, 2, 2], [6, 0, 0, 3, 4]])


def weight_gradient(ids, g, pool):
    """dL/dW as a plain loop: each position adds its gradient into the row it read."""
    grad = np.zeros((V, g.shape[-1]))
    steps = ids.shape[1]
    for row in range(ids.shape[0]):
        for t in range(steps):
            grad[ids[row, t]] += g[row, t] if pool is None else \
                g[row] / (steps if pool == "mean" else 1)
    return grad


def embedding(pool=None, seed=0):
    layer = Embedding("emb", V, D, pool=pool)
    layer.weight.data = tinyml.asarray(np.random.default_rng(seed).standard_normal((V, D)))
    return layer


@pytest.mark.parametrize("pool", [None, "sum", "mean"])
def test_repeated_indices_accumulate_on_the_native_and_the_portable_path(backend, pool):
    g = np.random.default_rng(1).standard_normal((3, 5, D) if pool is None else (3, D))
    grads = []
    for portable in (False, True):
        layer = embedding(pool)
        with portable_ops(portable):
            layer.forward(tinyml.asarray(IDS))
            assert layer.backward(tinyml.asarray(g)) is None
        grads.append(layer.weight.grad)
    assert_close(grads[0], weight_gradient(IDS, g, pool), backend=backend)
    assert_close(grads[1], tinyml.to_numpy(grads[0]), backend=backend)


def test_tinyml_portable_ops_1_runs_the_portable_scatter_add(backend, monkeypatch):
    from tinyml.backend.ops import _registry, scatter_add

    monkeypatch.setattr(_registry, "_env", {})  # forget the cached setting: read it again
    monkeypatch.setenv("TINYML_PORTABLE_OPS", "1")
    calls, portable = [], scatter_add.portable
    monkeypatch.setattr(scatter_add, "portable",
                        lambda *args, **kwargs: calls.append(1) or portable(*args, **kwargs))
    layer, g = embedding(), np.random.default_rng(3).standard_normal((3, 5, D))
    layer.forward(tinyml.asarray(IDS))
    layer.backward(tinyml.asarray(g))
    assert calls == [1]
    assert_close(layer.weight.grad, weight_gradient(IDS, g, None), backend=backend)


def test_a_vocabulary_wider_than_the_index_dtype_is_checked_without_overflow(backend):
    ids = tinyml.asarray(np.array([[3, 255]], dtype=np.uint8))
    assert tuple(Embedding("emb", 300, 2).forward(ids).shape) == (1, 2, 2)
    with pytest.raises(ValueError, match=r"index 255 at input\[0, 1\] is outside \[0, 200\)"):
        Embedding("emb", 200, 2).forward(ids)


# ---------------------------------------------------------------------------- PyTorch


def test_weights_exchange_with_torch_by_name():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(V, D).double()
    layer = Embedding("emb", V, D)
    layer.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    ids = torch.tensor(IDS)
    assert_close(layer.forward(tinyml.asarray(IDS)), theirs(ids).detach().numpy())


# ---------------------------------------------------------------------------- the range check
# an index outside the vocabulary, named with its position (and no record kept), floating and
# boolean indices, every integer dtype: tests/layer_specs.py; bad constructor arguments:
# tests/test_declared_arguments.py
def test_the_range_check_reads_the_device_once_per_forward_unless_skipped(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        layer = embedding(pool="mean")
        ids = tinyml.asarray(IDS)
        g = tinyml.asarray(np.ones((3, D)))
        reads.clear()
        layer.forward(ids)
        assert len(reads) == 1, reads  # the bool of "any index outside"
        reads.clear()
        layer.backward(g)
        with skip_index_checks():
            layer.forward(ids)
            layer.backward(g)
        layer.forward(ids)  # checks again after the block
        assert len(reads) == 1, reads


def test_skip_index_checks_is_per_context():
    assert tinyml.core.index_checks_enabled()
    with skip_index_checks():
        assert not tinyml.core.index_checks_enabled()
    assert tinyml.core.index_checks_enabled()


def test_output_shapes_and_config():
    assert Embedding("emb", V, D).output_shape((None, 9)) == (None, 9, D)
    assert Embedding("emb", V, D, pool="sum").output_shape((4, 9)) == (4, D)
    assert Embedding("emb", V, D, pool="mean").hyperparameters == {
        "name": "emb", "vocab_size": V, "embedding_dim": D, "pool": "mean",
        "init": "glorot_uniform"}
    assert Embedding("emb", V, D).takes_indices and not tinyml.layers.Linear(
        "fc", 2, 2).takes_indices
