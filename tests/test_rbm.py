"""RBM: CD-K against NumPy with the same draws, the free energy against its definition,
reconstruction, train_rbm, and the errors of its own entry points (its forward, the hidden
probabilities, on binary and grey data against a reference and PyTorch, and the rest of the
contract: tests/layer_specs.py, test_layer_contract.py)."""

import itertools

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.layers import RBM
from tinyml.optim import SGD
from tinyml.testing import assert_close, assert_on_backend
from tinyml.train import train_rbm

N_VISIBLE, N_HIDDEN = 6, 4


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def random_parameters(seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return {"weight": scale * rng.standard_normal((N_HIDDEN, N_VISIBLE)),
            "bias_visible": rng.standard_normal(N_VISIBLE),
            "bias_hidden": rng.standard_normal(N_HIDDEN)}


def make_rbm(K=1, seed=1, scale=1.0):
    """An RBM with random weights and non-zero biases; returns (rbm, host parameters)."""
    rbm = RBM("rbm", N_VISIBLE, N_HIDDEN, K=K)
    params = random_parameters(seed, scale)
    rbm.load_state_dict(params)
    return rbm, params


def binary(n=5, seed=0):
    return (np.random.default_rng(seed).random((n, N_VISIBLE)) > 0.5).astype(np.float64)


def grads(rbm):
    return {name: tinyml.to_numpy(p.grad).copy() for name, p in rbm.named_parameters().items()}


# ---------------------------------------------------------------------------- the layer
def test_parameters_have_the_documented_names_and_shapes(backend):
    rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
    assert {k: v.shape for k, v in rbm.named_parameters().items()} == {
        "weight": (N_HIDDEN, N_VISIBLE), "bias_visible": (N_VISIBLE,),
        "bias_hidden": (N_HIDDEN,)}
    assert set(tinyml.Net([rbm]).state_dict()) == {"rbm.weight", "rbm.bias_visible",
                                                   "rbm.bias_hidden"}
    with tinyml.use_seed(2):
        rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
    with tinyml.use_seed(2):
        expected = tinyml.init.glorot_uniform((N_HIDDEN, N_VISIBLE), N_VISIBLE, N_HIDDEN)
    np.testing.assert_array_equal(tinyml.to_numpy(rbm.weight.data), tinyml.to_numpy(expected))
    for bias in (rbm.bias_visible, rbm.bias_hidden):
        np.testing.assert_array_equal(tinyml.to_numpy(bias.data), 0.0)


# ---------------------------------------------------------------------------- CD-K
def cd_reference(v, params, draws):
    """CD-K by Hinton's recipe, plain NumPy: (gradients added, reconstruction error)."""
    w, b_v, b_h = params["weight"], params["bias_visible"], params["bias_hidden"]
    p_h0 = sigmoid(np.einsum("ni,ji->nj", v, w) + b_h)
    p_h = p_h0
    for u in draws:  # one (batch, n_hidden) array of U[0, 1) per Gibbs step
        h = np.where(u < p_h, 1.0, 0.0)
        p_v = sigmoid(np.einsum("nj,ji->ni", h, w) + b_v)
        p_h = sigmoid(np.einsum("ni,ji->nj", p_v, w) + b_h)
    n = v.shape[0]
    positive = np.einsum("nj,ni->ji", p_h0, v) / n
    negative = np.einsum("nj,ni->ji", p_h, p_v) / n
    expected = {"weight": -(positive - negative),
                "bias_visible": -(v - p_v).mean(axis=0),
                "bias_hidden": -(p_h0 - p_h).mean(axis=0)}
    return expected, np.mean((v - p_v) ** 2)


def recorded_draws(backend, seed, shape, count):
    """The first `count` uniform arrays of `shape` the backend's generator gives for `seed`."""
    with tinyml.use_seed(seed):
        return [tinyml.to_numpy(backend.uniform(shape)) for _ in range(count)]


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("data", ["binary", "probabilities"])
def test_cd_k_against_numpy_with_the_same_draws(backend, K, data):
    rbm, params = make_rbm(K=K)
    v = binary() if data == "binary" else np.random.default_rng(4).random((5, N_VISIBLE))
    draws = recorded_draws(backend, 7, (5, N_HIDDEN), K)
    with tinyml.use_seed(7):
        error = rbm.contrastive_divergence(tinyml.asarray(v))
    expected, expected_error = cd_reference(v, params, draws)
    assert_on_backend(error, backend, shape=())
    assert_close(error, expected_error, backend=backend)
    for name, parameter in rbm.named_parameters().items():
        assert_on_backend(parameter.grad, backend, shape=parameter.shape)
        assert_close(parameter.grad, expected[name], backend=backend, err_msg=name)
    assert rbm.pending_records == 0, "contrastive_divergence is not a forward: no record"
    # another seed draws other states, so the estimate really depends on the draws
    rbm.zero_grad()
    with tinyml.use_seed(8):
        rbm.contrastive_divergence(tinyml.asarray(v))
    assert not np.allclose(tinyml.to_numpy(rbm.weight.grad), expected["weight"])


def test_cd_adds_into_grad(backend):
    rbm, _ = make_rbm(K=2)
    v = tinyml.asarray(binary())
    with tinyml.use_seed(7):
        rbm.contrastive_divergence(v)
    once = grads(rbm)
    with tinyml.use_seed(7):
        rbm.contrastive_divergence(v)
    for name, parameter in rbm.named_parameters().items():
        assert np.abs(once[name]).max() > 0
        assert_close(parameter.grad, 2 * once[name], backend=backend, err_msg=name)


def exact_log_likelihood(rbm, data):
    """Mean log p(v) over `data`, with the partition function summed over all 2^n states."""
    states = np.array(list(itertools.product([0.0, 1.0], repeat=rbm.n_visible)))
    free = tinyml.to_numpy(rbm.free_energy(tinyml.asarray(states)))
    log_z = np.logaddexp.reduce(-free)
    return float(np.mean(-tinyml.to_numpy(rbm.free_energy(tinyml.asarray(data))) - log_z))


def test_descending_the_added_gradient_ascends_the_likelihood(backend):
    """The sign convention: SGD steps on what contrastive_divergence adds raise the exact
    log-likelihood of the data (a 4-visible RBM, whose partition function is a sum of 16)."""
    data = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0]] * 4, dtype=float)
    with tinyml.use_seed(0):
        rbm = RBM("rbm", 4, 3, K=1)
    before = exact_log_likelihood(rbm, data)
    train_rbm(rbm, data, SGD(lr=0.2), epochs=60, batch_size=4)
    after = exact_log_likelihood(rbm, data)
    assert after > before + 0.5, (before, after)


