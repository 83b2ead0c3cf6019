r"""DotProductAttention, and the math of attention as functions of arrays, batch first.

``attention_weights`` (the masked softmax of the scores), :func:`attend` (the forward) and
:func:`attend_backward` serve this layer and MultiHeadAttention (multi_head_attention.py). The
mask convention is PyTorch's ``scaled_dot_product_attention`` with a boolean ``attn_mask``:
``True`` marks a key a query may attend to. (PyTorch's ``nn.MultiheadAttention`` uses the
opposite, True = ignore; tinyml uses one convention everywhere.)
"""

import math

from ..backend import array_namespace, device_of
from ..backend.ops import softmax
from ..core import Layer, format_shape, shape_error
from ..core.params import AnyOf, Flag, Real
from .dropout import drop_probability, dropout_multiplier


# ---------------------------------------------------------------------------- the math
def keep_mask(mask, causal, queries, keys, *, device, xp):
    """The boolean keep mask of a (..., T, S) score array, or None when everything is kept.

    `mask` (True = keep, broadcastable to the scores) and, with `causal`, the lower triangle
    ``j <= i`` (PyTorch's ``is_causal``: aligned at the top left when S != T) are combined
    with ``&``.
    """
    if not causal:
        return mask
    rows = xp.reshape(xp.arange(queries, device=device), (queries, 1))
    lower = rows >= xp.reshape(xp.arange(keys, device=device), (1, keys))
    return lower if mask is None else mask & lower


def attention_weights(scores, keep, xp):
    r"""Softmax over the last axis of `scores`, restricted to the positions `keep` marks.

    .. math::
        A_{ij} = \frac{m_{ij}\, e^{s_{ij} - c_i}}{\sum_l m_{il}\, e^{s_{il} - c_i}},
        \qquad c_i = \max_{l:\, m_{il}} s_{il}

    A masked score is lowered by a huge number before the row maximum is taken, so it never
    sets the maximum of a row that keeps something, and its exponential underflows to zero.
    A row that keeps nothing gets weights of zero (not 0/0 = NaN): its query attends to
    nothing and its output is zero. Both cost one addition over the scores more than no mask:
    the rest works on the mask's own (broadcast) shape and on one number per row.
    """
    if keep is None:  # the backend operation: the same formula, one Softmax in an ONNX export
        return softmax(scores, axis=-1, xp=xp)
    kept = xp.astype(keep, scores.dtype)
    lowered = scores + (kept - 1.0) * (float(xp.finfo(scores.dtype).max) / 4)
    exponentials = xp.exp(lowered - xp.max(lowered, axis=-1, keepdims=True))
    # a row that keeps nothing has exponentials of about 1 (all its scores lowered alike);
    # 0 / total turns them into zeros
    keeps_any = xp.max(kept, axis=-1, keepdims=True)
    return exponentials * (keeps_any / xp.sum(exponentials, axis=-1, keepdims=True))


def attend(q, k, v, *, keep, scale, drop, xp):
    r"""Scaled dot-product attention: ``(output, weights, used)``.

    .. math:: S = s\, Q K^\top, \qquad A = \mathrm{softmax}_{keep}(S), \qquad
              P = A \odot D, \qquad O = P V

    `drop` is the dropout multiplier D (zeros and 1/(1 - p)), or None for none (then P is A).
    """
    # scaling q (T x d values) costs less than scaling the scores (T x S)
    weights = attention_weights((q * scale) @ xp.matrix_transpose(k), keep, xp)
    used = weights if drop is None else weights * drop
    return used @ v, weights, used


def attend_backward(g, q, k, v, weights, used, *, drop, scale, xp):
    r"""The gradients (dQ, dK, dV) of :func:`attend` for :math:`G = \partial L/\partial O`.

    .. math::
        \partial L/\partial V = P^\top G, \qquad
        \partial L/\partial A = (G V^\top) \odot D, \qquad
        (\partial L/\partial S)_{ij} = A_{ij} \big((\partial L/\partial A)_{ij}
            - \textstyle\sum_l A_{il} (\partial L/\partial A)_{il}\big),

    .. math::
        \partial L/\partial Q = s\, (\partial L/\partial S)\, K, \qquad
        \partial L/\partial K = s\, (\partial L/\partial S)^\top Q

    (the softmax's Jacobian-vector product, row by row). A masked weight is zero, so its
    score gets no gradient, and a row that keeps nothing passes none to Q, K or V.
    """
    g_v = xp.matrix_transpose(used) @ g
    g_weights = g @ xp.matrix_transpose(v)
    if drop is not None:
        g_weights = g_weights * drop
    g_scores = weights * (g_weights - xp.sum(g_weights * weights, axis=-1, keepdims=True))
    # s multiplies the (T x d) and (S x d) products rather than the (T x S) scores
    return (g_scores @ k) * scale, (xp.matrix_transpose(g_scores) @ q) * scale, g_v


