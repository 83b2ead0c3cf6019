r"""RNN, LSTM and GRU over whole sequences, with backpropagation through time.

Each takes a batch-first sequence x of shape (N, T, F) and runs the step of
:mod:`tinyml.layers.recurrent_steps` T times from the initial state (zeros, or the
``initial_state=`` given to forward). The work is arranged for speed:

- forward: the input projections of all T steps are one GEMM,
  :math:`u = x W_{ih}^\top + b_{ih}` over the (T N, F) rows (time-major, so each step's slice
  is contiguous; :math:`b_{hh}` and the gates' scale folded in, see
  :mod:`tinyml.layers.recurrent_steps`); each step then costs one GEMM, :math:`h W_{hh}^\top`,
  and elementwise gates.
- backward (through time): from the last step to the first, each step turns dL/d(its state)
  into :math:`g_{u,t}, g_{v,t}` and dL/d(the state before it) (one GEMM, :math:`g_v W_{hh}`);
  then every parameter gradient and dx are ONE GEMM or sum over all T N rows:

  .. math::
      \partial W_{ih} \mathrel{+}= \textstyle\sum_t g_{u,t}^\top x_t, \quad
      \partial W_{hh} \mathrel{+}= \textstyle\sum_t g_{v,t}^\top h_{t-1}, \quad
      \partial b_{ih} \mathrel{+}= \textstyle\sum_{t, batch} g_{u,t}, \quad
      \partial b_{hh} \mathrel{+}= \textstyle\sum_{t, batch} g_{v,t}, \quad
      \partial x_t = g_{u,t} W_{ih}

  (:math:`\partial W_{hh}` as one GEMM of inner dimension T N rather than T GEMMs of N: the
  same sum, in one BLAS call). The T N rows are gathered by the backend operation
  ``concat_steps`` into buffers reused from call to call (on NumPy and PyTorch): made anew,
  their pages were faulted in again in every backward, which made the GRU slower than a
  Python loop of GRUCell calls.
- inside ``tinyml.no_grad()`` (nothing kept for backward) the forward is the backend
  operation ``recurrence``: the same loop, and one ONNX ``RNN`` / ``LSTM`` / ``GRU`` node in
  an export (:mod:`tinyml.backend.ops.recurrent`).

The gradient of the loss with respect to the initial state is not returned by backward (which
returns dx, as every layer of a Net does); each backward leaves it in
``layer.initial_state_gradient``: h's gradient (N, H), or ``(dh, dc)`` for the LSTM, whether
the state was given or started at zeros. An encoder-decoder passes it on to the layer that made
that state.
"""

from ..backend.ops import concat_steps
from ..core import grad_enabled, shape_error
from ..core.params import Flag
from .recurrent_base import NONLINEARITY, RecurrentBase
from .recurrent_steps import input_projection


