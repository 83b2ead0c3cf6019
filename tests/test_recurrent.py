"""RNN, LSTM and GRU over sequences: the initial state's gradient against finite differences
and against torch.nn.RNN/LSTM/GRU with copied weights, the zero state's gradient, saturated
gates, and PyTorch's parameters (their configurations, from zeros or a given state, against
the loop reference and PyTorch, refused shapes and states, records unwinding in reverse and
the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import doctest

import numpy as np
import pytest
import recurrent_reference as ref

import tinyml
from tinyml.layers import GRU, LSTM, RNN, recurrent, recurrent_cells
from tinyml.testing import assert_close, numerical_gradient

N, T, F, H = 2, 3, 3, 4
KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
CONFIGS = {  # name: (kind, constructor options)
    "rnn-tanh": ("RNN", {}),
    "rnn-relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}


def make(name, **options):
    kind, extra = CONFIGS[name]
    return KINDS[kind]("rnn", F, H, **extra, **options)


def reference_options(name):
    return CONFIGS[name][1]


def sequence(seed=0, shape=(N, T, F)):
    return np.random.default_rng(seed).standard_normal(shape)


def state_for(kind, seed=5, n=N):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, H))
    return (h, rng.standard_normal((n, H))) if kind == "LSTM" else h


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("name", CONFIGS)
def test_initial_state_gradient_equals_finite_differences(backend, name, return_sequences):
    """backward leaves dL/d(initial state) in initial_state_gradient, for L = sum(y * R)."""
    kind = CONFIGS[name][0]
    layer = make(name, return_sequences=return_sequences)
    x, host_state = sequence(), state_for(kind)
    params = {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}
    on_backend = (tuple(map(tinyml.asarray, host_state)) if kind == "LSTM"
                  else tinyml.asarray(host_state))
    y = layer.forward(tinyml.asarray(x), initial_state=on_backend)
    r = np.random.default_rng(9).standard_normal(tuple(y.shape))
    layer.backward(tinyml.asarray(r))

    def loss_of(state):
        out = ref.sequence(kind, x, params, initial_state=state,
                           return_sequences=return_sequences, **reference_options(name))
        return float(np.sum(out * r))
    if kind == "LSTM":
        h0, c0 = host_state
        expected = (numerical_gradient(lambda h: loss_of((h, c0)), h0),
                    numerical_gradient(lambda c: loss_of((h0, c)), c0))
        for got, want in zip(layer.initial_state_gradient, expected, strict=True):
            assert_close(got, want, backend=backend, rtol=1e-6, atol=1e-8)
    else:
        assert_close(layer.initial_state_gradient, numerical_gradient(loss_of, host_state),
                     backend=backend, rtol=1e-6, atol=1e-8)


def test_the_zero_state_has_a_gradient_too(backend):
    """Started at zeros, backward still gives dL/dh_0: the same as from given zeros."""
    x = tinyml.asarray(sequence())
    layer = make("gru")
    g = tinyml.asarray(np.ones((N, T, H)))
    layer.forward(x)
    layer.backward(g)
    from_zeros = tinyml.to_numpy(layer.initial_state_gradient)
    layer.forward(x, initial_state=tinyml.asarray(np.zeros((N, H))))
    layer.backward(g)
    assert_close(layer.initial_state_gradient, from_zeros, backend=backend)
    assert np.abs(from_zeros).max() > 0


def test_return_sequences_false_is_the_last_step_of_the_sequence(backend):
    full, last = make("lstm"), make("lstm", return_sequences=False)
    last.load_state_dict(full.state_dict())
    x = tinyml.asarray(sequence())
    assert_close(last.forward(x), tinyml.to_numpy(full.forward(x))[:, -1, :], backend=backend)


@pytest.mark.parametrize("name", CONFIGS)
def test_saturated_gates_stay_finite(backend, name):
    """Inputs of 1e4 drive every gate to 0 or 1 (and a relu RNN to 1e4s): nothing overflows
    and the gradients are finite."""
    layer = make(name)
    with np.errstate(all="raise"):
        y = layer.forward(tinyml.asarray(sequence() * 1e4))
        dx = layer.backward(tinyml.asarray(np.ones(tuple(y.shape))))
    for array in (y, dx, *(p.grad for p in layer.parameters())):
        assert np.all(np.isfinite(tinyml.to_numpy(array)))


# ---------------------------------------------------------------- PyTorch with copied weights
def copy_into_torch(torch_layer, layer, suffix=""):
    import torch

    for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(torch_layer, key + suffix).data = torch.tensor(
            tinyml.to_numpy(getattr(layer, key).data))


def torch_gradients(torch_layer, suffix=""):
    return {key: getattr(torch_layer, key + suffix).grad.numpy()
            for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("name", CONFIGS)
def test_matches_torch(backend, name, return_sequences):
    """Output, h_n, dx, every parameter gradient and the initial state's gradient against
    torch.nn.RNN/LSTM/GRU(batch_first=True) with the same weights, from a given state."""
    torch = pytest.importorskip("torch")
    kind = CONFIGS[name][0]
    n, steps = 3, 5
    layer = make(name, return_sequences=return_sequences)
    options = {"nonlinearity": reference_options(name).get("nonlinearity", "tanh")} \
        if kind == "RNN" else {}
    torch_layer = getattr(torch.nn, kind)(F, H, batch_first=True, **options).double()
    copy_into_torch(torch_layer, layer, "_l0")
    x, host_state = sequence(1, (n, steps, F)), state_for(kind, n=n)
    state = (tuple(map(tinyml.asarray, host_state)) if kind == "LSTM"
             else tinyml.asarray(host_state))
    y = layer.forward(tinyml.asarray(x), initial_state=state)
    g = np.random.default_rng(2).standard_normal(tuple(y.shape))
    dx = layer.backward(tinyml.asarray(g))

    xt = torch.tensor(x, requires_grad=True)
    states_t = [torch.tensor(s[None], requires_grad=True)
                for s in (host_state if kind == "LSTM" else (host_state,))]
    out_t, h_n = torch_layer(xt, tuple(states_t) if kind == "LSTM" else states_t[0])
    h_last = (h_n[0] if kind == "LSTM" else h_n)[0]
    (out_t if return_sequences else h_last).backward(torch.tensor(g))
    assert_close(y, (out_t if return_sequences else h_last).detach().numpy(), backend=backend,
                 err_msg="output")
    assert_close(dx, xt.grad.numpy(), backend=backend, err_msg="dx")
    for key, want in torch_gradients(torch_layer, "_l0").items():
        assert_close(getattr(layer, key).grad, want, backend=backend, err_msg=key)
    ours = layer.initial_state_gradient if kind == "LSTM" else (layer.initial_state_gradient,)
    for got, want in zip(ours, states_t, strict=True):
        assert_close(got, want.grad.numpy()[0], backend=backend, err_msg="initial state")


def test_parameters_and_init_are_pytorchs(backend):
    layer = LSTM("lstm", 6, 25)
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {
        "weight_ih": (100, 6), "weight_hh": (100, 25), "bias_ih": (100,), "bias_hh": (100,)}
    for value in layer.state_dict().values():
        host = tinyml.to_numpy(value)
        assert np.abs(host).max() <= 1 / 5 and np.abs(host).max() > 0.15  # U(-1/sqrt(H), ..)


# ---------------------------------------------------------------- refusals
# initial states of the wrong shape, kind or dtype: tests/layer_specs.py; each argument's bad
# values (the dimensions, return_sequences, nonlinearity): tests/test_declared_arguments.py


# ---------------------------------------------------------------- docstrings
def test_the_docstring_examples_run():
    for module in (recurrent, recurrent_cells):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
