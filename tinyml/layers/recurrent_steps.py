r"""One time step of each recurrence (Elman RNN, LSTM, GRU), forward and backward, as functions.

The cells (:mod:`tinyml.layers.recurrent_cells`) take one step per call; the full layers
(:mod:`tinyml.layers.recurrent`) loop these steps over time. Both compute the input projection
with :func:`input_projection`, of shape (N, G H) for G gates (a full layer does it for all T
steps in one GEMM), and give each step its slice, so a step costs one GEMM,
:math:`h W_{hh}^\top`, plus elementwise gate math. Gates sit in PyTorch's order, each a block
of H columns: LSTM ``i, f, g, o``; GRU ``r, z, n``. What the forward computes is prepared once
per forward (:class:`StepWeights`): :math:`b_{hh}` is folded into u (except the GRU's
:math:`b_{hn}`, which r multiplies) and the gates' scale s below into both GEMMs' weights, so
u and :math:`h W_{hh}^\top` come as :math:`s\,a` and each step makes fewer elementwise passes.

Every recurrence has the same two functions:

- ``step(u, state, weights, xp) -> (new_state, cache)``: the state is ``h`` (RNN, GRU) or
  ``(h, c)`` (LSTM); `weights` is :func:`step_weights` of the layer's weights, made once
  per forward; `cache` is what the step's backward needs.
- ``step_backward(g_state, state, cache, weights, xp) -> (g_u, g_v, g_prev_state)``, given
  :math:`\partial L/\partial` (new state) (a tuple for the LSTM). ``g_u`` is
  :math:`\partial L/\partial u` for the unscaled :math:`u = x W_{ih}^\top + b_{ih}` and ``g_v``
  is :math:`\partial L/\partial v` for the hidden projection :math:`v = h W_{hh}^\top + b_{hh}`
  (the math's, whatever the forward folded); they are the same array except in the GRU, whose
  candidate gate scales :math:`v_n` by :math:`r`. The caller turns them into parameter and
  input gradients: :math:`\partial W_{ih} \mathrel{+}= g_u^\top x`,
  :math:`\partial W_{hh} \mathrel{+}= g_v^\top h`, :math:`\partial b_{ih} \mathrel{+}= \sum g_u`,
  :math:`\partial b_{hh} \mathrel{+}= \sum g_v`, :math:`\partial x = g_u W_{ih}`.

The sigmoid is taken as :math:`\sigma(a) = \tfrac12 (1 + \tanh(a/2))`: three elementwise
operations that cannot overflow for any `a`, accurate to a rounding unit of 1 (gates below
about 1e-8 lose relative precision, which nothing multiplied by a gate notices). The LSTM's
four activations then come from ONE tanh over all 4H columns,
:math:`t = \tanh(s a)`, :math:`act = s\,t + 1 - s`, with :math:`s = 1/2` on the sigmoid gates
and :math:`s = 1` on :math:`g`, and the derivative is :math:`s^2 (1 - t^2)` on every column
(:math:`\sigma' = \sigma(1 - \sigma)`, :math:`\tanh' = 1 - \tanh^2`).
"""

from typing import NamedTuple

from ..backend import device_of


class Recurrence(NamedTuple):
    """A recurrence: its number of gates G and its step functions (see the module)."""

    gates: int
    step: object
    step_backward: object
    has_cell_state: bool = False


class StepWeights(NamedTuple):
    """The weights every step of one forward uses, prepared once per forward.

    The forward's products come pre-scaled and with the hidden bias folded in where the math
    allows, so each step makes fewer elementwise passes: ``u = x @ input_weight_t +
    input_bias`` and the step's GEMM ``h @ weight_hh_t`` give the pre-activations already
    multiplied by the gates' scale s (the tanh form of the sigmoid, see the module), and
    ``b_hh`` already added to u, except the GRU's :math:`b_{hn}`, which r multiplies. s is 1/2
    or 1, a power of two: scaling a product or a sum by it is exact, so the pre-activations are
    the unscaled ones times s to the bit (folding the bias does round differently:
    :math:`b_{ih} + b_{hh}` is added once, before the sum). Backward uses the unscaled
    ``weight_hh``.

    A cell (one step per forward) gets ``post_scale`` = s instead, and ``hidden_bias`` =
    :math:`b_{hh}` added after its GEMM: the weights stay as they are and each projection is
    scaled after the GEMM, the same numbers to the bit without the (G H, H)-sized
    multiplications and the bias folding, which at a small batch cost more than they save.
    """

    weight_hh: object  # (G H, H), unscaled: backward's dh = g_v W_hh
    weight_hh_t: object  # (H, G H), columns scaled by s (a cell's: unscaled)
    input_weight_t: object  # (F, G H), columns scaled by s (a cell's: unscaled)
    input_bias: object  # (G H,): s (b_ih + b_hh), the GRU's n block without b_hn; a cell's b_ih
    bias_hh_n: object = None  # (H,), the GRU's b_hn
    scale: object = None  # (4 H,), the LSTM's s
    offset: object = None  # (4 H,), the LSTM's 1 - s
    scale2: object = None  # (4 H,), the LSTM's s^2
    post_scale: object = None  # (G H,): s, when the weights are not scaled (a cell's)
    hidden_bias: object = None  # (G H,): b_hh, when it is not folded into u (a cell's)