# ---------------------------------------------------------------------------- shared checks
#: True (1/sqrt(d)), False (1) or a positive float
SCALE = AnyOf(Flag(), Real(above=0.0), specific=False,
              spelled="True (1/sqrt(d)), False (no scaling) or a positive float")


def _check_floating(layer, x, what, xp):
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{layer.describe()} expects floating-point input; got {x.dtype} for "
                        f"{what}. Cast it first.")


def _check_mask(layer, mask, scores_shape, xp):
    """A boolean `mask` broadcastable to `scores_shape` (N, [heads,] T, S)."""
    if mask is None:
        return
    if not hasattr(mask, "dtype") or not xp.isdtype(mask.dtype, "bool"):
        got = mask.dtype if hasattr(mask, "dtype") else type(mask).__name__
        raise TypeError(f"{layer.describe()}: mask must be a boolean array (True = keep, as "
                        f"torch's scaled_dot_product_attention); got {got}. For a float or "
                        "0/1 mask pass mask != 0.")
    shape = tuple(mask.shape)
    if len(shape) > len(scores_shape) or any(
            extent not in (1, wanted) for extent, wanted in
            zip(reversed(shape), reversed(scores_shape), strict=False)):
        raise ValueError(f"{layer.describe()}: mask of shape {format_shape(shape)} does not "
                         f"broadcast to the scores' shape {format_shape(scores_shape)} "
                         "(batch, [heads,] queries, keys); use 1 for an axis it does not vary "
                         "along: a padding mask is (batch, 1, keys), or (batch, 1, 1, keys) "
                         "with a heads axis")


