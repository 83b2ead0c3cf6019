r"""Bidirectional: a recurrent layer read forward and, by a copy of it, backward in time."""

from ..core import Layer
from ..core.params import OneOf
from .recurrent import _Sequence

MERGES = ("concat", "sum")


class Bidirectional(Layer):
    r"""Runs `layer` over the sequence and a copy of it over the reversed sequence, and merges
    the two, as PyTorch's ``bidirectional=True``.

    Parameters
    ----------
    name : str
    layer : RNN, LSTM or GRU
        The forward direction; it becomes a sub-layer. The reverse direction is a new layer of
        the same class and arguments, named ``layer.name + "_reverse"``, with its own freshly
        drawn parameters.
    merge : ``"concat"`` or ``"sum"``, keyword-only
        ``"concat"`` joins the features, the forward direction's first (PyTorch's order);
        ``"sum"`` adds them.

    Shape
    -----
    ``forward(x, *, initial_state=None)``: x (N, T, F) -> (N, T, 2H) with ``"concat"``
    ((N, T, H) with ``"sum"``); with the wrapped layer's ``return_sequences=False``, (N, 2H)
    (or (N, H)): the forward direction's state after t = T and the reverse direction's after
    reading t = 1, which is PyTorch's ``torch.cat([h_n[0], h_n[1]], 1)``. `initial_state` is
    None (zeros) or a pair, one state per direction, each as the wrapped layer takes it.

    The state_dict keys are the two layers' own: for ``Bidirectional("bi", LSTM("lstm", F,
    H))`` in a Net, ``bi.lstm.weight_ih`` ... ``bi.lstm.bias_hh`` (PyTorch's ``weight_ih_l0``
    ...) and ``bi.lstm_reverse.weight_ih`` ... (PyTorch's ``weight_ih_l0_reverse`` ...).

    Notes
    -----
    Forward, with :math:`R` the reversal of the time axis, :math:`f` the layer and :math:`b`
    its copy: :math:`y = [f(x), R\,b(Rx)]` along the features (or the sum). With
    ``return_sequences=False`` nothing is reversed back: :math:`b(Rx)` is one state.

    Backward, given :math:`g = \partial L/\partial y` split as :math:`[g_f, g_b]` (for the sum,
    both are :math:`g`): each direction's backward adds its parameters' gradients, and

    .. math:: \partial L/\partial x = J_f^\top g_f + R\, J_b^\top (R\, g_b)

    (:math:`R g_b` only where the output is a sequence). ``initial_state_gradient`` is then the
    pair of the two directions'.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import GRU, Bidirectional
    >>> bi = Bidirectional("bi", GRU("gru", 3, 4))
    >>> tuple(bi.forward(tinyml.asarray(np.ones((2, 5, 3)))).shape)
    (2, 5, 8)
    >>> list(tinyml.Net([bi]).state_dict())[4]
    'bi.gru_reverse.weight_ih'
    """

    declared_arguments = {"merge": OneOf(*MERGES)}

    def __init__(self, name, layer, *, merge="concat"):
        super().__init__(name)
        if not isinstance(layer, _Sequence):
            raise TypeError(f"{self.describe()} wraps an RNN, LSTM or GRU layer (a full "
                            f"recurrent layer); got {_describe(layer)}. A cell takes one time "
                            "step; wrap the full layer (RNN, LSTM or GRU) instead.")
        self._set_declared(merge=merge)
        self.forward_layer = layer
        arguments = {**layer._config_arguments(), "name": layer.name + "_reverse"}
        self.reverse_layer = type(layer)(**arguments)
        self.initial_state_gradient = None

    def declared_input_shape(self):
        return self.forward_layer.declared_input_shape()

    def output_shape(self, input_shape):
        shape = self.forward_layer.output_shape(input_shape)
        return (*shape[:-1], 2 * shape[-1]) if self.merge == "concat" else shape

    def summary_stacks(self, input_shape):
        """The two directions, for ``Net.summary``'s rows."""
        return [([self.forward_layer], input_shape), ([self.reverse_layer], input_shape)]

    def forward(self, x, *, initial_state=None):
        """Both directions' outputs of sequence `x`, merged."""
        xp = self._input_namespace(x)
        output_shape = self.output_shape(tuple(x.shape))
        forward_state, reverse_state = self._split_state(initial_state)
        y_f = self.forward_layer.forward(x, initial_state=forward_state)
        y_b = self.reverse_layer.forward(xp.flip(x, axis=1), initial_state=reverse_state)
        if self._sequences:
            y_b = xp.flip(y_b, axis=1)
        self.save_for_backward(output_shape=output_shape)
        return xp.concat([y_f, y_b], axis=-1) if self.merge == "concat" else y_f + y_b

    def backward(self, in_gradient, *, input_gradient=True):
        """dL/dx for dL/d(output) `in_gradient` (None with ``input_gradient=False``); both
        directions add their parameter gradients."""
        xp, = self.saved(in_gradient)
        g_f, g_b = in_gradient, in_gradient
        if self.merge == "concat":
            hidden = self.forward_layer.hidden_dim
            g_f, g_b = in_gradient[..., :hidden], in_gradient[..., hidden:]
        if self._sequences:
            g_b = xp.flip(g_b, axis=1)
        dx_f = self.forward_layer.backward(g_f, input_gradient=input_gradient)
        dx_b = self.reverse_layer.backward(g_b, input_gradient=input_gradient)
        self.initial_state_gradient = (self.forward_layer.initial_state_gradient,
                                       self.reverse_layer.initial_state_gradient)
        return dx_f + xp.flip(dx_b, axis=1) if input_gradient else None

    @property
    def _sequences(self):
        return self.forward_layer.return_sequences

    def _split_state(self, initial_state):
        if initial_state is None:
            return None, None
        if not isinstance(initial_state, (tuple, list)) or len(initial_state) != 2:
            raise TypeError(f"{self.describe()}: initial_state must be None or a pair (the "
                            "forward direction's state, the reverse direction's); got "
                            f"{_describe(initial_state)}")
        return initial_state


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return repr(value) if isinstance(value, Layer) else type(value).__name__
