r"""recurrence: an Elman RNN, LSTM or GRU over a whole sequence in one call, for forwards that
keep nothing for backward.

Weights in PyTorch's layouts and gate order (as the recurrent layers hold them), G gates of H
rows each: ``weight_ih`` (G H, F), ``weight_hh`` (G H, H), ``bias_ih`` and ``bias_hh``
(G H,); LSTM gates i, f, g, o; GRU gates r, z, n. With :math:`u_t = x_t W_{ih}^\top + b_{ih}`
and :math:`v_t = h_{t-1} W_{hh}^\top + b_{hh}`:

.. math::
    \text{tanh / relu:}\quad & h_t = \phi(u_t + v_t) \\
    \text{lstm:}\quad & (i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(u_t + v_t), \quad
        c_t = f c_{t-1} + i g, \quad h_t = o \tanh c_t \\
    \text{gru:}\quad & (r, z) = \sigma(u_{rz} + v_{rz}), \quad n = \tanh(u_n + r\, v_n), \quad
        h_t = (1 - z)\, n + z\, h_{t-1}

A training forward keeps every step's gates for backpropagation through time, so the layers
run their own loop (:mod:`tinyml.layers.recurrent_steps`); inside ``tinyml.no_grad()`` they
call this operation instead. The portable path is the same loop with nothing kept (one GEMM
for the input projections of all T steps, then one per step); the ndonnx native is one ONNX
``RNN`` / ``LSTM`` / ``GRU`` node, where the portable path unrolls into some 25 (RNN) to 65
(GRU) nodes per time step.
"""

from .._host import device_of
from ._registry import Operation

GATES = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}


def zero_rows(x, width, xp):
    """Zeros of shape (N, width), for input `x` of N rows: (N, F) or (N, T, F).

    Built from a column of `x` rather than from ``x.shape[0]``, which is None where the
    batch size is not known yet (a net traced for ONNX export with a dynamic batch); on
    NumPy this costs one (N, 1) array more than ``zeros((N, width))``.
    """
    column = x[:, :1] if x.ndim == 2 else x[:, 0, :1]
    return xp.zeros_like(column) + xp.zeros((width,), dtype=x.dtype, device=device_of(x))


def _check(x, weight_ih, weight_hh, bias_ih, bias_hh, state, *, kind, sequences, xp=None):
    if kind not in GATES:
        raise ValueError(f"recurrence: kind must be one of {sorted(GATES)}; got {kind!r}")
    rows = weight_hh.shape[0]
    hidden = weight_hh.shape[1]
    fits = len(x.shape) == 3 and len(weight_ih.shape) == 2 and len(weight_hh.shape) == 2 \
        and rows == GATES[kind] * hidden and tuple(weight_ih.shape) == (rows, x.shape[2]) \
        and tuple(bias_ih.shape) == (rows,) and tuple(bias_hh.shape) == (rows,)
    if not fits:
        raise ValueError(
            f"recurrence ({kind}, {GATES[kind]} gates) expects x (N, T, F), weight_ih (G H, F), "
            f"weight_hh (G H, H) and biases (G H,) with G = {GATES[kind]}; got shapes "
            f"{tuple(x.shape)}, {tuple(weight_ih.shape)}, {tuple(weight_hh.shape)}, "
            f"{tuple(bias_ih.shape)} and {tuple(bias_hh.shape)}."
        )
    pair = isinstance(state, (tuple, list))
    if state is not None and pair != (kind == "lstm"):
        raise TypeError(f"recurrence ({kind}): state must be None (zeros), "
                        f"{'a pair (h, c)' if kind == 'lstm' else 'one array h'}; got "
                        f"{'a pair' if pair else 'one array'}")


def _recurrence(x, weight_ih, weight_hh, bias_ih, bias_hh, state, *, kind, sequences, xp):
    r"""``(outputs, state)`` after running `kind` over `x` (N, T, F) from `state`.

    `state` is h (N, H), ``(h, c)`` for the LSTM, or None for zeros. `outputs` is every
    step's h, (N, T, H), when `sequences` is True, else None; the state returned is the
    last step's, in the form `state` has.
    """
    steps, features = x.shape[1], x.shape[2]
    hidden = weight_hh.shape[1]
    if state is None:
        zeros = zero_rows(x, hidden, xp)
        state = (zeros, zeros) if kind == "lstm" else zeros
    # time-major rows, so each step's slice of u is contiguous; -1: N may be unknown (ONNX)
    time_major = xp.reshape(xp.permute_dims(x, (1, 0, 2)), (-1, features))
    u = xp.reshape(time_major @ xp.matrix_transpose(weight_ih) + bias_ih,
                   (steps, -1, weight_ih.shape[0]))
    weight_hh_t = xp.matrix_transpose(weight_hh)
    step = _STEPS[kind]
    outputs = []
    for t in range(steps):
        h = state[0] if kind == "lstm" else state
        state = step(u[t, ...], h @ weight_hh_t + bias_hh, state, hidden, xp)
        outputs.append(state[0] if kind == "lstm" else state)
    return (xp.stack(outputs, axis=1) if sequences else None), state


def _sigmoid(a, xp):
    return 0.5 * xp.tanh(0.5 * a) + 0.5  # cannot overflow, as the layers' own


def _tanh_step(u, v, h, hidden, xp):
    return xp.tanh(u + v)


def _relu_step(u, v, h, hidden, xp):
    return xp.clip(u + v, min=0.0)


def _lstm_step(u, v, state, hidden, xp):
    a = u + v
    i, f = _sigmoid(a[:, :hidden], xp), _sigmoid(a[:, hidden:2 * hidden], xp)
    g, o = xp.tanh(a[:, 2 * hidden:3 * hidden]), _sigmoid(a[:, 3 * hidden:], xp)
    c = f * state[1] + i * g
    return o * xp.tanh(c), c


def _gru_step(u, v, h, hidden, xp):
    rz = _sigmoid(u[:, :2 * hidden] + v[:, :2 * hidden], xp)
    r, z = rz[:, :hidden], rz[:, hidden:]
    n = xp.tanh(u[:, 2 * hidden:] + r * v[:, 2 * hidden:])
    return n + z * (h - n)


_STEPS = {"tanh": _tanh_step, "relu": _relu_step, "lstm": _lstm_step, "gru": _gru_step}

recurrence = Operation("recurrence", _recurrence, check=_check)
