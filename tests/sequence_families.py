"""Builders of layer specifications (tests/layer_specs.py) for the sequence layers: recurrent
layers and cells, embeddings, attention, transformer blocks and bidirectional wrappers; each
returns a Case with a loop reference and PyTorch's module or function as its twin."""

import attention_reference
import numpy as np
import recurrent_reference
from layer_case import Case, alike, random_parameters

from tinyml import layers
from tinyml.testing import Inputs


def recurrent(kind, cell=False, return_sequences=True, configs=None, given_state=False,
              **options):
    """An RNN, LSTM or GRU (or its cell: one step from a given state) from 3 to 4 features, its
    loop reference and torch.nn's module of the same name with the layer's weights; a full
    layer starts from zeros, or from a given initial state."""
    state = ((2, 4), (2, 4)) if kind == "LSTM" else (2, 4)
    cls = getattr(layers, kind + "Cell" if cell else kind)
    make = (alike(lambda: cls("layer", 3, 4, **options)) if cell else
            alike(lambda: cls("layer", 3, 4, return_sequences=return_sequences, **options)))
    start = host_state(kind) if given_state else None
    reference = ((lambda x, p: recurrent_reference.step(kind, *x, p, **options)) if cell else
                 (lambda x, p: recurrent_reference.sequence(
                     kind, x, p, initial_state=start, return_sequences=return_sequences,
                     **options)))

    def twin(torch, p, x, *state, initial_state=None):
        module = getattr(torch.nn, kind + "Cell" if cell else kind)(
            3, 4, **options, **({} if cell else {"batch_first": True})).double()
        suffix = "" if cell else "_l0"
        weights = {key + suffix: value for key, value in p.items()}
        if cell:
            return torch.func.functional_call(module, weights, (x, *state))
        if initial_state is not None:  # torch's states have a leading layers axis
            state = (tuple(each[None] for each in initial_state) if kind == "LSTM"
                     else initial_state[None],)
        out, last = torch.func.functional_call(module, weights, (x, *state))
        return out if return_sequences else (last[0] if kind == "LSTM" else last)[0]
    sample = (lambda batch: Inputs(np.random.default_rng(0).standard_normal((2, 3, 3)),
                                   initial_state=start)) if given_state else None
    return Case(make, Inputs((2, 3), state) if cell else (2, 3, 3), reference, torch=twin,
                configs=configs, sample=sample, bad_inputs=state_refusals(kind, cell),
                modes=("random",) if given_state else ("full", "random"),
                bad_shapes={(2, 5, 3): rf"{kind}Cell 'layer' expects input of shape "
                                       r"\(batch, 3\); got \(2, 5, 3\)\. A cell takes one time "
                                       r"step"} if cell else {
                    (2, 3): rf"{kind} 'layer' expects input of shape \(batch, time, 3\); got "
                            r"\(2, 3\)\. Sequences are batch-first",
                    (2, 4, 5): r"expects input of shape \(batch, time, 3\); got \(2, 4, 5\)",
                    (2, 0, 3): rf"{kind} 'layer' needs at least one time step"})


def cell_from_zeros(kind, **options):
    """A cell of `kind` stepping from state None, the zero state, against the reference from
    zeros and torch.nn's cell with hx=None."""
    return recurrent(kind, cell=True, **options)._replace(
        sample=lambda batch: Inputs(np.random.default_rng(0).standard_normal((2, 3)), None),
        reference=lambda x, p: recurrent_reference.step(
            kind, x[0], recurrent_reference.zero_state(kind, 2, 4), p, **options))