# ---------------------------------------------------------------------------- the layers
class DotProductAttention(Layer):
    r"""Scaled dot-product attention, ``softmax(q k^T / sqrt(d)) v``, without parameters.

    Parameters
    ----------
    name : str
    scale : bool or float, keyword-only
        True: scores are divided by :math:`\sqrt d` (d: the feature size of q and k); False:
        not scaled; a positive float: multiplied by it (PyTorch's ``scale=``).
    dropout : float in [0, 1), keyword-only
        The probability of dropping an attention weight while training (inverted dropout on
        the weights, as PyTorch's ``dropout_p``), drawn from the backend's random streams on
        the input's device. Off in eval mode.
    causal : bool, keyword-only
        Query i attends to keys j <= i only (PyTorch's ``is_causal``; aligned at the top left
        when the key length S differs from the query length T).

    Shape
    -----
    ``forward(q, k, v, mask=None)``: q (N, [heads,] T, d), k (N, [heads,] S, d),
    v (N, [heads,] S, e) -> output (N, [heads,] T, e); ``backward`` returns
    ``(dq, dk, dv)``. ``forward(x)`` (or ``forward(x, mask=m)``) is self-attention,
    q = k = v = x, so the layer can sit in a Net; ``backward`` then returns dx, the sum of
    the three.

    ``mask`` is a boolean array, True = keep (as the boolean ``attn_mask`` of
    ``torch.nn.functional.scaled_dot_product_attention``), broadcastable to the scores
    (N, [heads,] T, S): (T, S) for all samples, (N, 1, S) for a padding mask. With
    ``causal=True`` both apply. A query whose keys are all masked attends to nothing: its
    weights and output are zero, and so are the gradients it passes back (as PyTorch's
    ``scaled_dot_product_attention``; its ``nn.MultiheadAttention`` with
    ``need_weights=True`` gives NaN there).

    Notes
    -----
    Forward, with :math:`s = 1/\sqrt d`, :math:`M` the keep mask and :math:`D` the dropout
    multiplier (zeros and :math:`1/(1-p)`; all ones in eval mode or with ``dropout=0``):

    .. math::
        S = s\, Q K^\top, \qquad
        A_{ij} = \frac{M_{ij}\, e^{S_{ij}}}{\sum_l M_{il}\, e^{S_{il}}}, \qquad
        P = A \odot D, \qquad O = P V

    Backward, given :math:`G = \partial L/\partial O`, the softmax's Jacobian-vector product
    row by row:

    .. math::
        \partial L/\partial V = P^\top G, \qquad
        \partial L/\partial A = (G V^\top) \odot D, \qquad
        (\partial L/\partial S)_{ij} = A_{ij} \Big((\partial L/\partial A)_{ij} -
            \textstyle\sum_l A_{il} (\partial L/\partial A)_{il}\Big)

    .. math::
        \partial L/\partial Q = s\, (\partial L/\partial S)\, K, \qquad
        \partial L/\partial K = s\, (\partial L/\partial S)^\top Q

    ``attention_weights`` gives A alone (for plots).

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import DotProductAttention
    >>> attention = DotProductAttention("att", causal=True)
    >>> q = tinyml.asarray(np.ones((2, 5, 4)))
    >>> tuple(attention.forward(q, q, q).shape)
    (2, 5, 4)
    >>> dq, dk, dv = attention.backward(tinyml.asarray(np.ones((2, 5, 4))))
    """

    declared_arguments = {"scale": SCALE, "dropout": drop_probability("dropout"),
                          "causal": Flag()}

    def __init__(self, name, *, scale=True, dropout=0.0, causal=False):
        super().__init__(name, scale=scale, dropout=dropout, causal=causal)

    def output_shape(self, q_shape, k_shape=None, v_shape=None):
        if (k_shape is None) != (v_shape is None):
            raise _key_without_value(self)
        if k_shape is None:
            k_shape = v_shape = q_shape
        q_shape, k_shape, v_shape = (tuple(shape) for shape in (q_shape, k_shape, v_shape))
        if len(q_shape) not in (3, 4):
            raise shape_error(self, "(batch, [heads,] queries, features)", q_shape,
                              "q, k and v are (N, T, d) or (N, heads, T, d).")
        if len(k_shape) != len(q_shape) or len(v_shape) != len(q_shape) or \
                k_shape[:-2] != q_shape[:-2] or v_shape[:-2] != q_shape[:-2] or \
                k_shape[-1] != q_shape[-1] or v_shape[-2] != k_shape[-2]:
            raise ValueError(
                f"{self.describe()}: q {format_shape(q_shape)}, k {format_shape(k_shape)} and "
                f"v {format_shape(v_shape)} do not fit; they must be (N, [heads,] T, d), "
                "(N, [heads,] S, d) and (N, [heads,] S, e): the same leading axes, q and k "
                "the same features d, k and v the same length S")
        return (*q_shape[:-1], v_shape[-1])

    def forward(self, q, k=None, v=None, mask=None):
        if (k is None) != (v is None):
            raise _key_without_value(self)
        inputs = {"q": q} if k is None else {"q": q, "k": k, "v": v}
        given = {**inputs, **({} if mask is None else {"mask": mask})}
        xp = array_namespace(*given.values(), names=list(given), where=self.describe)
        for what, x in inputs.items():
            _check_floating(self, x, what, xp)
        output_shape = self.output_shape(*(x.shape for x in inputs.values()))
        k, v = (q, q) if k is None else (k, v)
        scores_shape = (*q.shape[:-1], k.shape[-2])
        _check_mask(self, mask, scores_shape, xp)
        scale = self._scale_for(q.shape[-1])
        keep = keep_mask(mask, self.causal, q.shape[-2], k.shape[-2], device=device_of(q), xp=xp)
        drop = None
        if self.training and self.dropout > 0.0:
            drop = dropout_multiplier(scores_shape, q, self.dropout, xp)
        output, weights, used = attend(q, k, v, keep=keep, scale=scale, drop=drop, xp=xp)
        self.save_for_backward(q, k, v, weights, used, drop, scale, len(inputs),
                               output_shape=output_shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, q, k, v, weights, used, drop, scale, count = self.saved(in_gradient)
        if not input_gradient:
            return None
        gradients = attend_backward(in_gradient, q, k, v, weights, used, drop=drop,
                                    scale=scale, xp=xp)
        return gradients if count == 3 else gradients[0] + gradients[1] + gradients[2]

    def _scale_for(self, features):
        """The factor of the scores for q and k of `features` features."""
        if self.scale is True:
            return 1.0 / math.sqrt(features)
        return 1.0 if self.scale is False else self.scale


def _key_without_value(layer):
    return TypeError(f"{layer.describe()}: forward takes a key and a value together "
                     "(forward(query, key, value)), or neither (self-attention: "
                     "forward(x)); got one of them")
