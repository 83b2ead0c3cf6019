"""Bidirectional: the state_dict keys, the config round trip with its own reverse layer, the
initial state's gradient, and the refusals of what it wraps (RNN, LSTM and GRU, concat and
sum, sequences and the last state, from zeros or given states, against the plain reference
and PyTorch's bidirectional modules, refused states and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import doctest

import numpy as np
import pytest

import tinyml
from tinyml.layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Linear, bidirectional
from tinyml.testing import assert_close

N, T, F, H = 2, 3, 3, 4
KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def make(kind, merge="concat", return_sequences=True):
    return Bidirectional("bi", KINDS[kind]("inner", F, H, return_sequences=return_sequences),
                         merge=merge)


def test_state_dict_keys_and_fresh_reverse_weights(backend):
    net = tinyml.Net([make("GRU"), Linear("fc", 2 * H, 2)])
    assert list(net.state_dict()) == [
        *(f"bi.inner.{k}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
        *(f"bi.inner_reverse.{k}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")),
        "fc.weight", "fc.bias"]
    state = {k: tinyml.to_numpy(v) for k, v in net.state_dict().items()}
    assert not np.array_equal(state["bi.inner.weight_hh"], state["bi.inner_reverse.weight_hh"])
    layer = net[0]
    assert layer.reverse_layer.hyperparameters == {**layer.forward_layer.hyperparameters,
                                                   "name": "inner_reverse"}


def test_a_config_rebuilds_both_directions(backend, tmp_path):
    net = tinyml.Net([make("LSTM", "sum", False), Linear("fc", H, 2)])
    x = tinyml.asarray(np.random.default_rng(5).standard_normal((N, T, F)))
    expected = tinyml.to_numpy(net.forward(x))
    net.save(tmp_path / "bi.npz")
    loaded = tinyml.load_net(tmp_path / "bi.npz")
    assert loaded.config() == net.config()
    assert_close(loaded.forward(x), expected, backend=backend)


def test_initial_state_gradient_is_the_pair_of_the_directions(backend):
    layer = make("GRU")
    y = layer.forward(tinyml.asarray(np.ones((N, T, F))))
    layer.backward(tinyml.asarray(np.ones(tuple(y.shape))))
    forward, reverse = layer.initial_state_gradient
    assert forward is layer.forward_layer.initial_state_gradient
    assert reverse is layer.reverse_layer.initial_state_gradient


def test_net_summary_lists_both_directions(backend):
    lines = []
    tinyml.Net([make("GRU")]).summary(print_fn=lines.append)
    table = lines[0]
    assert "bi (Bidirectional)" in table and "bi.inner (GRU)" in table
    assert "bi.inner_reverse (GRU)" in table and "(None, None, 8)" in table


def test_a_cell_cannot_be_wrapped():
    with pytest.raises(TypeError, match=r"Bidirectional 'bi' wraps an RNN, LSTM or GRU layer .*"
                                        r"got GRUCell\('cell'\)\. A cell takes one time step"):
        Bidirectional("bi", GRUCell("cell", 3, 4))


# an unknown merge: tests/test_declared_arguments.py
# an initial state that is not a pair of states: tests/layer_specs.py
def test_the_docstring_example_runs():
    failures, tried = doctest.testmod(bidirectional)
    assert tried > 0 and failures == 0