def host_state(kind, seed=5):
    """A standard-normal state (h, or the LSTM's (h, c)) of 2 samples of 4 features."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((2, 4))
    return (h, rng.standard_normal((2, 4))) if kind == "LSTM" else h


def state_refusals(kind, cell):
    """{id: (inputs, error, regex)}: initial states (a cell's state) a layer of `kind` refuses."""
    x = np.ones((2, 3) if cell else (2, 3, 3))
    owner, name = (f"{kind}Cell 'layer'", "state") if cell else (f"{kind} 'layer'",
                                                                  "initial_state")

    def given(state):
        return Inputs(x, state) if cell else Inputs(x, initial_state=state)
    h, wide = np.ones((2, 4)), np.ones((2, 5))
    if kind == "LSTM":
        pair = rf"{owner}: {name} must be a pair \(h, c\) of arrays of shape \(batch, 4\); got "
        return {"one-array": (given(h), TypeError, pair + r"one array of shape \(2, 4\)"),
                "nested-lists": (given(h.tolist()), TypeError, pair + "a list of 2"),
                "c-of-another-batch": (given((h, np.ones((3, 4)))), ValueError,
                                       rf"{owner}: {name}\[1\] \(c\) must have shape "
                                       r"\(batch, hidden_dim\) = \(2, 4\)")}
    one = rf"{owner}: {name} must be one array h of shape \(batch, 4\); got "
    return {"a-pair": (given((h, h)), TypeError, one + r"a tuple of 2\. Only the LSTM's state "
                                                       r"is a pair"),
            "nested-lists": (given(h.tolist()), TypeError, one),
            "wide": (given(wide), ValueError, rf"{owner}: {name} must have shape "
                                              r"\(batch, hidden_dim\) = \(2, 4\) and the "
                                              r"input's dtype .*float64; got \(2, 5\)"),
            "float32": (given(h.astype(np.float32)), ValueError,
                        r"and the input's dtype .*float64; got \(2, 4\) of .*float32")}


# Repeats inside a row and across rows, and one index (5) never used: its row gets no gradient.
TOKEN_IDS = np.array([[1, 4, 4, 0, 6], [4, 1, 2, 2, 2], [6, 0, 0, 3, 4]])


def embedding(pool):
    """An Embedding of 7 words in 3 dimensions, `pool`ed over time or not, on TOKEN_IDS, with
    torch.nn.functional's embedding or embedding_bag as its twin."""
    def twin(torch, p, x):
        if pool is None:
            return torch.nn.functional.embedding(x, p["weight"])
        return torch.nn.functional.embedding_bag(x, p["weight"], mode=pool)
    return Case(lambda: layers.Embedding("layer", 7, 3, pool=pool), TOKEN_IDS.shape,
                lambda x, p: (p["weight"][x] if pool is None else
                              getattr(np, pool)(p["weight"][x], axis=1)),
                takes_indices=True, torch=twin, setup=random_parameters,
                sample=lambda batch: TOKEN_IDS[:batch])


MASK_RNG = np.random.default_rng(0)
MASKS = {  # broadcastable keep masks (True = keep) for scores (2, [3,] 3, 4)
    "per-query-and-key": MASK_RNG.random((3, 4)) > 0.3,
    "padding": np.array([[[True, True, False, False]], [[True, True, True, False]]]),
    "full": MASK_RNG.random((2, 3, 4)) > 0.4,
}


def attention(lead=(2,), keep=None, causal=False, scale=True, lengths=(3, 4, 3, 2)):
    """A DotProductAttention case: q (*lead, T, d), k (*lead, S, d), v (*lead, S, e) for
    lengths (T, S, d, e), an optional keep mask, its loop reference and PyTorch's
    scaled_dot_product_attention."""
    t, s, d, e = lengths
    factor = {True: None, False: 1.0}.get(scale, scale)

    def draw(batch):
        rng = np.random.default_rng(0)
        q, k, v = (rng.standard_normal((*lead, *shape)) for shape in ((t, d), (s, d), (s, e)))
        return Inputs(q, k, v) if keep is None else Inputs(q, k, v, mask=keep)

    return Case(lambda: layers.DotProductAttention("layer", causal=causal, scale=scale),
                [(*lead, t, d), (*lead, s, d), (*lead, s, e)],
                lambda x, p: attention_reference.dot_product_attention(
                    *x, keep, causal=causal, scale=factor), sample=draw,
                torch=attention_twin(causal, factor))


def attention_twin(causal=False, scale=None):
    """PyTorch's scaled_dot_product_attention with the call's keep mask, causal or not."""
    def twin(torch, p, q, k, v, mask=None):
        if mask is not None and causal:  # PyTorch takes one or the other: join them
            mask = mask & torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        return torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal and mask is None, scale=scale)
    return twin