class _Sequence(RecurrentBase):
    r"""The loop over time shared by RNN, LSTM and GRU; the subclasses name the recurrence.

    Forward: :math:`s_0` = the initial state, :math:`s_t = \mathrm{step}(x_t, s_{t-1})` for
    t = 1..T (the step is the cell's), output :math:`(h_1, \dots, h_T)` or :math:`h_T`.
    Backward through time, given :math:`g_t = \partial L/\partial h_t` from the output
    (zero for t < T with ``return_sequences=False``): with :math:`\delta_{T+1} = 0`, for
    t = T..1, :math:`\partial L/\partial s_t = (g_t, 0) + \delta_{t+1}` and the step's backward
    gives :math:`g_{u,t}, g_{v,t}` and :math:`\delta_t = \partial L/\partial s_{t-1}`; the
    parameters and dx then follow from all of them at once (see the module).
    """

    declared_arguments = {**RecurrentBase.declared_arguments, "return_sequences": Flag()}

    def __init__(self, name, input_dim, hidden_dim, kind, return_sequences):
        super().__init__(name, input_dim, hidden_dim, kind)
        self._set_declared(return_sequences=return_sequences)
        self.initial_state_gradient = None

    def declared_input_shape(self):
        return (None, None, self.input_dim)

    def output_shape(self, input_shape):
        """(batch, time, hidden_dim), or (batch, hidden_dim) with return_sequences=False."""
        if len(input_shape) != 3 or input_shape[2] != self.input_dim:
            fix = ("Sequences are batch-first (batch, time, features): add a time axis, or "
                   "use the cell for one step." if len(input_shape) == 2 else "")
            raise shape_error(self, f"(batch, time, {self.input_dim})", input_shape, fix)
        if input_shape[1] == 0:
            raise ValueError(f"{self.describe()} needs at least one time step; got input of "
                             f"shape {tuple(input_shape)}")
        n = input_shape[0]
        return (n, input_shape[1], self.hidden_dim) if self.return_sequences else (
            n, self.hidden_dim)

    def forward(self, x, *, initial_state=None):
        """The hidden states of every step (or the last) of sequence `x`, from
        `initial_state` (zeros when None)."""
        xp = self._input_namespace(x)
        output_shape = self.output_shape(tuple(x.shape))
        if not grad_enabled():  # no record to keep: the loop without caches, in one call
            outputs, last = self._run_recurrence(
                x, self._checked_state(initial_state, x, xp, "initial_state"),
                sequences=self.return_sequences, xp=xp)
            return outputs if self.return_sequences else self._hidden(last)
        steps = x.shape[1]
        state = self._state_or_zeros(initial_state, x, xp, "initial_state")
        weights = self._step_weights(xp)
        # -1 for the batch: its size is None in a net traced for ONNX with a dynamic batch
        time_major = xp.reshape(xp.permute_dims(x, (1, 0, 2)), (-1, self.input_dim))
        u = xp.reshape(input_projection(time_major, weights),
                       (steps, -1, self._recurrence.gates * self.hidden_dim))
        states, caches = [state], []
        for t in range(steps):
            state, cache = self._recurrence.step(u[t, ...], state, weights, xp)
            states.append(state)
            caches.append(cache)
        hidden = [self._hidden(each) for each in states]
        output = xp.stack(hidden[1:], axis=1) if self.return_sequences else hidden[-1]
        self.save_for_backward(time_major, states, caches, weights, output_shape=output_shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        """dL/dx (N, T, F) for dL/d(output) `in_gradient`; None with ``input_gradient=False``.
        dL/d(initial state) goes to ``self.initial_state_gradient``."""
        xp, time_major, states, caches, weights = self.saved(in_gradient)
        steps = len(caches)
        g_us, g_vs, carry = [None] * steps, [None] * steps, None
        for t in reversed(range(steps)):
            g_state = self._state_gradient(self._output_gradient(in_gradient, t, steps), carry,
                                           xp)
            g_us[t], g_vs[t], carry = self._recurrence.step_backward(
                g_state, states[t], caches[t], weights, xp)
        self.initial_state_gradient = carry
        # (T N, G H), time-major as the forward's rows; in buffers reused from call to call
        # (concat_steps), used here only
        g_u = concat_steps(*g_us, tag="g_u")
        g_v = g_u if g_vs[0] is g_us[0] else concat_steps(*g_vs, tag="g_v")
        h_prev = concat_steps(*(self._hidden(each) for each in states[:-1]), tag="h_prev")
        self._add_parameter_gradients(g_u, g_v, time_major, h_prev, xp)
        if not input_gradient:
            return None
        n = in_gradient.shape[0]
        g_x = xp.reshape(g_u @ self.weight_ih.data, (steps, n, self.input_dim))
        return xp.permute_dims(g_x, (1, 0, 2))

    def _output_gradient(self, in_gradient, t, steps):
        """dL/dh_t from the output: its slice t, or all of it at the last step (None before
        it) with return_sequences=False."""
        if self.return_sequences:
            return in_gradient[:, t, :]
        return in_gradient if t == steps - 1 else None

    def _state_gradient(self, g_h, carry, xp):
        """dL/d(state after step t): the output's g_h plus what the later steps sent back."""
        if carry is None:  # the last step: only the output's gradient (c' gets none)
            return (g_h, xp.zeros_like(g_h)) if self._recurrence.has_cell_state else g_h
        if g_h is None:
            return carry
        if self._recurrence.has_cell_state:
            return (carry[0] + g_h, carry[1])
        return carry + g_h


class RNN(_Sequence):
    r"""An Elman RNN over a sequence: :math:`h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1}
    W_{hh}^\top + b_{hh})`, backpropagated through time.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of each step.
    hidden_dim : int
        Features H of the state.
    nonlinearity : ``"tanh"`` or ``"relu"``, keyword-only
    return_sequences : bool, keyword-only
        True (the default): every step's state, (N, T, H), as PyTorch's ``output``. False:
        the last, (N, H), as its ``h_n[-1]``.

    Shape
    -----
    ``forward(x, *, initial_state=None)``: x (N, T, F), batch first, and h_0 (N, H) (zeros
    when None) -> (N, T, H) or (N, H). Parameters as ``torch.nn.RNN(F, H, batch_first=True)``
    without the ``_l0`` suffix: ``weight_ih`` (H, F), ``weight_hh`` (H, H), ``bias_ih`` and
    ``bias_hh`` (H,), all uniform in :math:`(-1/\sqrt H, 1/\sqrt H)`.

    Notes
    -----
    Forward, each step as :class:`RNNCell`: :math:`a_t = u_t + h_{t-1} W_{hh}^\top + b_{hh}`,
    :math:`h_t = \phi(a_t)`. Backward through time, given :math:`g_t = \partial L/\partial
    h_t` from the output and :math:`\delta_{T+1} = 0`, for t = T..1:

    .. math::
        \partial a_t = (g_t + \delta_{t+1})\, \phi'(a_t), \qquad
        \delta_t = \partial L/\partial h_{t-1} = \partial a_t W_{hh},

    then :math:`\partial W_{ih} \mathrel{+}= \sum_t \partial a_t^\top x_t`,
    :math:`\partial W_{hh} \mathrel{+}= \sum_t \partial a_t^\top h_{t-1}`,
    :math:`\partial b_{ih} = \partial b_{hh} \mathrel{+}= \sum_{t, batch} \partial a_t`,
    :math:`\partial x_t = \partial a_t W_{ih}`, and ``initial_state_gradient`` is
    :math:`\delta_1`. :math:`\phi'(a) = 1 - h^2` for tanh, :math:`[h > 0]` for relu.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import RNN
    >>> rnn = RNN("rnn", 3, 5, return_sequences=False)
    >>> tuple(rnn.forward(tinyml.asarray(np.ones((2, 7, 3)))).shape)
    (2, 5)
    """

    declared_arguments = {**_Sequence.declared_arguments, "nonlinearity": NONLINEARITY}

    def __init__(self, name, input_dim, hidden_dim, *, nonlinearity="tanh",
                 return_sequences=True):
        self._check_name(name)  # the message names the layer, and nothing is drawn yet
        self.name = name
        self._set_declared(nonlinearity=nonlinearity)
        kind = self.nonlinearity  # the recurrence is named as the nonlinearity
        super().__init__(name, input_dim, hidden_dim, kind, return_sequences)


class LSTM(_Sequence):
    r"""A long short-term memory over a sequence, backpropagated through time.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of each step.
    hidden_dim : int
        Features H of h and of the cell state c.
    return_sequences : bool, keyword-only
        True (the default): every step's h, (N, T, H); False: the last, (N, H).

    Shape
    -----
    ``forward(x, *, initial_state=None)``: x (N, T, F), batch first, and (h_0, c_0), each
    (N, H) (zeros when None) -> (N, T, H) or (N, H). Parameters as
    ``torch.nn.LSTM(F, H, batch_first=True)`` without the ``_l0`` suffix, gates in its order
    i, f, g, o: ``weight_ih`` (4H, F), ``weight_hh`` (4H, H), ``bias_ih`` and ``bias_hh`` (4H,).

    Notes
    -----
    Forward, each step as :class:`LSTMCell`: :math:`a_t = u_t + h_{t-1} W_{hh}^\top + b_{hh}`,
    :math:`(i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a_t)`,
    :math:`c_t = f c_{t-1} + i g`, :math:`h_t = o \tanh c_t`.
    Backward through time, given :math:`g_t = \partial L/\partial h_t` from the output and
    :math:`\delta^h_{T+1} = \delta^c_{T+1} = 0`, for t = T..1:

    .. math::
        \partial c_t &= \delta^c_{t+1} + (g_t + \delta^h_{t+1})\, o\, (1 - \tanh^2 c_t), \\
        \partial a_t &= \big(\partial c_t\, g\, i(1-i),\; \partial c_t\, c_{t-1} f(1-f),\;
        \partial c_t\, i\, (1-g^2),\; (g_t + \delta^h_{t+1}) \tanh(c_t)\, o(1-o)\big), \\
        \delta^h_t &= \partial a_t W_{hh}, \qquad \delta^c_t = \partial c_t\, f,

    then the parameters and dx from all :math:`\partial a_t` as in :class:`RNN`;
    ``initial_state_gradient`` is :math:`(\delta^h_1, \delta^c_1)`.
    """

    def __init__(self, name, input_dim, hidden_dim, *, return_sequences=True):
        super().__init__(name, input_dim, hidden_dim, "lstm", return_sequences)


class GRU(_Sequence):
    r"""A gated recurrent unit over a sequence, backpropagated through time.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of each step.
    hidden_dim : int
        Features H of the state.
    return_sequences : bool, keyword-only
        True (the default): every step's state, (N, T, H); False: the last, (N, H).

    Shape
    -----
    ``forward(x, *, initial_state=None)``: x (N, T, F), batch first, and h_0 (N, H) (zeros
    when None) -> (N, T, H) or (N, H). Parameters as ``torch.nn.GRU(F, H, batch_first=True)``
    without the ``_l0`` suffix, gates in its order r, z, n: ``weight_ih`` (3H, F),
    ``weight_hh`` (3H, H), ``bias_ih`` and ``bias_hh`` (3H,).

    Notes
    -----
    Forward, each step as :class:`GRUCell`, with :math:`u_t = x_t W_{ih}^\top + b_{ih}` and
    :math:`v_t = h_{t-1} W_{hh}^\top + b_{hh}`: :math:`r = \sigma(u_r + v_r)`,
    :math:`z = \sigma(u_z + v_z)`, :math:`n = \tanh(u_n + r\, v_n)`,
    :math:`h_t = (1 - z)\, n + z\, h_{t-1}`.
    Backward through time, given :math:`g_t = \partial L/\partial h_t` from the output and
    :math:`\delta_{T+1} = 0`, for t = T..1, with :math:`\gamma = g_t + \delta_{t+1}`:

    .. math::
        \partial a_n &= \gamma (1 - z)(1 - n^2), \quad
        \partial a_z = \gamma (h_{t-1} - n)\, z(1 - z), \quad
        \partial a_r = \partial a_n\, v_n\, r(1 - r), \\
        \partial u_t &= (\partial a_r, \partial a_z, \partial a_n), \quad
        \partial v_t = (\partial a_r, \partial a_z, r\, \partial a_n), \quad
        \delta_t = \gamma z + \partial v_t W_{hh},

    then :math:`\partial W_{ih} \mathrel{+}= \sum_t \partial u_t^\top x_t`,
    :math:`\partial W_{hh} \mathrel{+}= \sum_t \partial v_t^\top h_{t-1}`, the biases the sums
    of :math:`\partial u_t` and :math:`\partial v_t`, :math:`\partial x_t = \partial u_t
    W_{ih}`; ``initial_state_gradient`` is :math:`\delta_1`.
    """

    def __init__(self, name, input_dim, hidden_dim, *, return_sequences=True):
        super().__init__(name, input_dim, hidden_dim, "gru", return_sequences)
