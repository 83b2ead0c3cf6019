"""Independent plain-NumPy references of the recurrent layers: one sample, one step, one gate
at a time, as the textbooks (and PyTorch's documentation) write them.

Nothing here imports tinyml. Weights use PyTorch's layouts and gate order; `params` is a dict
with "weight_ih", "weight_hh", "bias_ih", "bias_hh" (host arrays), as check_layer gives a
reference. Sequences are batch-first (N, T, F).
"""

import math

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + math.exp(-a))


def _affine(weight, bias, vector, row):
    """bias[row] + sum_j weight[row, j] vector[j], written out."""
    return bias[row] + sum(weight[row, j] * vector[j] for j in range(len(vector)))


def rnn_step(x, h, p, nonlinearity="tanh"):
    """One sample: h'[k] = phi(W_ih[k] x + b_ih[k] + W_hh[k] h + b_hh[k])."""
    phi = math.tanh if nonlinearity == "tanh" else (lambda a: max(a, 0.0))
    return np.array([phi(_affine(p["weight_ih"], p["bias_ih"], x, k)
                         + _affine(p["weight_hh"], p["bias_hh"], h, k))
                     for k in range(len(h))])


def lstm_step(x, state, p):
    """One sample: gates i, f, g, o (rows k, H + k, 2H + k, 3H + k); c' = f c + i g,
    h' = o tanh(c')."""
    h, c = state
    size = len(h)
    new_h, new_c = np.zeros(size), np.zeros(size)

    def pre(row):
        return (_affine(p["weight_ih"], p["bias_ih"], x, row)
                + _affine(p["weight_hh"], p["bias_hh"], h, row))
    for k in range(size):
        i, f = sigmoid(pre(k)), sigmoid(pre(size + k))
        g, o = math.tanh(pre(2 * size + k)), sigmoid(pre(3 * size + k))
        new_c[k] = f * c[k] + i * g
        new_h[k] = o * math.tanh(new_c[k])
    return new_h, new_c


def gru_step(x, h, p):
    """One sample, PyTorch's GRU: r, z, n rows k, H + k, 2H + k;
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    size = len(h)
    new_h = np.zeros(size)
    for k in range(size):
        r = sigmoid(_affine(p["weight_ih"], p["bias_ih"], x, k)
                    + _affine(p["weight_hh"], p["bias_hh"], h, k))
        z = sigmoid(_affine(p["weight_ih"], p["bias_ih"], x, size + k)
                    + _affine(p["weight_hh"], p["bias_hh"], h, size + k))
        n = math.tanh(_affine(p["weight_ih"], p["bias_ih"], x, 2 * size + k)
                      + r * _affine(p["weight_hh"], p["bias_hh"], h, 2 * size + k))
        new_h[k] = (1 - z) * n + z * h[k]
    return new_h


STEPS = {"RNN": rnn_step, "LSTM": lstm_step, "GRU": gru_step}


def step(kind, x, state, p, **options):
    """One step of a batch: `kind`'s step on each sample (state: h, or (h, c) for the LSTM)."""
    rows = []
    for n in range(x.shape[0]):
        sample_state = (state[0][n], state[1][n]) if kind == "LSTM" else state[n]
        rows.append(STEPS[kind](x[n], sample_state, p, **options))
    if kind == "LSTM":
        return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])
    return np.stack(rows)


def zero_state(kind, n, hidden):
    h = np.zeros((n, hidden))
    return (h, h.copy()) if kind == "LSTM" else h


def sequence(kind, x, p, *, initial_state=None, return_sequences=True, **options):
    """The full layer: states of every step (N, T, H), or the last (N, H)."""
    hidden = p["weight_hh"].shape[1]
    state = zero_state(kind, x.shape[0], hidden) if initial_state is None else initial_state
    outputs = []
    for t in range(x.shape[1]):
        state = step(kind, x[:, t, :], state, p, **options)
        outputs.append(state[0] if kind == "LSTM" else state)
    return np.stack(outputs, axis=1) if return_sequences else outputs[-1]


def bidirectional(kind, x, forward_params, reverse_params, *, merge="concat",
                  return_sequences=True):
    """The forward direction on x, the reverse one on x reversed in time (its outputs put
    back in time order when a sequence), concatenated (forward first) or summed."""
    y_f = sequence(kind, x, forward_params, return_sequences=return_sequences)
    y_b = sequence(kind, x[:, ::-1, :], reverse_params, return_sequences=return_sequences)
    if return_sequences:
        y_b = y_b[:, ::-1, :]
    return np.concatenate([y_f, y_b], axis=-1) if merge == "concat" else y_f + y_b


def sub_params(params, prefix):
    """The entries of `params` under `prefix.` (a sub-layer's), without the prefix."""
    return {key[len(prefix) + 1:]: value for key, value in params.items()
            if key.startswith(prefix + ".")}
