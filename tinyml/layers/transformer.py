r"""The Transformer's pieces on (N, T, E) sequences: PositionalEncoding and the pre-norm
TransformerEncoderBlock built from LayerNorm1D, MultiHeadAttention, Linear, ReLU and Dropout."""

import math

from ..backend import device_of
from ..core import Layer, shape_error
from ..core.net import backward_through
from ..core.params import Flag, Integer
from .dropout import Dropout, drop_probability
from .elementwise import ReLU
from .linear import Linear
from .multi_head_attention import MultiHeadAttention
from .normalization import LayerNorm1D


def sinusoids(length, dim, *, dtype, device, xp):
    r"""The (length, dim) table of "Attention is all you need":
    :math:`PE_{t, 2i} = \sin(t\, \omega_i)`, :math:`PE_{t, 2i+1} = \cos(t\, \omega_i)`,
    :math:`\omega_i = 10000^{-2i/dim}` (an odd `dim` ends with a sine)."""
    pairs = (dim + 1) // 2
    frequencies = xp.exp(xp.arange(pairs, dtype=dtype, device=device) *
                         (-2.0 * math.log(10000.0) / dim))
    angles = xp.reshape(xp.arange(length, dtype=dtype, device=device), (length, 1)) * frequencies
    interleaved = xp.reshape(xp.stack([xp.sin(angles), xp.cos(angles)], axis=-1),
                             (length, 2 * pairs))
    return interleaved[:, :dim]


class PositionalEncoding(Layer):
    r"""Adds the sinusoidal position encoding of "Attention is all you need" to (N, T, dim).

    Parameters
    ----------
    name : str
    max_len : int
        The longest sequence it takes.
    dim : int
        The features per step.

    Shape
    -----
    input (N, T, dim) with T <= max_len -> output of the same shape.

    Notes
    -----
    Forward, with :math:`\omega_i = 10000^{-2i/dim}`:

    .. math::
        y_{n,t,2i} = x_{n,t,2i} + \sin(t\, \omega_i), \qquad
        y_{n,t,2i+1} = x_{n,t,2i+1} + \cos(t\, \omega_i)

    Backward: :math:`\partial L/\partial x = g`; there are no parameters.

    The table is computed in each forward (its first T rows, in the input's dtype, on its
    device), not kept as a Buffer: it is a fixed function of the positions, so a Buffer would
    put max_len * dim numbers that carry no information into every checkpoint and would have
    to follow the net between devices, while the T * dim / 2 sines and cosines cost a fraction
    of the N * T * dim addition they feed.

    Raises
    ------
    ValueError
        For input that is not (N, T, dim), or a sequence longer than max_len.
    """

    declared_arguments = {"max_len": Integer(1), "dim": Integer(1)}

    def __init__(self, name, max_len, dim):
        super().__init__(name, max_len=max_len, dim=dim)

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] != self.dim:
            raise shape_error(self, f"(batch, T, {self.dim})", input_shape,
                              "Sequences are batch first, (N, T, features).")
        if input_shape[1] is not None and input_shape[1] > self.max_len:
            raise ValueError(f"{self.describe()} encodes positions up to max_len="
                             f"{self.max_len}; got a sequence of {input_shape[1]} steps. Build "
                             f"it with max_len >= {input_shape[1]}.")
        return input_shape

    def forward(self, input):
        xp = self._input_namespace(input)
        self.output_shape(input.shape)
        table = sinusoids(input.shape[1], self.dim, dtype=input.dtype, device=device_of(input),
                          xp=xp)
        self.save_for_backward(output_shape=input.shape)
        return input + table

    def backward(self, in_gradient, *, input_gradient=True):
        self.saved(in_gradient)
        return in_gradient if input_gradient else None


