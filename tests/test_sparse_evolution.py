"""SparseEvolution: the Erdos-Renyi mask (a Buffer), the weight masked in place, SET's evolve
against a plain NumPy rewiring with the same draws, masked weights that stay zero under
optimizers with momentum and decay, the epoch hook, and its errors (the masked forward and
backward with each act_fn, and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py)."""

import fractions
import math

import numpy as np
import pytest
import reference
from device_reads import watch_torch_reads

import tinyml
from tinyml.layers import SparseEvolution
from tinyml.optim import SGD
from tinyml.testing import assert_close, assert_on_backend


def host(array):
    return np.array(tinyml.to_numpy(array), dtype=np.float64, copy=True)


def dense_weights(layer, seed=1, bias=True):
    """`layer` loaded with a standard-normal weight at EVERY position (its mask kept) and a
    random bias; returns the host weight."""
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal(layer.weight.shape)
    layer.load_state_dict({"weight": weight, "mask": host(layer.mask.data),
                           "bias": rng.standard_normal(layer.bias.shape) if bias
                           else np.zeros(layer.bias.shape)})
    return weight


# ---------------------------------------------------------------------------- the mask
@pytest.mark.parametrize(("n_in", "n_out", "epsilon", "connections"), [
    (64, 32, 4, 384),           # density 4 * 96 / 2048 = 0.1875
    (4, 3, 0.5, 4),             # density 0.29, round(3.5) = 4
    (10, 10, 1, 20),            # density 0.2
    (6, 5, 20, 30),             # density 20 * 11 / 30 > 1: clipped, every connection
    (300, 300, 0.0001, 1),      # round(0.06) = 0, but a layer keeps at least one
])
def test_the_mask_has_the_erdos_renyi_density(backend, n_in, n_out, epsilon, connections):
    layer = SparseEvolution("set", n_in, n_out, epsilon=epsilon)
    assert layer.density == min(1.0, epsilon * (n_in + n_out) / (n_in * n_out))
    assert layer.connections == connections
    mask, weight = host(layer.mask.data), host(layer.weight.data)
    assert_on_backend(layer.mask.data, backend, shape=(n_out, n_in))
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() == connections
    assert (weight[mask == 0] == 0).all() and (weight[mask == 1] != 0).all()


def test_the_mask_is_a_buffer(backend):
    layer = SparseEvolution("set", 8, 6, epsilon=2, act_fn="relu")
    assert list(layer.named_buffers()) == ["mask"]
    assert list(layer.named_parameters()) == ["weight", "bias"]
    assert list(tinyml.Net([layer]).state_dict()) == ["set.weight", "set.bias", "set.mask"]
    assert layer.weight.shape == layer.mask.shape == (6, 8)


def test_mask_and_weights_come_from_the_seeded_generator(backend):
    with tinyml.use_seed(3):
        layer = SparseEvolution("set", 8, 6, epsilon=2)
    with tinyml.use_seed(3):
        glorot = host(tinyml.init.glorot_uniform((6, 8), 8, 6))
        positions = host(backend.uniform((6, 8)))
    chosen = np.zeros(48)
    chosen[np.argsort(positions.ravel(), kind="stable")[:layer.connections]] = 1.0
    np.testing.assert_array_equal(host(layer.mask.data), chosen.reshape(6, 8))
    np.testing.assert_array_equal(host(layer.weight.data), glorot * chosen.reshape(6, 8))


# ---------------------------------------------------------------------------- forward/backward
# the masked forward and backward with each act_fn, a weight at every position: tests/layer_specs.py
def test_forward_masks_the_stored_weight_in_place(backend):
    """A weight with values off the mask (loaded, or moved by an optimizer's momentum) is
    masked by the next forward, in training and in eval mode, before it is used."""
    layer = SparseEvolution("set", 6, 4, epsilon=1)
    for mode in ("train", "eval"):
        weight = dense_weights(layer)
        getattr(layer, mode)()
        mask, data = host(layer.mask.data), layer.weight.data
        x = np.random.default_rng(2).standard_normal((3, 6))
        output = layer.forward(tinyml.asarray(x))
        assert layer.weight.data is data, "in place: the optimizer's state stays attached"
        np.testing.assert_array_equal(host(layer.weight.data), weight * mask)
        assert_close(output, reference.linear(x, weight * mask, host(layer.bias.data)),
                     backend=backend)
        layer.clear_records()


