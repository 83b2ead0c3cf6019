r"""RNNCell, LSTMCell and GRUCell: one time step, for users who write their own loop over time.

``state = cell.forward(x_t, state)`` takes one step; after T of them, T calls of
``dx_t, g_state = cell.backward(g_state)`` (each consumes the latest step, last in, first out)
backpropagate through time, ADDING every step's parameter gradients. Backward always returns
the pair ``(dx, d_state)``, whether forward was given a state or not; ``d_state`` is None for a
step that started from zeros (``state=None``): pass zeros instead to get dL/d(h_0)::

    state = None                                   # zeros, as PyTorch's hx=None
    for t in range(T):
        state = cell.forward(x[:, t, :], state)
    g_state = dL_dstate                            # h's gradient, or (h's, c's) for the LSTM
    for t in reversed(range(T)):
        dx_t, g_state = cell.backward(g_state)     # g_state is now dL/d(state before step t)

The step math is :mod:`tinyml.layers.recurrent_steps`', shared with the full layers of
:mod:`tinyml.layers.recurrent`, which do all T steps in one call and are faster (one GEMM for
the input projection of every step).
"""

from ..core import grad_enabled, shape_error
from .recurrent_base import NONLINEARITY, RecurrentBase
from .recurrent_steps import input_projection


class _Cell(RecurrentBase):
    r"""The step of a cell; the subclasses name the recurrence.

    Backward, given :math:`g` = dL/d(new state), gets :math:`g_u, g_v` and dL/d(state) from the
    step's backward (the gate formulas are each subclass's), then

    .. math::
        \partial W_{ih} \mathrel{+}= g_u^\top x, \quad \partial b_{ih} \mathrel{+}= \textstyle
        \sum_{batch} g_u, \quad \partial W_{hh} \mathrel{+}= g_v^\top h, \quad
        \partial b_{hh} \mathrel{+}= \textstyle\sum_{batch} g_v, \quad
        \partial x = g_u W_{ih}
    """

    def declared_input_shape(self):
        return (None, self.input_dim)

    def output_shape(self, input_shape, state_shape=None):
        """(batch, hidden_dim), or a pair of them for the LSTM cell's (h, c)."""
        if len(input_shape) != 2 or input_shape[1] != self.input_dim:
            fix = ("A cell takes one time step; loop over time yourself, or use the full "
                   "layer, which takes (batch, time, features)." if len(input_shape) == 3 else "")
            raise shape_error(self, f"(batch, {self.input_dim})", input_shape, fix)
        h = (input_shape[0], self.hidden_dim)
        return (h, h) if self._recurrence.has_cell_state else h

    def forward(self, x, state=None):
        """The state after one step from `state` (zeros when None) on input `x`."""
        xp = self._input_namespace(x)
        output_shape = self.output_shape(tuple(x.shape))
        if not grad_enabled():  # no record to keep: a sequence of one step, in one call
            _, new_state = self._run_recurrence(
                xp.expand_dims(x, axis=1), self._checked_state(state, x, xp, "state"),
                sequences=False, xp=xp)
            return new_state
        given = state is not None
        state = self._state_or_zeros(state, x, xp, "state")
        weights = self._step_weights(xp, prescale=False)
        new_state, cache = self._recurrence.step(input_projection(x, weights), state,
                                                 weights, xp)
        self.save_for_backward(x, state, given, cache, weights, output_shape=output_shape)
        return new_state

    def backward(self, in_gradient, *, input_gradient=True):
        """``(dL/dx, dL/d(state))`` for dL/d(new state) `in_gradient` (a pair for the LSTM);
        dL/d(state) is None when forward started from zeros (state None); None with
        ``input_gradient=False``."""
        xp, x, state, given, cache, weights = self.saved(in_gradient)
        g_u, g_v, g_state = self._recurrence.step_backward(in_gradient, state, cache, weights,
                                                           xp)
        self._add_parameter_gradients(g_u, g_v, x, self._hidden(state), xp)
        if not input_gradient:
            return None
        return g_u @ self.weight_ih.data, g_state if given else None


class RNNCell(_Cell):
    r"""One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of x.
    hidden_dim : int
        Features H of the state h.
    nonlinearity : ``"tanh"`` or ``"relu"``, keyword-only

    Shape
    -----
    ``forward(x, state=None)``: x (N, F) and state h (N, H) (zeros when None) -> h' (N, H).
    ``backward(g)``: g (N, H) -> ``(dx (N, F), dh (N, H))``, dh None when the state was None.
    Parameters as ``torch.nn.RNNCell``: ``weight_ih`` (H, F), ``weight_hh`` (H, H),
    ``bias_ih`` and ``bias_hh`` (H,), all uniform in :math:`(-1/\sqrt H, 1/\sqrt H)`.

    Notes
    -----
    Forward, with :math:`\phi` the nonlinearity:

    .. math:: a = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}, \qquad h' = \phi(a)

    Backward, given :math:`g = \partial L/\partial h'`:
    :math:`\partial a = g\,(1 - h'^2)` for tanh, :math:`g\,[h' > 0]` for relu; then
    :math:`\partial W_{ih} \mathrel{+}= \partial a^\top x`,
    :math:`\partial W_{hh} \mathrel{+}= \partial a^\top h`,
    :math:`\partial b_{ih} = \partial b_{hh} \mathrel{+}= \sum_{batch} \partial a`,
    :math:`\partial x = \partial a\, W_{ih}`, :math:`\partial h = \partial a\, W_{hh}`.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import RNNCell
    >>> cell = RNNCell("cell", 3, 5)
    >>> h = cell.forward(tinyml.asarray(np.ones((2, 3))))       # from zeros
    >>> h = cell.forward(tinyml.asarray(np.ones((2, 3))), h)    # the second step
    >>> dx, dh = cell.backward(tinyml.asarray(np.ones((2, 5))))  # the second step's
    >>> dx, nothing = cell.backward(dh)                          # the first step's
    >>> tuple(dx.shape), nothing is None
    ((2, 3), True)
    """

    declared_arguments = {**_Cell.declared_arguments, "nonlinearity": NONLINEARITY}

    def __init__(self, name, input_dim, hidden_dim, *, nonlinearity="tanh"):
        self._check_name(name)  # the message names the layer, and nothing is drawn yet
        self.name = name
        self._set_declared(nonlinearity=nonlinearity)
        kind = self.nonlinearity  # the recurrence is named as the nonlinearity
        super().__init__(name, input_dim, hidden_dim, kind)


