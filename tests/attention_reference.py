"""Plain-NumPy references for the attention layers, one query (one time step) at a time.

Nothing here imports tinyml: each function loops over the samples (and heads) and over the
queries, takes the scores of one query against every key it may see, and averages the values
with their softmax weights, so it shares no code with tinyml/layers/attention.py. Weights use
PyTorch's layouts; masks are boolean, True = keep.
"""

import math

import numpy as np
from normalization_reference import layer_norm


def attend_one(query, keys, values, keep, scale):
    """The output for one query (d,) against keys (S, d) and values (S, e), where keep (S,)
    says which keys it may see: the softmax-weighted mean of the kept values, or zeros when
    it may see none."""
    kept = [j for j in range(len(keys)) if keep[j]]
    if not kept:
        return np.zeros(values.shape[1])
    scores = {j: scale * sum(query[c] * keys[j, c] for c in range(len(query))) for j in kept}
    top = max(scores.values())
    weights = {j: math.exp(scores[j] - top) for j in kept}
    total = sum(weights.values())
    return sum(weights[j] / total * values[j] for j in kept)


def masked_softmax_row(scores, keep):
    """The weights (S,) of one row of scores: softmax over the kept ones, zero elsewhere (all
    zero when none is kept)."""
    kept = [j for j in range(len(scores)) if keep[j]]
    row = np.zeros(len(scores))
    if kept:
        top = max(scores[j] for j in kept)
        total = sum(math.exp(scores[j] - top) for j in kept)
        for j in kept:
            row[j] = math.exp(scores[j] - top) / total
    return row


def dot_product_attention(q, k, v, mask=None, *, causal=False, scale=None):
    """q (..., T, d), k (..., S, d), v (..., S, e) -> (..., T, e), one query at a time."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    t, s = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    keep = np.ones(q.shape[:-1] + (s,), dtype=bool)
    if mask is not None:
        keep = keep & np.broadcast_to(mask, keep.shape)
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for lead in np.ndindex(*q.shape[:-2]):
        for i in range(t):
            row_keep = [keep[lead + (i, j)] and (j <= i or not causal) for j in range(s)]
            out[lead + (i,)] = attend_one(q[lead + (i,)], k[lead], v[lead], row_keep, scale)
    return out


def multi_head_attention(query, key, value, params, n_heads, mask=None, *, causal=False,
                         prefix=""):
    """nn.MultiheadAttention (batch first) with a keep mask broadcastable to (N, T, S) or
    (N, heads, T, S): each head attends in its own slice of the projected features."""
    w, b = params[prefix + "in_proj_weight"], params[prefix + "in_proj_bias"]
    e = w.shape[1]
    q, k, v = (x @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e]
               for i, x in enumerate((query, key, value)))
    n, t, _ = q.shape
    s, size = k.shape[1], e // n_heads
    if mask is not None and np.ndim(mask) < 4:
        mask = np.asarray(mask).reshape((1,) * (3 - np.ndim(mask)) + np.shape(mask))
        mask = mask[:, None]
    keep = np.broadcast_to(True if mask is None else mask, (n, n_heads, t, s))
    heads = np.zeros((n, t, e))
    for sample in range(n):
        for head in range(n_heads):
            cols = slice(head * size, (head + 1) * size)
            heads[sample, :, cols] = dot_product_attention(
                q[sample, :, cols], k[sample, :, cols], v[sample, :, cols],
                keep[sample, head], causal=causal)
    return heads @ params[prefix + "out_proj_weight"].T + params[prefix + "out_proj_bias"]


def positional_encoding(x):
    """x + PE, PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(the same), entry by entry."""
    y = np.array(x, dtype=np.float64, copy=True)
    _, steps, dim = x.shape
    for t in range(steps):
        for c in range(dim):
            angle = t / 10000 ** ((c - c % 2) / dim)
            y[:, t, c] += math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return y


def transformer_block(x, params, n_heads, *, causal=False, mask=None):
    """Pre-norm: h = x + MHA(LN1(x)); y = h + W2 relu(W1 LN2(h) + b1) + b2 (no dropout)."""
    def norm(values, which):
        return layer_norm(values, params[which + ".weight"], params[which + ".bias"])

    normed = norm(x, "norm1")
    h = x + multi_head_attention(normed, normed, normed, params, n_heads, mask,
                                 causal=causal, prefix="self_attn.")
    hidden = np.maximum(norm(h, "norm2") @ params["linear1.weight"].T + params["linear1.bias"],
                        0.0)
    return h + hidden @ params["linear2.weight"].T + params["linear2.bias"]