# ---------------------------------------------------------------------------- free energy
def test_free_energy_against_its_definition(backend):
    """F(v) = -log sum_h exp(-E(v, h)), summing over every hidden state, and the closed form."""
    rbm, params = make_rbm()
    v = np.concatenate([binary(), np.random.default_rng(5).random((3, N_VISIBLE))])
    free = rbm.free_energy(tinyml.asarray(v))
    assert_on_backend(free, backend, shape=(len(v),))
    w, b_v, b_h = params["weight"], params["bias_visible"], params["bias_hidden"]
    by_sum = []
    for row in v:
        energies = [-(b_v @ row) - (b_h @ np.array(h)) - np.array(h) @ w @ row
                    for h in itertools.product([0.0, 1.0], repeat=N_HIDDEN)]
        by_sum.append(-np.logaddexp.reduce(-np.array(energies)))
    assert_close(free, np.array(by_sum), backend=backend)
    closed_form = -(v @ b_v) - np.logaddexp(0.0, v @ w.T + b_h).sum(axis=1)
    assert_close(free, closed_form, backend=backend)


def test_free_energy_does_not_overflow(backend):
    rbm, params = make_rbm(scale=400.0)
    v = binary()
    free = tinyml.to_numpy(rbm.free_energy(tinyml.asarray(v)))
    assert np.isfinite(free).all()
    w, b_v, b_h = params["weight"], params["bias_visible"], params["bias_hidden"]
    np.testing.assert_allclose(free, -(v @ b_v) - np.logaddexp(0.0, v @ w.T + b_h).sum(axis=1))