class LSTMCell(_Cell):
    r"""One step of a long short-term memory: ``(h, c) -> (h', c')``.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of x.
    hidden_dim : int
        Features H of h and of the cell state c.

    Shape
    -----
    ``forward(x, state=None)``: x (N, F) and state (h, c), each (N, H) (zeros when None) ->
    (h', c'). ``backward((g_h, g_c))`` -> ``(dx (N, F), (dh, dc))`` (None for the pair when
    the state was None); pass zeros for an output the loss does not use. Parameters as
    ``torch.nn.LSTMCell``, gates in its order i, f, g, o: ``weight_ih`` (4H, F), ``weight_hh``
    (4H, H), ``bias_ih`` and ``bias_hh`` (4H,).

    Notes
    -----
    Forward, with :math:`a = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}` split into four
    blocks of H columns:

    .. math::
        i = \sigma(a_i), \; f = \sigma(a_f), \; g = \tanh(a_g), \; o = \sigma(a_o), \qquad
        c' = f c + i g, \qquad h' = o \tanh(c')

    Backward, given :math:`g_{h'}` and :math:`g_{c'}`:

    .. math::
        \partial c' &= g_{c'} + g_{h'}\, o\, (1 - \tanh^2 c'), \\
        \partial a_i &= \partial c'\, g\, i(1 - i), \quad
        \partial a_f = \partial c'\, c\, f(1 - f), \quad
        \partial a_g = \partial c'\, i\, (1 - g^2), \quad
        \partial a_o = g_{h'} \tanh(c')\, o(1 - o), \\
        \partial c &= \partial c'\, f, \qquad \partial h = \partial a\, W_{hh}, \qquad
        \partial x = \partial a\, W_{ih},

    and the parameters as in :class:`RNNCell`, with :math:`\partial a` of all four gates.
    """

    def __init__(self, name, input_dim, hidden_dim):
        super().__init__(name, input_dim, hidden_dim, "lstm")


class GRUCell(_Cell):
    r"""One step of a gated recurrent unit: ``h -> h'``.

    Parameters
    ----------
    name : str
    input_dim : int
        Features F of x.
    hidden_dim : int
        Features H of h.

    Shape
    -----
    ``forward(x, state=None)``: x (N, F) and h (N, H) (zeros when None) -> h' (N, H).
    ``backward(g)`` -> ``(dx (N, F), dh (N, H))``, dh None when the state was None.
    Parameters as ``torch.nn.GRUCell``, gates
    in its order r, z, n: ``weight_ih`` (3H, F), ``weight_hh`` (3H, H), ``bias_ih`` and
    ``bias_hh`` (3H,).

    Notes
    -----
    Forward, with :math:`u = x W_{ih}^\top + b_{ih}` and :math:`v = h W_{hh}^\top + b_{hh}`
    split into blocks r, z, n (PyTorch's formula: the reset gate scales :math:`v_n`, bias
    included):

    .. math::
        r = \sigma(u_r + v_r), \; z = \sigma(u_z + v_z), \; n = \tanh(u_n + r\, v_n), \qquad
        h' = (1 - z)\, n + z\, h

    Backward, given :math:`g = \partial L/\partial h'`:

    .. math::
        \partial a_n &= g\,(1 - z)(1 - n^2), \quad
        \partial a_z = g\,(h - n)\, z(1 - z), \quad
        \partial a_r = \partial a_n\, v_n\, r(1 - r), \\
        \partial u &= (\partial a_r, \partial a_z, \partial a_n), \quad
        \partial v = (\partial a_r, \partial a_z, r\, \partial a_n), \quad
        \partial h = g\, z + \partial v\, W_{hh}, \quad \partial x = \partial u\, W_{ih},

    :math:`\partial W_{ih} \mathrel{+}= \partial u^\top x`, :math:`\partial b_{ih}
    \mathrel{+}= \sum \partial u`, :math:`\partial W_{hh} \mathrel{+}= \partial v^\top h`,
    :math:`\partial b_{hh} \mathrel{+}= \sum \partial v`.
    """

    def __init__(self, name, input_dim, hidden_dim):
        super().__init__(name, input_dim, hidden_dim, "gru")
