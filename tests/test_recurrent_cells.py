"""RNNCell, LSTMCell and GRUCell: a cell unrolled over time and backpropagated by one backward
per step against finite differences of the whole unrolled loop, and the cells against the full
layers (one step from a given state or from zeros against the reference and torch.nn's cells,
refused inputs and states and the rest of the contract: tests/layer_specs.py,
test_layer_contract.py; bad arguments, the nonlinearity too: test_declared_arguments.py)."""

import numpy as np
import pytest
import recurrent_reference as ref

import tinyml
from tinyml.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from tinyml.testing import assert_close, numerical_gradient

N, T, F, H = 2, 3, 3, 4
CELLS = {  # name: (reference kind, make, full layer class, options)
    "rnn-tanh": ("RNN", RNNCell, RNN, {}),
    "rnn-relu": ("RNN", RNNCell, RNN, {"nonlinearity": "relu"}),
    "lstm": ("LSTM", LSTMCell, LSTM, {}),
    "gru": ("GRU", GRUCell, GRU, {}),
}


def make(name):
    _, cls, _, options = CELLS[name]
    return cls("cell", F, H, **options)


def host_state(kind, seed=5, n=N):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, H))
    return (h, rng.standard_normal((n, H))) if kind == "LSTM" else h


def on_backend(state):
    return tuple(map(tinyml.asarray, state)) if isinstance(state, tuple) else tinyml.asarray(
        state)


def to_host(state):
    return tuple(map(tinyml.to_numpy, state)) if isinstance(state, tuple) else tinyml.to_numpy(
        state)


# one step from zeros (state None) against the reference and torch.nn's cells: the from-zeros
# configurations in tests/layer_specs.py; its state gradient is None:
# test_the_cell_takes_the_full_layers_steps
@pytest.mark.parametrize("name", CELLS)
def test_a_cell_unrolled_over_time_backpropagates_by_one_backward_per_step(backend, name):
    """T forwards, then T backwards in reverse, each taking the state gradient the later one
    returned: dx_t, d(h_0) (and d(c_0)) and the summed parameter gradients equal central
    differences of L = sum(h_T * R) (plus sum(c_T * R_c)) through the whole unrolled loop."""
    kind, _, _, options = CELLS[name]
    cell = make(name)
    rng = np.random.default_rng(1)
    xs, state0 = rng.standard_normal((T, N, F)), host_state(kind)
    params = {key: tinyml.to_numpy(value).copy() for key, value in cell.state_dict().items()}
    state = on_backend(state0)
    for t in range(T):
        state = cell.forward(tinyml.asarray(xs[t]), state)
    r = (rng.standard_normal((N, H)), rng.standard_normal((N, H)))
    g_state = on_backend(r if kind == "LSTM" else r[0])
    dxs = [None] * T
    for t in reversed(range(T)):
        dxs[t], g_state = cell.backward(g_state)
    assert cell.pending_records == 0

    def loss(xs=xs, state0=state0, params=params):
        state = state0
        for t in range(T):
            state = ref.step(kind, xs[t], state, params, **options)
        if kind == "LSTM":
            return float(np.sum(state[0] * r[0]) + np.sum(state[1] * r[1]))
        return float(np.sum(state * r[0]))

    tolerance = {"backend": backend, "rtol": 1e-6, "atol": 1e-8}
    numeric_dx = numerical_gradient(lambda v: loss(xs=v), xs)
    for t in range(T):
        assert_close(dxs[t], numeric_dx[t], **tolerance, err_msg=f"dx_{t}")
    for key in params:
        numeric = numerical_gradient(lambda v, key=key: loss(params={**params, key: v}),
                                     params[key])
        assert_close(cell.named_parameters()[key].grad, numeric, **tolerance, err_msg=key)
    if kind == "LSTM":
        h0, c0 = state0
        assert_close(g_state[0], numerical_gradient(lambda v: loss(state0=(v, c0)), h0),
                     **tolerance)
        assert_close(g_state[1], numerical_gradient(lambda v: loss(state0=(h0, v)), c0),
                     **tolerance)
    else:
        assert_close(g_state, numerical_gradient(lambda v: loss(state0=v), state0), **tolerance)


@pytest.mark.parametrize("name", CELLS)
def test_the_cell_takes_the_full_layers_steps(backend, name):
    """Same weights: T cell steps give the full layer's output, and T cell backwards its
    gradients."""
    _, _, full_class, options = CELLS[name]
    cell, full = make(name), full_class("cell", F, H, **options)
    full.load_state_dict(cell.state_dict())
    x = np.random.default_rng(2).standard_normal((N, T, F))
    g = np.random.default_rng(3).standard_normal((N, T, H))
    y = full.forward(tinyml.asarray(x))
    dx = tinyml.to_numpy(full.backward(tinyml.asarray(g)))
    states = [None]
    for t in range(T):
        states.append(cell.forward(tinyml.asarray(x[:, t, :]), states[-1]))
    hidden = [to_host(s)[0] if isinstance(s, tuple) else to_host(s) for s in states[1:]]
    assert_close(y, np.stack(hidden, axis=1), backend=backend)
    carry = None
    for t in reversed(range(T)):
        g_h = tinyml.asarray(g[:, t, :]) if carry is None else (
            (carry[0] if isinstance(carry, tuple) else carry) + tinyml.asarray(g[:, t, :]))
        if name == "lstm":
            g_h = (g_h, tinyml.asarray(np.zeros((N, H))) if carry is None else carry[1])
        dx_t, carry = cell.backward(g_h)
        assert_close(dx_t, dx[:, t, :], backend=backend)
    assert carry is None, "the first step started from zeros: no state gradient"
    for key, parameter in full.named_parameters().items():
        assert_close(cell.named_parameters()[key].grad, tinyml.to_numpy(parameter.grad),
                     backend=backend, err_msg=key)