# ---------------------------------------------------------------------------- evolve
def rewire_reference(weight, mask, zeta, positions, values):
    """SET's rewiring, one position at a time: sort, drop, pick the new places."""
    w, connected = (weight * (mask != 0)).ravel(), mask.ravel() != 0
    positive = sorted((w[i], i) for i in range(w.size) if connected[i] and w[i] > 0)
    negative = sorted((-w[i], i) for i in range(w.size) if connected[i] and w[i] < 0)
    fraction = fractions.Fraction(str(zeta))
    k_positive, k_negative = (math.floor(fraction * len(positive)),
                              math.floor(fraction * len(negative)))
    removed = {i for _, i in positive[:k_positive]} | {i for _, i in negative[:k_negative]}
    kept = {i for i in range(w.size) if connected[i] and i not in removed}
    empty = sorted((positions.ravel()[i], i) for i in range(w.size) if i not in kept)
    grown = {i for _, i in empty[:k_positive + k_negative]}
    new_weight, new_mask = np.zeros(w.size), np.zeros(w.size)
    for i in kept:
        new_weight[i], new_mask[i] = w[i], 1.0
    for i in grown:
        new_weight[i], new_mask[i] = values.ravel()[i], 1.0
    return new_weight.reshape(weight.shape), new_mask.reshape(weight.shape), len(removed)


def evolve_draws(backend, layer, seed):
    """The draws `layer.evolve()` makes under `seed`: positions, then new weights."""
    a = layer.new_weight_scale
    with tinyml.use_seed(seed):
        return host(backend.uniform(layer.weight.shape)), host(backend.uniform(
            layer.weight.shape, -a, a))


@pytest.mark.parametrize("zeta", [0.3, 0.5, 0.0, 1.0])
@pytest.mark.parametrize("ties", [False, True])
def test_evolve_against_numpy_with_the_same_draws(backend, zeta, ties):
    layer = SparseEvolution("set", 8, 6, epsilon=2, zeta=zeta)
    weight = dense_weights(layer)
    if ties:  # equal weights: the earlier position (row-major) goes first
        weight = np.round(weight, 0) + 0.5 * np.sign(weight)
        layer.load_state_dict({"weight": weight}, strict=False)
    mask = host(layer.mask.data)
    positions, values = evolve_draws(backend, layer, 5)
    expected_weight, expected_mask, removed = rewire_reference(weight, mask, zeta, positions,
                                                               values)
    weight_array, mask_array = layer.weight.data, layer.mask.data
    with tinyml.use_seed(5):
        assert layer.evolve() is None
    assert layer.weight.data is weight_array and layer.mask.data is mask_array, "in place"
    np.testing.assert_array_equal(host(layer.mask.data), expected_mask)
    np.testing.assert_array_equal(host(layer.weight.data), expected_weight)
    assert expected_mask.sum() == mask.sum() == layer.connections
    if zeta == 0:
        assert removed == 0
        np.testing.assert_array_equal(host(layer.weight.data), weight * mask)
    elif zeta == 1:
        assert removed == layer.connections
    else:
        assert 0 < removed < layer.connections
        assert (expected_mask != mask).any(), "a connection moved"
    assert_on_backend(layer.weight.data, backend, shape=(6, 8))
    assert_on_backend(layer.mask.data, backend, shape=(6, 8))


def test_new_weights_are_small_and_not_zero(backend):
    layer = SparseEvolution("set", 20, 10, epsilon=2, zeta=0.5)
    before = host(layer.mask.data)
    layer.evolve()
    after, weight = host(layer.mask.data), host(layer.weight.data)
    new = (after == 1) & (before == 0)
    assert new.sum() > 0
    a = layer.new_weight_scale
    assert a == 0.1 * math.sqrt(6.0 / 30)
    assert (np.abs(weight[new]) <= a).all() and (weight[new] != 0).all()
    assert (weight[after == 0] == 0).all() and (weight[after == 1] != 0).all()


def test_a_dense_layer_regrows_where_it_removed(backend):
    layer = SparseEvolution("set", 4, 3, epsilon=20, zeta=0.3)
    assert layer.density == 1.0
    weight = dense_weights(layer)
    layer.evolve()
    np.testing.assert_array_equal(host(layer.mask.data), np.ones((3, 4)))
    changed = host(layer.weight.data) != weight
    assert changed.sum() == math.floor(0.3 * (weight > 0).sum()) + \
        math.floor(0.3 * (weight < 0).sum())
    assert (np.abs(host(layer.weight.data)[changed]) <= layer.new_weight_scale).all()