def attentions():
    """Every mask kind, causal or not, with and without a heads axis (a padding mask (N, 1, S)
    broadcasts over heads through a 1 axis); scales; longer sequences with a fully masked row."""
    cases = {}
    for name, keep in {"no-mask": None, **MASKS}.items():
        for lead in ((2,), (2, 3)):
            heads = keep[:, None] if keep is not None and len(lead) == 2 and keep.ndim == 3 \
                else keep
            for causal in (False, True):
                cases[f"{name}-{len(lead) + 2}d{'-causal' if causal else ''}"] = attention(
                    lead, heads, causal)
    cases["scale-false"], cases["scale-0.25"] = attention(scale=False), attention(scale=0.25)
    keep = np.random.default_rng(5).random((2, 5, 6)) > 0.3
    keep[1, 2] = False
    cases["fully-masked-row"] = attention(keep=keep, lengths=(5, 6, 4, 3))
    cases["heads-scale-0.7"] = attention((2, 3), scale=0.7, lengths=(5, 6, 4, 3))
    return cases


def attention_refusals():
    """{id: (inputs, error, regex)}: what DotProductAttention refuses of q (2, 3, 4),
    k (2, 5, 4) and v (2, 5, 2)."""
    q, k, v = np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 2))
    misfit = r"DotProductAttention 'layer': q \(2, 3, 4\), k \(2, 5, 4\) and v {} do not fit"
    return {
        "float-mask": (Inputs(q, k, v, mask=np.ones((3, 5))), TypeError,
                       r"DotProductAttention 'layer': mask must be a boolean array "
                       r"\(True = keep.*mask != 0"),
        "mask-not-broadcasting": (Inputs(q, k, v, mask=np.ones((5, 3), dtype=bool)), ValueError,
                                  r"mask of shape \(5, 3\) does not broadcast to the scores' "
                                  r"shape \(2, 3, 5\)"),
        "features": (Inputs(q, k[..., :3], v), ValueError, misfit.replace(
            r"k \(2, 5, 4\)", r"k \(2, 5, 3\)").format(r"\(2, 5, 2\)")),
        "lengths": (Inputs(q, k, v[:, :4]), ValueError, misfit.format(r"\(2, 4, 2\)")),
        "rank": (Inputs(q[0], k, v), ValueError, r"DotProductAttention 'layer' expects input of "
                                                 r"shape \(batch, \[heads,\] queries, "
                                                 r"features\); got \(3, 4\)"),
        "key-without-value": (Inputs(q, k), TypeError, r"takes a key and a value together")}


def torch_attn_mask(torch, keep, causal, t, s, heads):
    """A keep mask (True = keep) as nn.MultiheadAttention's attn_mask (True = NOT allowed),
    (T, S) or (N * heads, T, S), joined with the causal one."""
    ignore = None
    if keep is not None:
        if keep.ndim == 4:
            ignore = ~keep.reshape(-1, t, s)
        else:
            full = np.broadcast_to(keep.reshape((1,) * (3 - keep.ndim) + keep.shape), (2, t, s))
            ignore = np.repeat(~full, heads, axis=0)
    if causal:
        future = np.triu(np.ones((t, s), dtype=bool), 1)
        ignore = future if ignore is None else ignore | future
    return None if ignore is None else torch.tensor(ignore)


def multi_head(keep=None, causal=False, cross_length=None, embed=6, heads=3, queries=3):
    """A MultiHeadAttention case of 2 sequences of `queries` steps: self-attention, or
    cross-attention to `cross_length` keys; random weights and biases, its loop reference
    and torch.nn.MultiheadAttention(batch_first=True) with the same weights."""
    t, s = queries, cross_length or queries

    def draw(batch):
        rng = np.random.default_rng(0)
        x = [rng.standard_normal((2, length, embed))
             for length in ((t,) if cross_length is None else (t, s, s))]
        return Inputs(*x) if keep is None else Inputs(*x, mask=keep)

    def reference(x, p):
        q, k, v = x if cross_length else (x, x, x)
        return attention_reference.multi_head_attention(q, k, v, p, heads, keep, causal=causal)

    return Case(lambda: layers.MultiHeadAttention("layer", embed, heads, causal=causal),
                (2, t, embed), reference, setup=random_parameters, sample=draw,
                torch=multi_head_twin(embed, heads, keep, causal),
                modes=("full",))


