"""Bidirectional: check_layer against the plain reference (concat and sum, sequences and the
last state), PyTorch's bidirectional RNN/LSTM/GRU (output, h_n, every gradient), the
state_dict keys, the config round trip with its own reverse layer, and the refusals."""

import doctest

import numpy as np
import pytest
import recurrent_reference as ref

import tinyml
from tinyml.layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Linear, bidirectional
from tinyml.testing import Inputs, assert_close, check_layer

N, T, F, H = 2, 3, 3, 4
KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def make(kind, merge="concat", return_sequences=True):
    return Bidirectional("bi", KINDS[kind]("inner", F, H, return_sequences=return_sequences),
                         merge=merge)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("merge", ["concat", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_check_layer(backend, kind, merge, return_sequences):
    x = np.random.default_rng(0).standard_normal((N, T, F))
    check_layer(make(kind, merge, return_sequences), x, mode="random",
                reference=lambda x, p: ref.bidirectional(
                    kind, x, ref.sub_params(p, "inner"), ref.sub_params(p, "inner_reverse"),
                    merge=merge, return_sequences=return_sequences))


def test_check_layer_from_given_states(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, F))
    states = [(rng.standard_normal((N, H)), rng.standard_normal((N, H))) for _ in range(2)]

    def reference(x, p):
        forward = ref.sequence("LSTM", x, ref.sub_params(p, "inner"), initial_state=states[0])
        reverse = ref.sequence("LSTM", x[:, ::-1], ref.sub_params(p, "inner_reverse"),
                               initial_state=states[1])[:, ::-1]
        return np.concatenate([forward, reverse], axis=-1)
    on_backend = tuple(tuple(map(tinyml.asarray, state)) for state in states)
    check_layer(make("LSTM"), Inputs(x, initial_state=on_backend), mode="random",
                reference=reference)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_matches_torch_bidirectional(backend, kind, return_sequences):
    """Our output is torch's output (sequences) or cat(h_n[0], h_n[1]) (the last states); dx
    and all eight parameter gradients match, weights copied to *_l0 and *_l0_reverse."""
    torch = pytest.importorskip("torch")
    layer = make(kind, return_sequences=return_sequences)
    torch_layer = getattr(torch.nn, kind)(F, H, batch_first=True, bidirectional=True).double()
    for direction, suffix in ((layer.forward_layer, "_l0"), (layer.reverse_layer, "_l0_reverse")):
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(torch_layer, key + suffix).data = torch.tensor(
                tinyml.to_numpy(getattr(direction, key).data))
    x = np.random.default_rng(3).standard_normal((3, 5, F))
    y = layer.forward(tinyml.asarray(x))
    g = np.random.default_rng(4).standard_normal(tuple(y.shape))
    dx = layer.backward(tinyml.asarray(g))

    xt = torch.tensor(x, requires_grad=True)
    out_t, h_n = torch_layer(xt)
    h_n = h_n[0] if kind == "LSTM" else h_n
    expected = out_t if return_sequences else torch.cat([h_n[0], h_n[1]], dim=1)
    expected.backward(torch.tensor(g))
    assert_close(y, expected.detach().numpy(), backend=backend, err_msg="output")
    assert_close(dx, xt.grad.numpy(), backend=backend, err_msg="dx")
    for direction, suffix in ((layer.forward_layer, "_l0"), (layer.reverse_layer, "_l0_reverse")):
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            assert_close(getattr(direction, key).grad,
                         getattr(torch_layer, key + suffix).grad.numpy(), backend=backend,
                         err_msg=f"{direction.name}.{key}")


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


def test_an_unknown_merge_is_refused():
    with pytest.raises(ValueError, match=r"Bidirectional 'bi': merge must be 'concat' or 'sum'; "
                                         r"got 'mean'"):
        Bidirectional("bi", GRU("gru", 3, 4), merge="mean")


def test_initial_state_must_be_a_pair(backend):
    with pytest.raises(TypeError, match=r"Bidirectional 'bi': initial_state must be None or a "
                                        r"pair"):
        make("GRU").forward(tinyml.asarray(np.ones((N, T, F))),
                            initial_state=tinyml.asarray(np.ones((N, H))))


def test_the_docstring_example_runs():
    failures, tried = doctest.testmod(bidirectional)
    assert tried > 0 and failures == 0
