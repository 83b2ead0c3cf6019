"""MultiHeadAttention: PyTorch's nn.MultiheadAttention (batch first), written out by hand."""

from ..backend import array_namespace, device_of
from ..backend.ops import linear
from ..core import Layer, format_shape, shape_error
from ..core.params import Flag, Integer
from .attention import (
    _check_floating,
    _check_mask,
    _key_without_value,
    attend,
    attend_backward,
    keep_mask,
)
from .dropout import drop_probability, dropout_multiplier


class MultiHeadAttention(Layer):
    r"""Multi-head attention with PyTorch's parameters: self-attention as a layer of a Net,
    or cross-attention with ``forward(query, key, value, mask=None)``.

    Parameters
    ----------
    name : str
    embed_dim : int
        E, the features of query, key and value (and of the output).
    n_heads : int
        h; it must divide E. Each head attends in its own E / h features.
    causal : bool, keyword-only
        Query i attends to keys j <= i only (a decoder's mask).
    dropout : float in [0, 1), keyword-only
        Dropout on the attention weights while training, as PyTorch's ``dropout``.

    Shape
    -----
    ``forward(x)``: x (N, T, E) -> (N, T, E), self-attention; ``backward`` returns dx.
    ``forward(query, key, value, mask=None)``: query (N, T, E), key and value (N, S, E) ->
    (N, T, E); ``backward`` returns ``(dquery, dkey, dvalue)``. ``forward(x, mask=m)`` is
    self-attention with a mask, ``backward`` returns dx. ``mask`` is boolean, True = keep
    (the opposite of ``nn.MultiheadAttention``'s ``attn_mask``, the same as
    ``scaled_dot_product_attention``'s), broadcastable to (N, T, S) for every head alike
    (a padding mask is (N, 1, S)), or given per head as (N, h, T, S). A query that may see
    no key gets a zero attention output, so its output is ``out_proj_bias`` (as PyTorch's with
    ``need_weights=False``; with its default ``need_weights=True`` it gives NaN there).

    Parameters are as ``torch.nn.MultiheadAttention(E, h, batch_first=True)``'s, so weights
    exchange: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) stack the query, key and
    value projections in that order; ``out_proj_weight`` (E, E) and ``out_proj_bias`` (E,)
    are PyTorch's ``out_proj.weight`` and ``out_proj.bias``. Weights start Glorot-uniform
    (PyTorch's in_proj init), biases at zero.

    Notes
    -----
    Forward, with :math:`W_q, W_k, W_v` the three (E, E) blocks of ``in_proj_weight`` (and
    :math:`b_q, b_k, b_v` of the bias), and each projection split into h heads of E/h
    features:

    .. math::
        Q = x_q W_q^\top + b_q, \quad K = x_k W_k^\top + b_k, \quad V = x_v W_v^\top + b_v,
        \qquad H_i = \mathrm{attention}(Q_i, K_i, V_i),
        \qquad y = [H_1, \ldots, H_h]\, W_o^\top + b_o

    with ``attention`` :class:`~tinyml.layers.DotProductAttention`'s (scaled by
    :math:`1/\sqrt{E/h}`). Backward, given :math:`g = \partial L/\partial y`, with sums over
    batch and time:

    .. math::
        \partial L/\partial W_o \mathrel{+}= \textstyle\sum g^\top H, \quad
        \partial L/\partial b_o \mathrel{+}= \textstyle\sum g, \quad
        \partial L/\partial H = g W_o,

    then attention's backward per head gives :math:`\partial L/\partial Q, K, V` and, for
    each projection P of input :math:`x_P`:

    .. math::
        \partial L/\partial W_P \mathrel{+}= \textstyle\sum (\partial L/\partial P)^\top x_P,
        \quad \partial L/\partial b_P \mathrel{+}= \textstyle\sum \partial L/\partial P,
        \quad \partial L/\partial x_P = (\partial L/\partial P)\, W_P

    In self-attention the three inputs are one x, whose gradient is the sum of the three.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import MultiHeadAttention
    >>> mha = MultiHeadAttention("mha", 8, 2)
    >>> x = tinyml.asarray(np.ones((3, 5, 8)))
    >>> tuple(mha.forward(x).shape), tuple(mha.backward(x).shape)
    ((3, 5, 8), (3, 5, 8))
    >>> memory = tinyml.asarray(np.ones((3, 7, 8)))
    >>> tuple(mha.forward(x, memory, memory).shape)
    (3, 5, 8)
    """

    declared_arguments = {"embed_dim": Integer(1), "n_heads": Integer(1), "causal": Flag(),
                          "dropout": drop_probability("dropout")}

    def __init__(self, name, embed_dim, n_heads, *, causal=False, dropout=0.0):
        super().__init__(name, embed_dim=embed_dim, n_heads=n_heads, causal=causal,
                         dropout=dropout)
        if self.embed_dim % self.n_heads:
            raise ValueError(f"{self.describe()}: embed_dim {self.embed_dim} is not divisible "
                             f"by n_heads {self.n_heads}; each head takes embed_dim / n_heads "
                             "features. Choose n_heads among the divisors of embed_dim.")
        e = self.embed_dim
        self.in_proj_weight = self._new_parameter((3 * e, e), e, 3 * e, "glorot_uniform")
        self.in_proj_bias = self._zeros_parameter((3 * e,))
        self.out_proj_weight = self._new_parameter((e, e), e, e, "glorot_uniform")
        self.out_proj_bias = self._zeros_parameter((e,))

    def output_shape(self, query_shape, key_shape=None, value_shape=None):
        query_shape = tuple(query_shape)
        e = self.embed_dim
        if len(query_shape) != 3 or query_shape[-1] != e:
            raise shape_error(self, f"(batch, T, {e})", query_shape,
                              "Sequences are batch first, (N, T, features).")
        if (key_shape is None) != (value_shape is None):
            raise _key_without_value(self)
        if key_shape is not None:
            key_shape, value_shape = tuple(key_shape), tuple(value_shape)
            if len(key_shape) != 3 or key_shape != value_shape or key_shape[-1] != e or \
                    key_shape[0] != query_shape[0]:
                raise ValueError(
                    f"{self.describe()}: key {format_shape(key_shape)} and value "
                    f"{format_shape(value_shape)} must both be (N, S, {e}) with the "
                    f"query's batch N = {query_shape[0]}; the query is "
                    f"{format_shape(query_shape)}")
        return query_shape

    # ---------------------------------------------------------------- forward
    def forward(self, query, key=None, value=None, mask=None):
        if (key is None) != (value is None):
            raise _key_without_value(self)
        own = key is None
        inputs = (query,) if own else (query, key, value)
        xp = self._namespace_of(query=query, key=key, value=value, mask=mask)
        for what, x in zip(("query", "key", "value"), inputs, strict=False):
            _check_floating(self, x, what, xp)
        output_shape = self.output_shape(*(x.shape for x in inputs))
        n, t, e = query.shape
        s = t if own else key.shape[1]
        scores_shape = (n, self.n_heads, t, s)
        mask = self._per_head(mask, (n, t, s), scores_shape, xp)
        q, k, v = self._project(inputs, xp)
        heads = [self._split(each, xp) for each in (q, k, v)]
        keep = keep_mask(mask, self.causal, t, s, device=device_of(query), xp=xp)
        drop = None
        if self.training and self.dropout > 0.0:
            drop = dropout_multiplier(scores_shape, query, self.dropout, xp)
        scale = (e // self.n_heads) ** -0.5
        attended, weights, used = attend(*heads, keep=keep, scale=scale, drop=drop, xp=xp)
        merged = self._merge(attended, t, xp)
        self.save_for_backward(inputs, heads, weights, used, drop, merged, scale,
                               output_shape=output_shape)
        return linear(merged, self.out_proj_weight.data, self.out_proj_bias.data, xp=xp)

    def _namespace_of(self, **arrays):
        """The namespace of the given arrays and the parameters; refuses a mix of backends."""
        arrays.update((name, getattr(self, name).data) for name in (
            "in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias"))
        given = {name: value for name, value in arrays.items() if value is not None}
        return array_namespace(*given.values(), names=list(given), where=self.describe)

    def _project(self, inputs, xp):
        """(Q, K, V), each (N, length, E): one matmul for self-attention, three for cross."""
        e, weight, bias = self.embed_dim, self.in_proj_weight.data, self.in_proj_bias.data
        if len(inputs) == 1:
            qkv = linear(inputs[0], weight, bias, xp=xp)
            return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
        return tuple(linear(x, weight[i * e:(i + 1) * e, :], bias[i * e:(i + 1) * e], xp=xp)
                     for i, x in enumerate(inputs))

    def _split(self, x, xp):
        """(N, L, E) -> (N, h, L, E/h)."""
        _, length, e = x.shape  # N as -1: None in a net traced for ONNX with a dynamic batch
        heads = xp.reshape(x, (-1, length, self.n_heads, e // self.n_heads))
        return xp.permute_dims(heads, (0, 2, 1, 3))

    def _merge(self, x, length, xp):
        """(N, h, L, E/h) -> (N, L, E), the heads side by side. `length` is L, given rather
        than read from `x`: a matmul on ndonnx arrays (an ONNX export) leaves x's shape
        unknown, and only one extent of a reshape may be -1."""
        return xp.reshape(xp.permute_dims(x, (0, 2, 1, 3)), (-1, length, self.embed_dim))

    def _per_head(self, mask, shared_shape, scores_shape, xp):
        """A mask for (N, h, T, S): one of rank 4 as given; one of rank <= 3, the same for
        every head, gets a heads axis of 1 after its batch axis."""
        if mask is None:
            return None
        if len(mask.shape) == 4:
            _check_mask(self, mask, scores_shape, xp)
            return mask
        _check_mask(self, mask, shared_shape, xp)
        padded = (1,) * (3 - len(mask.shape)) + tuple(mask.shape)
        return xp.reshape(mask, (padded[0], 1, *padded[1:]))

    # ---------------------------------------------------------------- backward
    def backward(self, in_gradient, *, input_gradient=True):
        xp, inputs, heads, weights, used, drop, merged, scale = self.saved(in_gradient)
        e = self.embed_dim
        self.out_proj_weight.grad += _summed_outer(in_gradient, merged, xp)
        self.out_proj_bias.grad += xp.sum(in_gradient, axis=(0, 1))
        g_heads = attend_backward(self._split(in_gradient @ self.out_proj_weight.data, xp),
                                  *heads, weights, used, drop=drop, scale=scale, xp=xp)
        g_q, g_k, g_v = (self._merge(each, each.shape[2], xp) for each in g_heads)
        weight = self.in_proj_weight.data
        if len(inputs) == 1:
            g_qkv = xp.concat([g_q, g_k, g_v], axis=-1)
            self.in_proj_weight.grad += _summed_outer(g_qkv, inputs[0], xp)
            self.in_proj_bias.grad += xp.sum(g_qkv, axis=(0, 1))
            return g_qkv @ weight if input_gradient else None
        gradients = (g_q, g_k, g_v)
        self.in_proj_weight.grad += xp.concat(
            [_summed_outer(g, x, xp) for g, x in zip(gradients, inputs, strict=True)], axis=0)
        self.in_proj_bias.grad += xp.concat([xp.sum(g, axis=(0, 1)) for g in gradients])
        if not input_gradient:
            return None
        return tuple(g @ weight[i * e:(i + 1) * e, :] for i, g in enumerate(gradients))


def _summed_outer(g, x, xp):
    """sum over batch and time of g_t^T x_t: (N, L, A) and (N, L, B) -> (A, B)."""
    rows = g.shape[0] * g.shape[1]
    return xp.matrix_transpose(xp.reshape(g, (rows, g.shape[2]))) @ xp.reshape(
        x, (rows, x.shape[2]))

