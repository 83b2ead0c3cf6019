r"""What the recurrent cells and the full recurrent layers share: their arguments and PyTorch's
parameters, the checks of an input and of a state, and the parameter gradients of a stretch
of steps (one step for a cell, all T for a full layer).

The parameters are PyTorch's, in its layouts and gate order, so weights exchange with
``torch.nn.RNN``/``LSTM``/``GRU`` and their cells: ``weight_ih`` (G H, F), ``weight_hh``
(G H, H), ``bias_ih`` and ``bias_hh`` (G H,), for G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU:
r, z, n) gates. All four start as PyTorch's do, uniform in :math:`(-1/\sqrt H, 1/\sqrt H)`.
"""

import math

from ..backend import array_namespace, get_backend
from ..backend.ops import recurrence
from ..backend.ops.recurrent import zero_rows
from ..core import Layer, Parameter, format_shape
from ..core.params import Integer, OneOf
from .recurrent_steps import RECURRENCES, step_weights

NONLINEARITIES = ("tanh", "relu")


#: the rule of the Elman RNN's nonlinearity (RNN, RNNCell)
NONLINEARITY = OneOf(*NONLINEARITIES)


class RecurrentBase(Layer):
    """Arguments, parameters and checks of one recurrence (`kind`: a key of RECURRENCES)."""

    declared_arguments = {"input_dim": Integer(1), "hidden_dim": Integer(1)}

    def __init__(self, name, input_dim, hidden_dim, kind):
        super().__init__(name, input_dim=input_dim, hidden_dim=hidden_dim)
        self._kind = kind
        self._recurrence = RECURRENCES[kind]
        rows = self._recurrence.gates * self.hidden_dim
        self.weight_ih = self._uniform_parameter((rows, self.input_dim))
        self.weight_hh = self._uniform_parameter((rows, self.hidden_dim))
        self.bias_ih = self._uniform_parameter((rows,))
        self.bias_hh = self._uniform_parameter((rows,))

    def _uniform_parameter(self, shape):
        bound = 1.0 / math.sqrt(self.hidden_dim)
        return Parameter(get_backend().uniform(shape, -bound, bound))

    # ---------------------------------------------------------------- the math shared
    def _step_weights(self, xp, *, prescale=True):
        return step_weights(self._recurrence, self.weight_ih.data, self.weight_hh.data,
                            self.bias_ih.data, self.bias_hh.data, xp, prescale=prescale)

    def _run_recurrence(self, x, state, *, sequences, xp):
        """``(outputs, last state)`` of the backend operation ``recurrence`` on sequence `x`
        (N, T, F) from `state` (None: zeros): the forward that keeps nothing for backward,
        one ONNX RNN, LSTM or GRU node in an export."""
        return recurrence(x, self.weight_ih.data, self.weight_hh.data, self.bias_ih.data,
                          self.bias_hh.data, state, kind=self._kind, sequences=sequences, xp=xp)

    def _add_parameter_gradients(self, g_u, g_v, x, h_prev, xp):
        r"""Add the gradients of M rows of steps (a batch of one step, or T steps of N):
        :math:`\partial W_{ih} \mathrel{+}= g_u^\top x`, :math:`\partial b_{ih} \mathrel{+}=
        \sum g_u`, :math:`\partial W_{hh} \mathrel{+}= g_v^\top h_{prev}`, :math:`\partial
        b_{hh} \mathrel{+}= \sum g_v`, each one GEMM or sum over all M rows."""
        sum_u = xp.sum(g_u, axis=0)
        self.weight_ih.grad += xp.matrix_transpose(g_u) @ x
        self.bias_ih.grad += sum_u
        self.weight_hh.grad += xp.matrix_transpose(g_v) @ h_prev
        self.bias_hh.grad += sum_u if g_v is g_u else xp.sum(g_v, axis=0)

    # ---------------------------------------------------------------- states
    def _state_or_zeros(self, state, x, xp, what):
        """`state` checked against input `x` (N rows), or the zero state when it is None."""
        if state is None:
            zeros = zero_rows(x, self.hidden_dim, xp)
            return (zeros, zeros) if self._recurrence.has_cell_state else zeros
        return self._checked_state(state, x, xp, what)

    def _checked_state(self, state, x, xp, what):
        """`state` checked against input `x` (N rows): an array h, or a tuple (h, c) for the
        LSTM; None stays None (zeros)."""
        if state is None:
            return None
        n = x.shape[0]
        arrays = self._state_arrays(state, what)
        array_namespace(x, *arrays, names=lambda: ["input", *_state_names(what, len(arrays))],
                        where=self.describe)
        for name, array in zip(_state_names(what, len(arrays)), arrays, strict=True):
            if tuple(array.shape) != (n, self.hidden_dim) or array.dtype != x.dtype:
                raise ValueError(
                    f"{self.describe()}: {name} must have shape (batch, hidden_dim) = "
                    f"{format_shape((n, self.hidden_dim))} and the input's dtype {x.dtype}; "
                    f"got {format_shape(tuple(array.shape))} of {array.dtype}")
        return tuple(arrays) if self._recurrence.has_cell_state else arrays[0]

    def _state_arrays(self, state, what):
        """The arrays of `state`: [h], or [h, c] for the LSTM; TypeError for anything else."""
        if self._recurrence.has_cell_state:
            if isinstance(state, (tuple, list)) and len(state) == 2 and all(
                    hasattr(each, "shape") for each in state):
                return list(state)
            raise TypeError(f"{self.describe()}: {what} must be a pair (h, c) of arrays of "
                            f"shape (batch, {self.hidden_dim}); got {_describe(state)}")
        if hasattr(state, "shape") and not isinstance(state, (tuple, list)):
            return [state]
        raise TypeError(f"{self.describe()}: {what} must be one array h of shape "
                        f"(batch, {self.hidden_dim}); got {_describe(state)}"
                        + (". Only the LSTM's state is a pair (h, c)."
                           if isinstance(state, (tuple, list)) else ""))

    def _hidden(self, state):
        """h of a state (h itself, or the first of (h, c))."""
        return state[0] if self._recurrence.has_cell_state else state


def _state_names(what, count):
    return [what] if count == 1 else [f"{what}[0] (h)", f"{what}[1] (c)"]


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if hasattr(value, "shape"):
        return f"one array of shape {tuple(value.shape)}"
    return type(value).__name__
