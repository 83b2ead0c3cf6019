"""A recurrent layer's forward inside ``tinyml.no_grad()`` (the backend operation recurrence,
one ONNX node in an export) equals its training forward (the loop that keeps every step's
gates for backward), for every recurrence, from zeros and from a given state, on every
backend."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)
SEQUENCES = {"RNN-tanh": lambda: RNN("rnn", 3, 4),
             "RNN-relu": lambda: RNN("rnn", 3, 4, nonlinearity="relu"),
             "LSTM": lambda: LSTM("lstm", 3, 4), "GRU": lambda: GRU("gru", 3, 4)}
CELLS = {"RNNCell": lambda: RNNCell("cell", 3, 4, nonlinearity="relu"),
         "LSTMCell": lambda: LSTMCell("cell", 3, 4), "GRUCell": lambda: GRUCell("cell", 3, 4)}


def state_for(layer, given):
    """None, or a random state of a batch of 2 on the backend: h, or (h, c) for an LSTM."""
    if not given:
        return None
    h, c = (tinyml.asarray(RNG.standard_normal((2, 4))) for _ in range(2))
    return (h, c) if isinstance(layer, (LSTM, LSTMCell)) else h


def both_ways(forward):
    """(forward() keeping a record, forward() inside no_grad), the record consumed."""
    recorded = forward()
    with tinyml.no_grad():
        inferred = forward()
    return recorded, inferred


@pytest.mark.parametrize("kind", list(SEQUENCES))
@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_a_sequence_layer_infers_what_it_trains_on(backend, kind, given, return_sequences):
    layer = SEQUENCES[kind]()
    layer.return_sequences = return_sequences
    x = tinyml.asarray(RNG.standard_normal((2, 5, 3)))
    state = state_for(layer, given)
    recorded, inferred = both_ways(lambda: layer.forward(x, initial_state=state))
    assert layer.pending_records == 1
    assert_close(inferred, tinyml.to_numpy(recorded), backend=backend, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("given", [False, True])
def test_a_cell_infers_what_it_trains_on(backend, kind, given):
    cell = CELLS[kind]()
    x = tinyml.asarray(RNG.standard_normal((2, 3)))
    state = state_for(cell, given)
    recorded, inferred = both_ways(lambda: cell.forward(x, state))
    assert cell.pending_records == 1
    pairs = zip(recorded, inferred, strict=True) if isinstance(cell, LSTMCell) else \
        [(recorded, inferred)]
    for want, got in pairs:
        assert_close(got, tinyml.to_numpy(want), backend=backend, rtol=1e-12, atol=1e-12)


def test_a_wrong_state_is_refused_inside_no_grad_as_outside(backend):
    layer = LSTM("lstm", 3, 4)
    x = tinyml.asarray(RNG.standard_normal((2, 5, 3)))
    h = tinyml.asarray(np.zeros((3, 4)))
    with tinyml.no_grad(), pytest.raises(ValueError, match=r"initial_state\[0\] \(h\) must have "
                                                            r"shape \(batch, hidden_dim\)"):
        layer.forward(x, initial_state=(h, h))
    with tinyml.no_grad(), pytest.raises(TypeError, match=r"must be a pair \(h, c\)"):
        layer.forward(x, initial_state=h)