def multi_head_twin(embed, heads, keep=None, causal=False):
    """torch.nn.MultiheadAttention(batch_first=True) holding the layer's weights, the keep mask
    and causality as its attn_mask."""
    def twin(torch, p, q, k=None, v=None, mask=None):
        k, v = (q if k is None else k), (q if v is None else v)
        module = torch.nn.MultiheadAttention(embed, heads, batch_first=True, dtype=torch.float64)
        weights = {"in_proj_weight": p["in_proj_weight"], "in_proj_bias": p["in_proj_bias"],
                   "out_proj.weight": p["out_proj_weight"], "out_proj.bias": p["out_proj_bias"]}
        out, _ = torch.func.functional_call(module, weights, (q, k, v), {
            "attn_mask": torch_attn_mask(torch, keep, causal, q.shape[1], k.shape[1], heads),
            "need_weights": False})
        return out
    return twin


def multi_heads():
    """Self-attention under every mask kind, causal or not; cross-attention to another length,
    with a fully masked row."""
    rng = np.random.default_rng(1)
    masks = {"no-mask": None,
             "t-s": np.array([[True, False, True], [True, True, False], [False, True, True]]),
             "padding": np.array([[[True, True, False]], [[True, True, True]]]),
             "n-t-s": rng.random((2, 3, 3)) > 0.3, "per-head": rng.random((2, 3, 3, 3)) > 0.3}
    cases = {f"self-{name}{'-causal' if causal else ''}": multi_head(keep, causal)
             for name, keep in masks.items() for causal in (False, True)}
    padding = rng.random((2, 1, 5)) > 0.3
    cases.update({f"cross-padding{'-causal' if causal else ''}": multi_head(
        padding, causal, cross_length=5) for causal in (False, True)})
    keep = rng.random((2, 4, 5)) > 0.3
    keep[1, 2] = False
    cases["cross-causal-fully-masked-row"] = multi_head(keep, True, cross_length=5, queries=4)
    return cases


def transformer_block(causal=False, keep=None, dim=6, heads=3, hidden=10):
    """A TransformerEncoderBlock case on (3, 5, dim) (on (2, 3, dim) with a padding `keep`
    mask), random weights, its loop reference and torch.nn.TransformerEncoderLayer
    (norm_first=True, batch_first=True, relu) with the same weights."""
    def draw(batch):
        x = np.random.default_rng(5).standard_normal((3, 5, dim) if keep is None else
                                                     (2, 3, dim))
        return x if keep is None else Inputs(x, mask=keep)

    return Case(lambda: layers.TransformerEncoderBlock("layer", dim, heads, hidden,
                                                       causal=causal), (3, 5, dim),
                lambda x, p: attention_reference.transformer_block(x, p, heads, causal=causal,
                                                                   mask=keep),
                setup=random_parameters, sample=draw, modes=("random",),
                torch=None if keep is not None else transformer_twin(dim, heads, hidden, causal))


def transformer_twin(dim, heads, hidden, causal):
    """torch.nn.TransformerEncoderLayer(norm_first=True, batch_first=True, relu) holding the
    block's weights (PyTorch's out_proj.weight is tinyml's out_proj_weight)."""
    def twin(torch, p, x):
        module = torch.nn.TransformerEncoderLayer(dim, heads, hidden, dropout=0.0,
                                                  batch_first=True, norm_first=True,
                                                  dtype=torch.float64)
        weights = {key.replace("out_proj_", "out_proj."): value for key, value in p.items()}
        steps = x.shape[1]
        future = torch.ones(steps, steps, dtype=torch.bool).triu(1) if causal else None
        return torch.func.functional_call(module, weights, (x,),
                                          {"src_mask": future, "is_causal": causal})
    return twin