class TransformerEncoderBlock(Layer):
    r"""A pre-norm Transformer encoder block on (N, T, dim): attention, then a feed-forward
    network, each inside a residual connection.

    Parameters
    ----------
    name : str
    dim : int
        E, the features per step.
    n_heads : int
        Attention heads; they must divide `dim`.
    hidden_dim : int
        The feed-forward network's width.
    dropout : float in [0, 1), keyword-only
        The probability of dropping, used where PyTorch's ``TransformerEncoderLayer`` drops:
        on the attention weights, on the attention's output, after the ReLU, and on the
        feed-forward network's output.
    causal : bool, keyword-only
        Each step attends to itself and earlier steps only.

    Shape
    -----
    ``forward(x, mask=None)``: x (N, T, dim) -> the same shape; ``mask`` as
    :class:`MultiHeadAttention`'s (boolean, True = keep, broadcastable to (N, T, T)).

    Its sub-layers, keyed ``"{name}.{sub-layer}.{parameter}"``, are named as the modules of
    ``torch.nn.TransformerEncoderLayer(dim, n_heads, hidden_dim, batch_first=True,
    norm_first=True)``: ``norm1``, ``self_attn``, ``dropout1``, ``norm2``, ``linear1``,
    ``activation``, ``dropout``, ``linear2``, ``dropout2`` (so its weights exchange with
    PyTorch's but for ``self_attn.out_proj_weight`` / ``out_proj_bias``, which PyTorch keys
    ``self_attn.out_proj.weight`` / ``.bias``).

    Notes
    -----
    Forward (pre-norm, as ``norm_first=True``), the feed-forward network applied to each step
    alone (the block runs it on the (N T, dim) rows):

    .. math::
        h = x + \mathrm{Drop}(\mathrm{MHA}(\mathrm{LN}_1(x))), \qquad
        y = h + \mathrm{Drop}\big(\mathrm{Drop}(\mathrm{ReLU}(\mathrm{LN}_2(h) W_1^\top + b_1))
        W_2^\top + b_2\big)

    ReLU, not GELU, as "Attention is all you need" and PyTorch's default. Backward, given
    :math:`g = \partial L/\partial y`, each residual passes the gradient straight through and
    adds what its branch returns (each sub-layer adds its parameters' gradients):

    .. math::
        \partial L/\partial h = g + J_{\mathrm{FFN}}^\top g, \qquad
        \partial L/\partial x = \partial L/\partial h
            + J_{\mathrm{attention}}^\top\, \partial L/\partial h

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import TransformerEncoderBlock
    >>> block = TransformerEncoderBlock("block", 8, 2, 16, causal=True)
    >>> tuple(block.forward(tinyml.asarray(np.ones((3, 5, 8)))).shape)
    (3, 5, 8)
    """

    declared_arguments = {"dim": Integer(1), "n_heads": Integer(1), "hidden_dim": Integer(1),
                          "dropout": drop_probability("dropout"), "causal": Flag()}

    def __init__(self, name, dim, n_heads, hidden_dim, *, dropout=0.0, causal=False):
        super().__init__(name)
        checked = self._checked(dim=dim, n_heads=n_heads, hidden_dim=hidden_dim,
                                dropout=dropout, causal=causal)
        dim, n_heads, hidden_dim, dropout = (checked[argument] for argument in
                                             ("dim", "n_heads", "hidden_dim", "dropout"))
        self.dim, self.n_heads, self.hidden_dim, self.causal = dim, n_heads, hidden_dim, causal
        self.norm1 = LayerNorm1D("norm1", dim)
        self.self_attn = MultiHeadAttention("self_attn", dim, n_heads, causal=causal,
                                            dropout=dropout)
        self.dropout1 = Dropout("dropout1", dropout)
        self.norm2 = LayerNorm1D("norm2", dim)
        self.linear1 = Linear("linear1", dim, hidden_dim)
        self.activation = ReLU("activation")
        self.dropout = Dropout("dropout", dropout)
        self.linear2 = Linear("linear2", hidden_dim, dim)
        self.dropout2 = Dropout("dropout2", dropout)

    def _feed_forward(self):
        return [self.norm2, self.linear1, self.activation, self.dropout, self.linear2,
                self.dropout2]

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] != self.dim:
            raise shape_error(self, f"(batch, T, {self.dim})", input_shape,
                              "Sequences are batch first, (N, T, features).")
        return input_shape

    def summary_stacks(self, input_shape):
        """[(layers, input shape)] for ``Net.summary``: the attention branch on (N, T, dim),
        then the feed-forward network on the (N T, dim) rows."""
        rows = None if input_shape is None else (None, self.dim)
        return [([self.norm1, self.self_attn, self.dropout1], input_shape),
                (self._feed_forward(), rows)]

    def forward(self, input, mask=None):
        xp = self._input_namespace(input)
        _, t, e = self.output_shape(input.shape)  # N as -1: None when traced for ONNX
        attended = self.self_attn.forward(self.norm1.forward(input), mask=mask)
        rows = xp.reshape(input + self.dropout1.forward(attended), (-1, e))
        branch = rows
        for layer in self._feed_forward():
            branch = layer.forward(branch)
        self.save_for_backward(output_shape=input.shape)
        return xp.reshape(rows + branch, (-1, t, e))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, = self.saved(in_gradient)
        n, t, e = in_gradient.shape
        rows = xp.reshape(in_gradient, (n * t, e))
        g_h = xp.reshape(rows + backward_through(self._feed_forward(), rows), (n, t, e))
        g_attended = self.self_attn.backward(self.dropout1.backward(g_h))
        g_x = self.norm1.backward(g_attended, input_gradient=input_gradient)
        return g_h + g_x if input_gradient else None