# ---------------------------------------------------------------------------- reconstruct
@pytest.mark.parametrize("n_steps", [1, 3])
def test_reconstruct_runs_the_cd_chain(backend, n_steps):
    rbm, params = make_rbm(K=n_steps)
    v = binary()
    draws = recorded_draws(backend, 9, (5, N_HIDDEN), n_steps)
    with tinyml.use_seed(9):
        reconstruction = rbm.reconstruct(tinyml.asarray(v), n_steps=n_steps)
    assert_on_backend(reconstruction, backend, shape=v.shape)
    h = np.where(draws[0] < sigmoid(v @ params["weight"].T + params["bias_hidden"]), 1.0, 0.0)
    p_v = sigmoid(h @ params["weight"] + params["bias_visible"])
    for u in draws[1:]:
        h = np.where(u < sigmoid(p_v @ params["weight"].T + params["bias_hidden"]), 1.0, 0.0)
        p_v = sigmoid(h @ params["weight"] + params["bias_visible"])
    assert_close(reconstruction, p_v, backend=backend)
    # CD-K's reconstruction error is that of reconstruct(v, K) with the same draws
    with tinyml.use_seed(9):
        error = rbm.contrastive_divergence(tinyml.asarray(v))
    assert_close(error, np.mean((v - p_v) ** 2), backend=backend)
    assert rbm.pending_records == 0


def test_the_default_is_one_step(backend):
    rbm, _ = make_rbm()
    v = tinyml.asarray(binary())
    with tinyml.use_seed(4):
        default = tinyml.to_numpy(rbm.reconstruct(v))
    with tinyml.use_seed(4):
        one = tinyml.to_numpy(rbm.reconstruct(v, n_steps=1))
    np.testing.assert_array_equal(default, one)


# ---------------------------------------------------------------------------- train_rbm
def test_train_rbm_is_the_documented_loop(backend):
    x = binary(20)
    with tinyml.use_seed(0):
        helped, by_hand = (RBM("rbm", N_VISIBLE, N_HIDDEN, K=2) for _ in range(2))
    by_hand.load_state_dict(helped.state_dict())
    with tinyml.use_seed(1):
        errors = train_rbm(helped, x, SGD(lr=0.1, momentum=0.5), epochs=2, batch_size=8,
                           shuffle=False)
    optimizer, expected = SGD(lr=0.1, momentum=0.5), []
    with tinyml.use_seed(1):
        for _ in range(2):
            total = 0.0
            for start in range(0, len(x), 8):
                by_hand.zero_grad()
                v = tinyml.asarray(x[start:start + 8])
                total += float(tinyml.to_numpy(by_hand.contrastive_divergence(v))) * v.shape[0]
                optimizer.step(by_hand.named_parameters())
            expected.append(total / len(x))
    assert isinstance(errors, list) and all(isinstance(e, float) for e in errors)
    np.testing.assert_allclose(errors, expected, rtol=1e-12)
    for name, parameter in by_hand.named_parameters().items():
        assert_close(helped.named_parameters()[name].data, tinyml.to_numpy(parameter.data),
                     backend=backend, rtol=1e-12, err_msg=name)


def test_train_rbm_takes_data_on_the_device_and_shuffles_with_the_seed(backend):
    x = binary(24)

    def trained(data, seed):
        with tinyml.use_seed(0):
            rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
        with tinyml.use_seed(seed):
            errors = train_rbm(rbm, data, SGD(lr=0.1), epochs=2, batch_size=5)
        return errors, tinyml.to_numpy(rbm.weight.data)

    host_errors, host_weight = trained(x, 3)
    device_errors, device_weight = trained(tinyml.asarray(x), 3)
    np.testing.assert_allclose(device_errors, host_errors, rtol=1e-12)
    np.testing.assert_allclose(device_weight, host_weight, rtol=1e-12)
    assert not np.allclose(trained(x, 4)[1], host_weight), "another seed, another order"