def _gate_scale(recurrence, hidden, dtype, device, xp):
    """s per column: 1/2 on the sigmoid gates (LSTM i, f, o; GRU r, z), 1 elsewhere; None
    for the Elman RNN."""
    gates = recurrence.gates
    if gates == 1:
        return None
    column = xp.arange(gates * hidden, device=device)
    if recurrence.has_cell_state:  # LSTM: g, the third block, is the tanh
        is_tanh = (column >= 2 * hidden) & (column < 3 * hidden)
    else:  # GRU: n, the third block, is the candidate (its own tanh, unscaled)
        is_tanh = column >= 2 * hidden
    return 0.5 + 0.5 * xp.astype(is_tanh, dtype)


def step_weights(recurrence, weight_ih, weight_hh, bias_ih, bias_hh, xp, *, prescale=True):
    """The :class:`StepWeights` of `recurrence` for these weights (PyTorch's layouts): scaled
    weights with `prescale` (a full layer's, used for T steps), ``post_scale`` without."""
    hidden = weight_hh.shape[1]
    scale = _gate_scale(recurrence, hidden, weight_hh.dtype, device_of(weight_hh), xp)
    input_t, hidden_t = xp.matrix_transpose(weight_ih), xp.matrix_transpose(weight_hh)
    extra = {}
    if recurrence.has_cell_state:
        extra.update(scale=scale, offset=1.0 - scale, scale2=scale * scale)
    if not prescale:
        return StepWeights(weight_hh, hidden_t, input_t, bias_ih, post_scale=scale,
                           hidden_bias=bias_hh, **extra)
    if recurrence.gates == 3:  # GRU: b_hn stays in v_n, inside r v_n
        input_bias = bias_ih + xp.concat([bias_hh[:2 * hidden], 0.0 * bias_hh[2 * hidden:]])
        extra["bias_hh_n"] = bias_hh[2 * hidden:]
    else:
        input_bias = bias_ih + bias_hh
    if scale is None:
        return StepWeights(weight_hh, hidden_t, input_t, input_bias, **extra)
    return StepWeights(weight_hh, hidden_t * scale, input_t * scale, input_bias * scale,
                       **extra)


def input_projection(x, weights):
    r""":math:`s\,(x W_{ih}^\top + b_{ih} + b_{hh})` for rows x (M, F): (M, G H), one GEMM
    (the GRU's n block without :math:`b_{hn}`; see :class:`StepWeights`)."""
    u = x @ weights.input_weight_t + weights.input_bias
    return u if weights.post_scale is None else u * weights.post_scale


def _hidden_projection(h, weights):
    r""":math:`s\, h W_{hh}^\top`, the step's one GEMM (its bias is in u)."""
    v = h @ weights.weight_hh_t
    if weights.hidden_bias is not None:
        v = v + weights.hidden_bias
    return v if weights.post_scale is None else v * weights.post_scale


# ---------------------------------------------------------------- Elman RNN
def _tanh_step(u, h, weights, xp):
    r""":math:`h' = \tanh(u + v)`."""
    new_h = xp.tanh(u + _hidden_projection(h, weights))
    return new_h, new_h


def _tanh_step_backward(g_h, h, new_h, weights, xp):
    r""":math:`\partial a = g_{h'} (1 - h'^2)`, :math:`\partial h = \partial a\, W_{hh}`."""
    g_a = g_h * (1.0 - new_h * new_h)
    return g_a, g_a, g_a @ weights.weight_hh


def _relu_step(u, h, weights, xp):
    r""":math:`h' = \max(0, u + v)`."""
    new_h = xp.clip(u + _hidden_projection(h, weights), min=0.0)
    return new_h, new_h


def _relu_step_backward(g_h, h, new_h, weights, xp):
    r""":math:`\partial a = g_{h'} [h' > 0]` (0 at 0, as PyTorch), :math:`\partial h = \partial a\,
    W_{hh}`."""
    g_a = g_h * xp.astype(new_h > 0.0, g_h.dtype)
    return g_a, g_a, g_a @ weights.weight_hh