def bidirectional(kind, merge="concat", return_sequences=True):
    """A Bidirectional `kind` from 3 to 4 features, `merge`d, its reference and (concat)
    torch.nn's bidirectional module, weights in *_l0 and *_l0_reverse."""
    return Case(alike(lambda: layers.Bidirectional("layer", getattr(layers, kind)(
        "inner", 3, 4, return_sequences=return_sequences), merge=merge)), (2, 3, 3),
        lambda x, p: recurrent_reference.bidirectional(
            kind, x, recurrent_reference.sub_params(p, "inner"),
            recurrent_reference.sub_params(p, "inner_reverse"), merge=merge,
            return_sequences=return_sequences),
        torch=bidirectional_twin(kind, "inner", 3, 4, return_sequences) if merge == "concat"
        else None, modes=("random",))


def bidirectional_twin(kind, inner, features, hidden, return_sequences=True):
    """torch.nn's bidirectional `kind` holding the directions' weights (`inner`'s as *_l0,
    `inner`_reverse's as *_l0_reverse): its output, or the last states side by side; from
    the directions' initial states, if given."""
    def twin(torch, p, x, initial_state=None):
        module = getattr(torch.nn, kind)(features, hidden, batch_first=True,
                                         bidirectional=True).double()
        weights = {key.split(".", 1)[1] + ("_l0_reverse" if key.startswith(f"{inner}_reverse.")
                                           else "_l0"): value for key, value in p.items()}
        state = () if initial_state is None else (  # torch stacks the directions' states
            tuple(map(torch.stack, zip(*initial_state, strict=True))) if kind == "LSTM"
            else torch.stack(initial_state),)
        out, last = torch.func.functional_call(module, weights, (x, *state))
        last = last[0] if kind == "LSTM" else last
        return out if return_sequences else torch.cat([last[0], last[1]], dim=1)
    return twin


def bidirectional_from_given_states():
    """A Bidirectional LSTM from 3 to 4 features, concatenated, each direction from its own
    given state, its reference and PyTorch's bidirectional LSTM."""
    states = (host_state("LSTM", 6), host_state("LSTM", 7))

    def reference(x, p):
        forward = recurrent_reference.sequence(
            "LSTM", x, recurrent_reference.sub_params(p, "inner"), initial_state=states[0])
        reverse = recurrent_reference.sequence(
            "LSTM", x[:, ::-1], recurrent_reference.sub_params(p, "inner_reverse"),
            initial_state=states[1])[:, ::-1]
        return np.concatenate([forward, reverse], axis=-1)
    return bidirectional("LSTM")._replace(
        reference=reference, torch=bidirectional_twin("LSTM", "inner", 3, 4),
        sample=lambda batch: Inputs(np.random.default_rng(1).standard_normal((2, 3, 3)),
                                    initial_state=states))


def multi_head_refusals():
    """{id: (inputs, error, regex)}: what MultiHeadAttention(4, 2) refuses with x (2, 3, 4)."""
    x, ones = np.ones((2, 3, 4)), np.ones
    misfit = r"MultiHeadAttention 'layer': key {} and value {} must both be \(N, S, 4\) with " \
             r"the query's batch N = 2; the query is \(2, 3, 4\)"
    return {"key-without-value": (Inputs(x, ones((2, 4, 4))), TypeError,
                                  r"MultiHeadAttention 'layer': forward takes a key and a value "
                                  r"together"),
            "lengths": (Inputs(x, ones((2, 4, 4)), ones((2, 5, 4))), ValueError, misfit.format(
                r"\(2, 4, 4\)", r"\(2, 5, 4\)")),
            "batch": (Inputs(x, ones((3, 4, 4)), ones((3, 4, 4))), ValueError, misfit.format(
                r"\(3, 4, 4\)", r"\(3, 4, 4\)")),
            "mask-not-broadcasting": (Inputs(x, mask=ones((2, 2, 3), dtype=bool)), ValueError,
                                      r"MultiHeadAttention 'layer': mask of shape \(2, 2, 3\) "
                                      r"does not broadcast"),
            "float-mask": (Inputs(x, mask=ones((3, 3))), TypeError, r"MultiHeadAttention "
                                                                   r"'layer': mask must be a "
                                                                   r"boolean array")}