@pytest.mark.parametrize(("data", "message"), [
    (np.full((4, N_VISIBLE), 2.0), r"visible values must lie in \[0, 1\].*from 2.0 to 2.0"),
    (np.full((4, N_VISIBLE), -0.5), r"visible values must lie in \[0, 1\].*from -0.5"),
    (np.full((4, N_VISIBLE), np.nan), r"visible values must lie in \[0, 1\].*nan"),
    (np.zeros((0, N_VISIBLE)), r"train_rbm: x is empty"),
    (np.zeros((4, 3)), r"RBM 'rbm' expects input of shape \(batch, 6\); got \(4, 3\)"),
])
def test_train_rbm_refuses_data_that_cannot_be_right(backend, data, message):
    rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
    before = tinyml.to_numpy(rbm.weight.data).copy()
    with pytest.raises(ValueError, match=message):
        train_rbm(rbm, data, SGD(lr=0.1), epochs=1)
    np.testing.assert_array_equal(tinyml.to_numpy(rbm.weight.data), before)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"rbm": tinyml.layers.Linear("fc", 6, 4)}, TypeError, r"train_rbm trains an RBM .*Linear"),
    ({"optimizer": object()}, TypeError, r"train_rbm: optimizer must have a step\(parameters\)"),
    ({"epochs": 0}, ValueError, r"train_rbm: epochs must be >= 1; got 0"),
    ({"batch_size": 0}, ValueError, r"train_rbm: batch_size must be >= 1; got 0"),
])
def test_train_rbm_refuses_bad_arguments(backend, arguments, error, message):
    given = {"rbm": RBM("rbm", N_VISIBLE, N_HIDDEN), "x": binary(), "optimizer": SGD(lr=0.1),
             "epochs": 1, "batch_size": 4, **arguments}
    with pytest.raises(error, match=message):
        train_rbm(**given)


# ---------------------------------------------------------------------------- device reads
def test_nothing_but_the_epoch_totals_is_read_from_the_device(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        rbm, _ = make_rbm(K=2)
        v = tinyml.asarray(binary())
        reads.clear()
        rbm.backward(rbm.forward(v))
        rbm.contrastive_divergence(v)
        rbm.reconstruct(v, n_steps=2)
        rbm.free_energy(v)
        assert reads == []
        train_rbm(rbm, binary(20), SGD(lr=0.1, momentum=0.5), epochs=3, batch_size=4)
    assert len(reads) == 3, reads


# ---------------------------------------------------------------------------- errors
# forward's refusals, the forward against its reference and PyTorch on binary and grey data,
# and the visible bias's zero gradient: tests/layer_specs.py; bad constructor arguments:
# tests/test_declared_arguments.py
@pytest.mark.parametrize("method", ["contrastive_divergence", "reconstruct", "free_energy"])
def test_every_entry_point_checks_its_input(backend, method):
    rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
    call = getattr(rbm, method)
    with pytest.raises(ValueError, match=r"RBM 'rbm' expects input of shape \(batch, 6\); got "
                                         r"\(2, 5\)"):
        call(tinyml.asarray(np.ones((2, 5))))
    with pytest.raises(ValueError, match=r"got \(2, 1, 6\)\. Add a Flatten before it"):
        call(tinyml.asarray(np.ones((2, 1, 6))))
    with pytest.raises(TypeError, match=r"RBM 'rbm' expects floating-point input"):
        call(tinyml.asarray(np.ones((2, 6), dtype=np.int64)))
    assert rbm.pending_records == 0
    assert all(np.abs(g).max() == 0 for g in grads(rbm).values())


@pytest.mark.parametrize(("n_steps", "error", "message"), [
    (0, ValueError, r"RBM 'rbm': n_steps must be >= 1; got 0"),
    (None, TypeError, r"RBM 'rbm': n_steps must be an int; got None"),
])
def test_reconstruct_needs_a_positive_number_of_steps(backend, n_steps, error, message):
    with pytest.raises(error, match=message):
        RBM("rbm", N_VISIBLE, N_HIDDEN).reconstruct(tinyml.asarray(binary()), n_steps=n_steps)


def test_arrays_of_another_backend_are_refused(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second backend: numpy is the other one here")
    rbm = RBM("rbm", N_VISIBLE, N_HIDDEN)
    with pytest.raises(TypeError, match=r"RBM 'rbm': parameter 'weight' lives on"):
        rbm.contrastive_divergence(binary())