# ---------------------------------------------------------------- LSTM
def _lstm_step(u, state, weights, xp):
    r"""
    .. math::
        a = u + v, \quad (i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a), \quad
        c' = f c + i g, \quad h' = o \tanh(c')
    """
    h, c = state
    hidden = h.shape[-1]
    t = xp.tanh(u + _hidden_projection(h, weights))  # u and the GEMM come scaled by s
    act = weights.scale * t + weights.offset
    i, f = act[:, :hidden], act[:, hidden:2 * hidden]
    g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
    new_c = f * c + i * g
    tanh_c = xp.tanh(new_c)
    return (o * tanh_c, new_c), (act, t, tanh_c)


def _lstm_step_backward(g_state, state, cache, weights, xp):
    r"""Given :math:`g_{h'}, g_{c'}`:

    .. math::
        \partial c' = g_{c'} + g_{h'}\, o\, (1 - \tanh^2 c'), \quad
        \partial o = g_{h'} \tanh c', \quad
        \partial i = \partial c'\, g, \quad \partial g = \partial c'\, i, \quad
        \partial f = \partial c'\, c, \quad \partial c = \partial c'\, f,

    then :math:`\partial a = (\partial i, \partial f, \partial g, \partial o)\, s^2 (1 - t^2)`
    and :math:`\partial h = \partial a\, W_{hh}`.
    """
    g_h, g_c = g_state
    _, c = state
    act, t, tanh_c = cache
    hidden = c.shape[-1]
    i, f = act[:, :hidden], act[:, hidden:2 * hidden]
    g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
    g_new_c = g_c + g_h * o * (1.0 - tanh_c * tanh_c)
    g_act = xp.concat([g_new_c * g, g_new_c * c, g_new_c * i, g_h * tanh_c], axis=1)
    g_a = g_act * weights.scale2 * (1.0 - t * t)
    return g_a, g_a, (g_a @ weights.weight_hh, g_new_c * f)


# ---------------------------------------------------------------- GRU
def _gru_step(u, h, weights, xp):
    r"""
    .. math::
        v = h W_{hh}^\top + b_{hh}, \quad
        (r, z) = \sigma(u_{rz} + v_{rz}), \quad n = \tanh(u_n + r\, v_n), \quad
        h' = (1 - z)\, n + z\, h
    """
    hidden = h.shape[-1]
    v = _hidden_projection(h, weights)  # its r and z blocks (and u's) scaled by 1/2
    rz = 0.5 * xp.tanh(u[:, :2 * hidden] + v[:, :2 * hidden]) + 0.5
    r, z = rz[:, :hidden], rz[:, hidden:]
    v_n = v[:, 2 * hidden:]
    if weights.bias_hh_n is not None:  # not in v yet (a full layer's, see StepWeights)
        v_n = v_n + weights.bias_hh_n
    n = xp.tanh(u[:, 2 * hidden:] + r * v_n)
    return n + z * (h - n), (rz, n, v_n)


def _gru_step_backward(g_h, h, cache, weights, xp):
    r"""Given :math:`g_{h'}`, with :math:`a_n = u_n + r v_n` the candidate's pre-activation:

    .. math::
        \partial a_n = g_{h'} (1 - z)(1 - n^2), \quad
        \partial a_r = \partial a_n\, v_n\, r (1 - r), \quad
        \partial a_z = g_{h'} (h - n)\, z (1 - z),

    :math:`\partial u = (\partial a_r, \partial a_z, \partial a_n)`,
    :math:`\partial v = (\partial a_r, \partial a_z, r\, \partial a_n)` and
    :math:`\partial h = g_{h'} z + \partial v\, W_{hh}`.
    """
    rz, n, v_n = cache
    hidden = h.shape[-1]
    r, z = rz[:, :hidden], rz[:, hidden:]
    g_a_n = g_h * (1.0 - z) * (1.0 - n * n)
    g_a_rz = xp.concat([g_a_n * v_n, g_h * (h - n)], axis=1) * rz * (1.0 - rz)
    g_u = xp.concat([g_a_rz, g_a_n], axis=1)
    g_v = xp.concat([g_a_rz, g_a_n * r], axis=1)
    return g_u, g_v, g_h * z + g_v @ weights.weight_hh


RECURRENCES = {
    "tanh": Recurrence(1, _tanh_step, _tanh_step_backward),
    "relu": Recurrence(1, _relu_step, _relu_step_backward),
    "lstm": Recurrence(4, _lstm_step, _lstm_step_backward, has_cell_state=True),
    "gru": Recurrence(3, _gru_step, _gru_step_backward),
}