def test_the_learner_evolves_it_after_every_epoch(backend):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 8)), rng.integers(0, 3, 40)
    layer = SparseEvolution("set", 8, 3, epsilon=1, zeta=0.3)
    masks = [host(layer.mask.data)]

    class Watch(tinyml.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            masks.append(host(layer.mask.data))

    net = tinyml.Net([layer, tinyml.layers.Softmax("softmax")])
    learner = tinyml.Learner(net, tinyml.losses.cross_entropy, SGD(lr=0.1), batch_size=8, seed=0)
    learner.fit(x, y, epochs=3, verbose=0, callbacks=[Watch()])
    assert len(masks) == 4
    for before, after in zip(masks, masks[1:], strict=False):
        assert (before != after).any(), "each epoch rewires"
        assert after.sum() == layer.connections
    weight = host(layer.weight.data)
    assert ((weight != 0) == (masks[-1] == 1)).all()


# ---------------------------------------------------------------------------- optimizers
def optimizers():
    adam = getattr(tinyml.optim, "Adam", None)
    return [
        pytest.param(lambda: SGD(lr=0.05, momentum=0.9, weight_decay=0.01), id="sgd-momentum-wd"),
        pytest.param(lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                     id="sgd-nesterov-wd"),
        pytest.param(lambda: adam(lr=0.01), id="adam", marks=pytest.mark.skipif(
            adam is None, reason="tinyml.optim has no Adam on this branch yet")),
    ]


@pytest.mark.parametrize("make_optimizer", optimizers())
def test_masked_weights_stay_zero_under_momentum_and_decay(backend, make_optimizer):
    """Where backward masks the gradient and where forward re-masks the weight, proved.

    Never-connected positions: gradient, weight and optimizer state are all zero, so the
    stored weight stays exactly zero through every step. A connection evolve removed still has
    momentum, which moves its stored weight off zero at the next step (the assertion that
    shows why forward re-masks); the next forward masks it before it is used.
    """
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((16, 8)), rng.standard_normal((16, 5))
    layer = SparseEvolution("set", 8, 5, epsilon=1, zeta=0.3)
    optimizer = make_optimizer()
    ever_connected = host(layer.mask.data) == 1
    moved_after_evolve = 0
    for epoch in range(4):
        for step in range(5):
            layer.zero_grad()
            output = layer.forward(tinyml.asarray(x))
            mask, weight = host(layer.mask.data), host(layer.weight.data)
            assert (weight[mask == 0] == 0).all(), f"after the forward of {epoch}.{step}"
            assert_close(output, x @ weight.T + host(layer.bias.data), backend=backend)
            layer.backward(tinyml.asarray(2 * (host(output) - target) / len(x)))
            assert (host(layer.weight.grad)[mask == 0] == 0).all()
            optimizer.step(layer.named_parameters())
            stepped = host(layer.weight.data)
            assert (stepped[~ever_connected] == 0).all(), "never connected: never moved"
            if step == 0 and epoch > 0:
                moved_after_evolve += int((stepped[(mask == 0) & ever_connected] != 0).sum())
        layer.evolve()
        ever_connected |= host(layer.mask.data) == 1
        assert host(layer.mask.data).sum() == layer.connections
    assert moved_after_evolve > 0, "momentum moves removed connections: forward must re-mask"


# ---------------------------------------------------------------------------- device reads
def test_forward_backward_and_evolve_read_nothing_from_the_device(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        layer = SparseEvolution("set", 8, 5, epsilon=1, act_fn="relu")
        x = tinyml.asarray(np.ones((4, 8)))
        reads.clear()
        layer.backward(layer.forward(x))
        layer.evolve()
    assert reads == []


# ---------------------------------------------------------------------------- errors
# epsilon, zeta and act_fn's bad values: tests/test_declared_arguments.py
def test_a_bad_option_draws_nothing(backend):
    with tinyml.use_seed(1):
        with pytest.raises(ValueError):
            SparseEvolution("set", 6, 5, zeta=2.0)
        after_error = host(backend.uniform((3,)))
    with tinyml.use_seed(1):
        fresh = host(backend.uniform((3,)))
    np.testing.assert_array_equal(after_error, fresh)


@pytest.mark.parametrize(("name", "error"), [(None, TypeError), ("a.b", ValueError)])
def test_a_bad_name_is_refused_first(backend, name, error):
    with pytest.raises(error, match="name"):
        SparseEvolution(name, 6, 5, zeta=2.0)
