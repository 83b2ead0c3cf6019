"""The specification of every layer tinyml.layers exports: one LAYERS entry per class.

An entry says how to build the layer (named "layer") and the shape of a sample input, and,
where they exist, a plain NumPy reference of its forward (tests/reference.py and friends), the
same function in PyTorch (`torch`: forward, input gradient and every parameter gradient are
compared with autograd's), input shapes its forward refuses with the message it must give
(`bad_shapes`), and more configurations (`configs`: each a Case checked as the entry is).
tests/test_layer_contract.py holds every layer to the Layer contract on these entries.

A layer that takes a list of inputs (the merges) gives a list of shapes; a layer of several
inputs (a recurrent cell's x and state, attention's q, k, v) gives an Inputs of shapes (a tuple
of shapes for a tuple state), and a layer of integer inputs (an embedding) its own `sample`.
"""

import math
from typing import NamedTuple

import attention_reference
import normalization_reference
import numpy as np
import pointwise_reference as R
import recurrent_reference
import reference

import tinyml
from tinyml import layers
from tinyml.layers import (
    RBM,
    Add,
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Concatenate,
    Conv1D,
    Conv2D,
    Deconv2D,
    Dropout,
    Flatten,
    FullyConnected,
    GlobalAvgPool2D,
    LayerNorm1D,
    LayerNorm2D,
    Linear,
    LogSoftmax,
    MaxPool2D,
    MaxUnpool2D,
    Multiply,
    Parallel,
    Pool2D,
    ReLu,
    Residual,
    Sigmoid,
    Softmax,
    SparseEvolution,
)
from tinyml.testing import Inputs


class Case(NamedTuple):
    make: object  # () -> a fresh layer named "layer"
    shape: tuple  # a sample input's shape, batch first (a list of shapes: a list of inputs)
    reference: object = None  # (x, params) -> the expected forward, as check_layer takes it
    trains_on_one: bool = True  # False: a training batch of one sample is a ValueError
    setup: object = None  # (layer, host x) -> None, run before the layer first sees x
    sample: object = None  # (batch or None) -> host input, instead of standard normal `shape`
    takes_indices: bool = False  # its input is integer indices: floating input is refused
    torch: object = None  # (torch, params, *inputs) -> PyTorch's output from the same weights
    bad_shapes: dict = None  # {input shape: regex of the ValueError forward raises for it}
    configs: dict = None  # {name: Case}: more configurations, each checked as the entry is
    modes: tuple = ("full", "random")  # check_layer's modes ("random" alone: many weights)


def alike(build):
    """`build` drawing from fresh streams of seed 0, so each call makes the same layer: two
    layers whose parameter gradients depend on their weights (an activation after a linear map)
    must be equal for test_input_gradient_false_adds_what_backward_adds to compare them."""
    def make():
        with tinyml.use_seed(0):
            return build()
    return make


def random_parameters(layer, x):
    """A setup giving every parameter standard-normal values: a zero bias hides bias bugs."""
    rng = np.random.default_rng(3)
    for parameter in layer.parameters():
        parameter.data = tinyml.asarray(rng.standard_normal(tuple(parameter.data.shape)))


def functional(name, *args, **kwargs):
    """A torch twin ``torch.nn.functional.<name>(x, *args, **kwargs)``, a string in `args`
    naming a parameter."""
    return lambda torch, p, x: getattr(torch.nn.functional, name)(
        x, *(p[arg] if isinstance(arg, str) else arg for arg in args), **kwargs)


def conv2d(config, modes=("random",)):
    """A Conv2D case of (N, C, H, W, F, kh, kw, stride, padding, dilation), random weights."""
    n, c, h, w, f, kh, kw, stride, padding, dilation = config
    pads = ((*reference.same_pads(h, kh, stride, dilation),
             *reference.same_pads(w, kw, stride, dilation)) if padding == "same"
            else (padding,) * 4)
    return Case(lambda: Conv2D("layer", (c, h, w), f, kh, kw, stride, padding,
                               dilation=dilation), (n, c, h, w),
                lambda x, p: reference.correlate2d(x, p["weight"], p["bias"], stride, pads,
                                                   dilation),
                setup=random_parameters, modes=modes,
                torch=lambda torch, p, x: torch.nn.functional.conv2d(
                    torch.nn.functional.pad(x, (pads[2], pads[3], pads[0], pads[1])),
                    p["weight"], p["bias"], stride=stride, dilation=dilation))


def deconv2d(config, modes=("random",)):
    """A Deconv2D case of (N, C, H, W, F, kh, kw, stride, dilation, padding), random weights."""
    n, c, h, w, f, kh, kw, stride, dilation, padding = config
    return Case(lambda: Deconv2D("layer", (c, h, w), f, kh, kw, stride, dilation, padding),
                (n, c, h, w), lambda x, p: reference.conv_transpose2d(
                    x, p["weight"], p["bias"], stride, padding, dilation),
                setup=random_parameters, modes=modes,
                torch=functional("conv_transpose2d", "weight", "bias", stride=stride,
                                 padding=padding, dilation=dilation))


def conv1d(config, modes=("random",)):
    """A Conv1D case of (N, C, L, F, K, stride, padding, dilation), random weights."""
    n, c, length, f, k, stride, padding, dilation = config
    pads = (reference.same_pads(length, k, stride, dilation) if padding == "same"
            else (dilation * (k - 1), 0) if padding == "causal"
            else padding if isinstance(padding, tuple) else (padding, padding))
    return Case(lambda: Conv1D("layer", (c, length), f, k, stride=stride, padding=padding,
                               dilation=dilation), (n, c, length),
                lambda x, p: reference.conv1d(x, p["weight"], p["bias"], stride, pads, dilation),
                setup=random_parameters, modes=modes,
                torch=lambda torch, p, x: torch.nn.functional.conv1d(
                    torch.nn.functional.pad(x, pads), p["weight"], p["bias"], stride=stride,
                    dilation=dilation))


def distinct(shape):
    """A sample of values at least 0.05 apart: no pooling window holds a tie."""
    def draw(batch):
        full = shape if batch is None else (batch, *shape[1:])
        order = np.random.default_rng(0).permutation(int(np.prod(full)))
        return order.reshape(full) * 0.05 - 1.0
    return draw


def pool2d(cls, config, **options):
    """A MaxPool2D, AvgPool2D or Pool2D case of (N, C, H, W, size, stride)."""
    n, c, h, w, size, stride = config
    kh, kw = (size, size) if isinstance(size, int) else size
    average = cls is AvgPool2D or options.get("mode") == "average"
    return Case(lambda: cls("layer", (c, h, w), size, stride, **options), (n, c, h, w),
                (lambda x, p: reference.avg_pool2d(x, kh, kw, stride)) if average
                else (lambda x, p: reference.max_pool2d(x, kh, kw, stride)[0]),
                sample=None if average else distinct((n, c, h, w)),
                torch=functional("avg_pool2d" if average else "max_pool2d", kernel_size=(kh, kw),
                                 stride=stride))


def linear_ref(x, p):
    """x W^T + b over the last axis, whatever the leading axes."""
    return x @ p["weight"].T + p["bias"]


def linear(n_in, n_out, shape):
    """A Linear case from `n_in` to `n_out` features, on input `shape`, random weights."""
    return Case(lambda: Linear("layer", n_in, n_out), shape, linear_ref, setup=random_parameters,
                torch=functional("linear", "weight", "bias"))


def normalization(cls, dims, shape, epsilon=1e-5, modes=("full", "random")):
    """A BatchNorm1D/2D or LayerNorm1D/2D case of `dims` features on input `shape`, random
    weights, its reference and PyTorch twin at `epsilon` (LayerNorm2D: GroupNorm of 1 group)."""
    weight_bias = ("weight", "bias")
    if cls in (BatchNorm1D, BatchNorm2D):
        ref, twin = normalization_reference.batch_norm, functional(
            "batch_norm", None, None, *weight_bias, training=True, eps=epsilon)
    elif cls is LayerNorm1D:
        ref, twin = normalization_reference.layer_norm, functional(
            "layer_norm", (dims,), *weight_bias, eps=epsilon)
    else:
        ref, twin = normalization_reference.group_norm_one_group, functional(
            "group_norm", 1, *weight_bias, eps=epsilon)
    return Case(lambda: cls("layer", dims, epsilon=epsilon), shape,
                lambda x, p: ref(x, p["weight"], p["bias"], epsilon),
                trains_on_one=cls not in (BatchNorm1D, BatchNorm2D), setup=random_parameters,
                torch=twin, modes=modes)


def normalizations(cls, shapes, dims=lambda shape: shape[1]):
    """{shape: case} at epsilon 1e-3, not the default: an epsilon passed nowhere would fail."""
    return {f"{shape}-eps1e-3": normalization(cls, dims(shape), shape, 1e-3) for shape in shapes}


def pointwise(make, f, twin, configs=None):
    """An activation of scalar function `f` on (2, 4); it and each of `configs` on images too."""
    case = Case(make, (2, 4), R.elementwise(f), torch=twin)
    variants = {"": case, **{f"{name}-": config for name, config in (configs or {}).items()}}
    return case._replace(configs={
        **{name.rstrip("-"): config for name, config in variants.items() if name},
        **{f"{name}images": config._replace(shape=(2, 3, 2, 2))
           for name, config in variants.items()}})


def fully_connected(act_fn, batch):
    """A FullyConnected case from 5 to 4 features, random weights, then `act_fn`."""
    act, twin = {None: (lambda z: z, lambda torch, z: z),
                 "relu": (reference.relu, lambda torch, z: torch.relu(z)),
                 "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)),
                             lambda torch, z: torch.sigmoid(z))}[act_fn]
    return Case(lambda: FullyConnected("layer", 5, 4, act_fn=act_fn), (batch, 5),
                lambda x, p: act(reference.linear(x, p["weight"], p["bias"])),
                setup=random_parameters, torch=lambda torch, p, x: twin(
                    torch, torch.nn.functional.linear(x, p["weight"], p["bias"])))


def recurrent(kind, cell=False, return_sequences=True, configs=None, **options):
    """An RNN, LSTM or GRU (or its cell: one step from a given state) from 3 to 4 features, its
    loop reference and torch.nn's module of the same name with the layer's weights."""
    state = ((2, 4), (2, 4)) if kind == "LSTM" else (2, 4)
    cls = getattr(layers, kind + "Cell" if cell else kind)
    make = (alike(lambda: cls("layer", 3, 4, **options)) if cell else
            alike(lambda: cls("layer", 3, 4, return_sequences=return_sequences, **options)))
    reference = ((lambda x, p: recurrent_reference.step(kind, *x, p, **options)) if cell else
                 (lambda x, p: recurrent_reference.sequence(
                     kind, x, p, return_sequences=return_sequences, **options)))

    def twin(torch, p, x, *state):
        module = getattr(torch.nn, kind + "Cell" if cell else kind)(
            3, 4, **options, **({} if cell else {"batch_first": True})).double()
        suffix = "" if cell else "_l0"
        weights = {key + suffix: value for key, value in p.items()}
        if cell:
            return torch.func.functional_call(module, weights, (x, *state))
        out, last = torch.func.functional_call(module, weights, (x,))
        return out if return_sequences else (last[0] if kind == "LSTM" else last)[0]
    return Case(make, Inputs((2, 3), state) if cell else (2, 3, 3), reference, torch=twin,
                configs=configs, bad_shapes=None if cell else {
                    (2, 3): rf"{kind} 'layer' expects input of shape \(batch, time, 3\); got "
                            r"\(2, 3\)\. Sequences are batch-first",
                    (2, 4, 5): r"expects input of shape \(batch, time, 3\); got \(2, 4, 5\)",
                    (2, 0, 3): rf"{kind} 'layer' needs at least one time step"})


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


def max_unpool2d(config):
    """A MaxUnpool2D case of (N, C, H, W, size, stride). Its pool first pools an ascending input:
    every window's maximum is its own bottom-right pixel, so no two windows share one (where
    PyTorch's max_unpool2d keeps one value and tinyml adds them)."""
    n, c, h, w, size, stride = config
    kh, kw = (size, size) if isinstance(size, int) else size

    def pooled_input(batch):
        return np.arange(batch * c * h * w, dtype=np.float64).reshape(batch, c, h, w)

    def twin(torch, p, z):
        _, indices = torch.nn.functional.max_pool2d(torch.tensor(pooled_input(len(z))),
                                                    (kh, kw), stride, return_indices=True)
        return torch.nn.functional.max_unpool2d(z, indices, (kh, kw), stride, output_size=(h, w))
    return Case(lambda: MaxUnpool2D("layer", MaxPool2D("pool", (c, h, w), size, stride)),
                (n, c, (h - kh) // stride + 1, (w - kw) // stride + 1),
                lambda z, p: reference.max_unpool2d(z, pooled_input(len(z)), kh, kw, stride),
                setup=lambda layer, z: layer.pool.forward(tinyml.asarray(pooled_input(len(z)))),
                torch=twin)


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

    def twin(torch, p, q, k, v, mask=None):
        if mask is not None and causal:  # PyTorch takes one or the other: join them
            mask = mask & torch.ones(t, s, dtype=torch.bool).tril()
        return torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal and mask is None, scale=factor)
    return Case(lambda: layers.DotProductAttention("layer", causal=causal, scale=scale),
                [(*lead, t, d), (*lead, s, d), (*lead, s, e)],
                lambda x, p: attention_reference.dot_product_attention(
                    *x, keep, causal=causal, scale=factor), sample=draw, torch=twin)


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

    def twin(torch, p, q, k=None, v=None, mask=None):
        module = torch.nn.MultiheadAttention(embed, heads, batch_first=True, dtype=torch.float64)
        weights = {"in_proj_weight": p["in_proj_weight"], "in_proj_bias": p["in_proj_bias"],
                   "out_proj.weight": p["out_proj_weight"], "out_proj.bias": p["out_proj_bias"]}
        out, _ = torch.func.functional_call(
            module, weights, (q, q if k is None else k, q if v is None else v),
            {"attn_mask": torch_attn_mask(torch, keep, causal, t, s, heads),
             "need_weights": False})
        return out
    return Case(lambda: layers.MultiHeadAttention("layer", embed, heads, causal=causal),
                (2, t, embed), reference, setup=random_parameters, sample=draw, torch=twin,
                modes=("full",))


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

    def twin(torch, p, x):
        module = torch.nn.TransformerEncoderLayer(dim, heads, hidden, dropout=0.0,
                                                  batch_first=True, norm_first=True,
                                                  dtype=torch.float64)
        weights = {key.replace("out_proj_", "out_proj."): value for key, value in p.items()}
        future = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None
        return torch.func.functional_call(module, weights, (x,),
                                          {"src_mask": future, "is_causal": causal})
    return Case(lambda: layers.TransformerEncoderBlock("layer", dim, heads, hidden,
                                                       causal=causal), (3, 5, dim),
                lambda x, p: attention_reference.transformer_block(x, p, heads, causal=causal,
                                                                   mask=keep),
                setup=random_parameters, sample=draw, modes=("random",),
                torch=None if keep is not None else twin)


def bidirectional(kind, merge="concat", return_sequences=True):
    """A Bidirectional `kind` from 3 to 4 features, `merge`d, its reference and (concat)
    torch.nn's bidirectional module, weights in *_l0 and *_l0_reverse."""
    def twin(torch, p, x):
        module = getattr(torch.nn, kind)(3, 4, batch_first=True, bidirectional=True).double()
        weights = {key.replace("inner_reverse.", "").replace("inner.", "") +
                   ("_l0_reverse" if key.startswith("inner_reverse.") else "_l0"): value
                   for key, value in p.items()}
        out, last = torch.func.functional_call(module, weights, (x,))
        last = last[0] if kind == "LSTM" else last
        return out if return_sequences else torch.cat([last[0], last[1]], dim=1)
    return Case(alike(lambda: layers.Bidirectional("layer", getattr(layers, kind)(
        "inner", 3, 4, return_sequences=return_sequences), merge=merge)), (2, 3, 3),
        lambda x, p: recurrent_reference.bidirectional(
            kind, x, recurrent_reference.sub_params(p, "inner"),
            recurrent_reference.sub_params(p, "inner_reverse"), merge=merge,
            return_sequences=return_sequences),
        torch=twin if merge == "concat" else None, modes=("random",))


def dense(x, p, name, torch=None):
    """The Linear `name` of a container's params on x (with torch.nn.functional given torch)."""
    if torch is not None:
        return torch.nn.functional.linear(x, p[f"{name}.weight"], p[f"{name}.bias"])
    return reference.linear(x, p[f"{name}.weight"], p[f"{name}.bias"])


MERGES = {  # merge: (numpy, torch) of the three branch outputs
    "add": (lambda a, b, c: a + b + c, lambda torch, a, b, c: a + b + c),
    "multiply": (lambda a, b, c: a * b * c, lambda torch, a, b, c: a * b * c),
    "concat": (lambda a, b, c: np.concatenate([a, b, c], axis=1),
               lambda torch, a, b, c: torch.cat([a, b, c], dim=1)),
    "Add-sigmoid": (lambda a, b, c: 1.0 / (1.0 + np.exp(-(a + b + c))),
                    lambda torch, a, b, c: torch.sigmoid(a + b + c)),
}


def parallel_with_identity(merge):
    """Parallel(relu(fc1 x), fc2 x, x) into `merge` (a name of MERGES)."""
    combine, combine_torch = MERGES[merge]
    return Case(lambda: Parallel("layer", [[Linear("fc1", 4, 4), ReLu("relu")],
                                           [Linear("fc2", 4, 4)], []],
                                 Add("sum", act_fn="sigmoid") if merge == "Add-sigmoid" else merge),
                (3, 4), lambda x, p: combine(reference.relu(dense(x, p, "fc1")),
                                             dense(x, p, "fc2"), x),
                setup=random_parameters, torch=lambda torch, p, x: combine_torch(
                    torch, torch.relu(dense(x, p, "fc1", torch)), dense(x, p, "fc2", torch), x))


POOLS = {  # (N, C, H, W, size, stride)
    "2x2-stride2": (2, 2, 4, 4, 2, 2),
    "batch1-overlapping": (1, 3, 5, 5, 3, 1),
    "nonsquare-overlapping-remainder": (2, 1, 5, 7, (2, 3), 2),
    "stride-larger-than-window": (1, 2, 7, 7, 2, 3),
    "1x1": (1, 1, 3, 4, 1, 1),
}


LAYERS = {
    "Linear": Case(lambda: Linear("layer", 4, 3), (2, 4), linear_ref, setup=random_parameters,
                   torch=functional("linear", "weight", "bias"), bad_shapes={
                       (2, 3): r"Linear 'layer' expects input of shape \(batch, 4\); got "
                               r"\(2, 3\)\.$",
                       (2, 2, 2): r"got \(2, 2, 2\)\. Add a Flatten before it\.",
                       (4,): r"expects input of shape \(batch, 4\); got \(4,\)\.$"},
                   configs={"batch1-7-to-2": linear(7, 2, (1, 7)), "1-to-1": linear(1, 1, (3, 1)),
                            **{f"leading-axes-{shape}": linear(4, 3, shape)
                               for shape in [(2, 3, 4), (1, 1, 4), (2, 2, 3, 4)]}}),
    "Conv2D": Case(lambda: Conv2D("layer", (1, 4, 4), 2, 3, 2, 2, 1), (2, 1, 4, 4),
                   lambda x, p: reference.conv2d(x, p["weight"], p["bias"], 2, 1),
                   torch=functional("conv2d", "weight", "bias", stride=2, padding=1),
                   bad_shapes={
                       (2, 1, 4): r"Conv2D 'layer' expects input of shape \(batch, 1, 4, 4\); "
                                  r"got \(2, 1, 4\)\.$",
                       (2, 16): r"got \(2, 16\)\. Reshape flat samples to \(batch, C, H, W\) "
                                r"first\.",
                       (2, 2, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 2, 4, 4\)",
                       (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)",
                       (2, 1, 5, 4): r"\(batch, 1, 4, 4\); got \(2, 1, 5, 4\)"},
                   configs={  # (N, C, H, W, F, kh, kw, stride, padding, dilation)
                       "3x3": conv2d((2, 3, 5, 5, 4, 3, 3, 1, 0, 1)),
                       "batch1-nonsquare-stride2-pad1": conv2d((1, 2, 6, 7, 3, 3, 2, 2, 1, 1)),
                       "stride3-remainder-pad2": conv2d((2, 1, 7, 5, 2, 2, 3, 3, 2, 1)),
                       "1x1": conv2d((1, 2, 4, 3, 2, 1, 1, 1, 0, 1)),
                       "kernel-larger-than-input-padded": conv2d((1, 1, 3, 3, 2, 5, 4, 1, 1, 1)),
                       "3x3-pad1": conv2d((2, 2, 4, 4, 2, 3, 3, 1, 1, 1), ("full",)),
                       "nonsquare-stride2-remainder": conv2d((1, 2, 5, 4, 2, 2, 3, 2, 0, 1),
                                                             ("full",)),
                       "dilation2-pad2": conv2d((2, 2, 7, 6, 3, 3, 3, 1, 2, 2)),
                       "dilation3-nonsquare-stride2": conv2d((1, 2, 9, 8, 2, 2, 3, 2, 1, 3)),
                       "same-3x3": conv2d((2, 2, 5, 5, 3, 3, 3, 1, "same", 1)),
                       "same-even-nonsquare": conv2d((1, 2, 5, 6, 2, 2, 4, 1, "same", 1),
                                                     ("full",)),
                       "same-dilated": conv2d((1, 1, 7, 6, 2, 3, 2, 1, "same", 2)),
                       "same-stride2": conv2d((2, 2, 7, 6, 2, 3, 3, 2, "same", 1), ("full",)),
                       "same-stride3-dilated": conv2d((1, 2, 8, 7, 2, 2, 3, 3, "same", 2))}),
    "Deconv2D": Case(lambda: Deconv2D("layer", (1, 4, 4), 2, 2, 2, 2, dilation=2, padding=1),
                     (2, 1, 4, 4), lambda x, p: reference.conv_transpose2d(
                         x, p["weight"], p["bias"], stride=2, padding=1, dilation=2),
                     torch=functional("conv_transpose2d", "weight", "bias", stride=2, padding=1,
                                      dilation=2),
                     bad_shapes={
                         (2, 1, 4): r"Deconv2D 'layer' expects input of shape "
                                    r"\(batch, 1, 4, 4\); got \(2, 1, 4\)\.$",
                         (2, 16): r"got \(2, 16\)\. Reshape flat samples to \(batch, C, H, W\) "
                                  r"first\.",
                         (2, 3, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 3, 4, 4\)",
                         (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                     configs={  # (N, C, H, W, F, kh, kw, stride, dilation, padding)
                         "3x3": deconv2d((2, 2, 3, 3, 3, 3, 3, 1, 1, 0)),
                         "batch1-nonsquare-stride2": deconv2d((1, 3, 3, 4, 2, 2, 3, 2, 1, 0)),
                         "dilation2-pad1": deconv2d((2, 1, 4, 3, 2, 3, 2, 2, 2, 1)),
                         "stride-beyond-kernel-leaves-gaps": deconv2d(
                             (1, 2, 2, 2, 1, 2, 2, 3, 1, 0)),
                         "dilation3-pad2": deconv2d((1, 1, 3, 3, 2, 2, 2, 1, 3, 2)),
                         "stride2-pad1": deconv2d((2, 2, 2, 3, 2, 3, 2, 2, 1, 1), ("full",)),
                         "dilation2": deconv2d((1, 2, 3, 2, 1, 2, 2, 1, 2, 0), ("full",))}),
    "MaxPool2D": Case(lambda: MaxPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.max_pool2d(x, 2, 2, 2)[0],
                      torch=functional("max_pool2d", kernel_size=2, stride=2), bad_shapes={
                          (2, 4, 4): r"MaxPool2D 'layer' expects input of shape "
                                     r"\(batch, 1, 4, 4\); got \(2, 4, 4\)\.$",
                          (2, 16): r"\(batch, 1, 4, 4\); got \(2, 16\)",
                          (2, 3, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 3, 4, 4\)",
                          (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                      configs={  # (N, C, H, W, size, stride)
                          name: pool2d(MaxPool2D, config) for name, config in {
                              "2x2-stride2": (2, 2, 4, 4, 2, 2),
                              "batch1-overlapping": (1, 3, 5, 5, 3, 1),
                              "nonsquare-overlapping-remainder": (2, 1, 5, 7, (2, 3), 2),
                              "3x3-stride2-overlapping": (1, 2, 6, 5, 3, 2),
                              "1x2-stride1": (1, 1, 3, 4, (1, 2), 1)}.items()}),
    "Dropout": Case(lambda: Dropout("layer", 0.5), (2, 4)),
    "Flatten": Case(lambda: Flatten("layer"), (2, 1, 4, 4), lambda x, p: reference.flatten(x),
                    torch=lambda torch, p, x: torch.flatten(x, 1), bad_shapes={
                        shape: r"Flatten 'layer' expects input of shape \(batch, \.\.\.\) with "
                               r"at least 2 dimensions; got \(" for shape in [(5,), ()]},
                    configs={f"{shape}": Case(lambda: Flatten("layer"), shape,
                                              lambda x, p: reference.flatten(x))
                             for shape in [(2, 3, 4, 5), (1, 2, 3, 3), (3, 4, 2), (2, 5)]}),
    "ReLu": Case(lambda: ReLu("layer"), (2, 4), lambda x, p: reference.relu(x),
                 torch=functional("relu"),
                 configs={f"{shape}": Case(lambda: ReLu("layer"), shape,
                                           lambda x, p: reference.relu(x), torch=functional("relu"))
                          for shape in [(1, 2, 3, 3), (2, 3, 2)]}),
    "Softmax": Case(lambda: Softmax("layer"), (2, 4), lambda x, p: reference.softmax(x),
                    torch=functional("softmax", dim=1), configs={
                        f"{shape}-axis{axis}": Case(
                            lambda axis=axis: Softmax("layer", axis=axis), shape,
                            lambda x, p, axis=axis: reference.softmax(x, axis),
                            torch=functional("softmax", dim=axis))
                        for shape, axis in [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                            ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 2), 0),
                                            ((2, 2, 3), -1)]}),
    "LogSoftmax": Case(lambda: LogSoftmax("layer"), (2, 4),
                       lambda x, p: np.log(reference.softmax(x)),
                       torch=functional("log_softmax", dim=1), configs={
                           f"{shape}-axis{axis}": Case(
                               lambda axis=axis: LogSoftmax("layer", axis=axis), shape,
                               lambda x, p, axis=axis: np.log(reference.softmax(x, axis)),
                               torch=functional("log_softmax", dim=axis))
                           for shape, axis in [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                               ((2, 3, 4), 1), ((2, 2, 3), -1)]}),
    "Sigmoid": Case(lambda: Sigmoid("layer"), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(-x)),
                    torch=lambda torch, p, x: torch.sigmoid(x),
                    configs={"images": Case(lambda: Sigmoid("layer"), (2, 3, 2, 2),
                                            lambda x, p: 1.0 / (1.0 + np.exp(-x)))}),
    "Tanh": pointwise(lambda: layers.Tanh("layer"), R.tanh, lambda torch, p, x: torch.tanh(x)),
    "LeakyReLU": pointwise(lambda: layers.LeakyReLU("layer", alpha=0.1), R.leaky_relu(0.1),
                           functional("leaky_relu", 0.1), configs={
                               "default-alpha": pointwise(lambda: layers.LeakyReLU("layer"),
                                                          R.leaky_relu(0.3),
                                                          functional("leaky_relu", 0.3))}),
    "ELU": pointwise(lambda: layers.ELU("layer", alpha=0.7), R.elu(0.7),
                     functional("elu", alpha=0.7), configs={
                         "default-alpha": pointwise(lambda: layers.ELU("layer"), R.elu(1.0),
                                                    functional("elu"))}),
    "SELU": pointwise(lambda: layers.SELU("layer"), R.elu(R.SELU_ALPHA, R.SELU_SCALE),
                      functional("selu")),
    "GELU": pointwise(lambda: layers.GELU("layer"), R.gelu, functional("gelu"), configs={
        "tanh": pointwise(lambda: layers.GELU("layer", approximate=True), R.gelu_tanh,
                          functional("gelu", approximate="tanh"))}),
    "SoftPlus": pointwise(lambda: layers.SoftPlus("layer"), R.softplus, functional("softplus")),
    # PyTorch's hardsigmoid is clip(x/6 + 1/2, 0, 1): numpy-ml's is that of 1.2 x.
    "HardSigmoid": pointwise(lambda: layers.HardSigmoid("layer"), R.hard_sigmoid,
                             lambda torch, p, x: torch.nn.functional.hardsigmoid(1.2 * x)),
    "Exponential": pointwise(lambda: layers.Exponential("layer"), math.exp,
                             lambda torch, p, x: torch.exp(x)),
    "Identity": pointwise(lambda: layers.Identity("layer"), R.affine(1.0, 0.0),
                          lambda torch, p, x: x),
    "Affine": pointwise(lambda: layers.Affine("layer", slope=-2.0, intercept=0.5),
                        R.affine(-2.0, 0.5), lambda torch, p, x: -2.0 * x + 0.5, configs={
                            "default": pointwise(lambda: layers.Affine("layer"),
                                                 R.affine(1.0, 0.0), lambda torch, p, x: x)}),
    "FullyConnected": Case(alike(lambda: FullyConnected("layer", 4, 3, act_fn="sigmoid")), (2, 4),
                           lambda x, p: 1.0 / (1.0 + np.exp(-reference.linear(
                               x, p["weight"], p["bias"]))), bad_shapes={
                                   (2, 5): r"FullyConnected 'layer' expects input of shape "
                                           r"\(batch, 4\); got \(2, 5\)",
                                   (2, 1, 4): r"\(batch, 4\); got \(2, 1, 4\)\. Add a Flatten"},
                           configs={f"{act_fn}-batch{batch}": fully_connected(act_fn, batch)
                                    for act_fn in (None, "relu", "sigmoid") for batch in (3, 1)}),
    "RBM": Case(alike(lambda: RBM("layer", 4, 3)), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(
        -reference.linear(x, p["weight"], p["bias_hidden"]))), bad_shapes={
            (2, 5): r"RBM 'layer' expects input of shape \(batch, 4\); got \(2, 5\)",
            (2, 1, 4): r"got \(2, 1, 4\)\. Add a Flatten before it"}),
    "SparseEvolution": Case(alike(lambda: SparseEvolution("layer", 4, 3, epsilon=0.5)), (2, 4),
                            lambda x, p: reference.linear(x, p["weight"] * p["mask"], p["bias"]),
                            bad_shapes={(2, 3): r"SparseEvolution 'layer' expects input of shape "
                                                r"\(batch, 4\); got \(2, 3\)"}),
    "BatchNorm1D": normalization(BatchNorm1D, 4, (3, 4))._replace(
        bad_shapes={(2, 3): r"BatchNorm1D 'layer' expects input of shape \(batch, 4\); got "
                            r"\(2, 3\)\.$",
                    (2, 4, 3, 3): r"got \(2, 4, 3, 3\)\. Images take BatchNorm2D\."},
        configs=normalizations(BatchNorm1D, [(4, 3), (2, 5)])),
    "BatchNorm2D": normalization(BatchNorm2D, 2, (2, 2, 3, 3))._replace(
        bad_shapes={(2, 3, 5, 5): r"BatchNorm2D 'layer' expects input of shape "
                                  r"\(batch, 2, H, W\); got \(2, 3, 5, 5\)\.$",
                    (2, 2): r"\(batch, 2, H, W\); got \(2, 2\)\. Feature vectors take "
                            r"BatchNorm1D\."},
        configs=normalizations(BatchNorm2D, [(3, 2, 3, 3), (2, 3, 1, 1), (2, 1, 4, 2),
                                             (3, 4, 3, 2)])),
    "LayerNorm1D": normalization(LayerNorm1D, 4, (2, 3, 4))._replace(
        bad_shapes={(2, 5): r"LayerNorm1D 'layer' expects input of shape \(batch, 4\) or "
                            r"\(batch, T, 4\); got \(2, 5\)",
                    (2, 1, 3, 4): r"got \(2, 1, 3, 4\)\. Images take LayerNorm2D\.",
                    (4,): r"got \(4,\)\.$"},
        configs=normalizations(LayerNorm1D, [(3, 5), (2, 4, 5), (1, 5), (1, 1, 5), (4, 6)],
                               dims=lambda shape: shape[-1])),
    "LayerNorm2D": normalization(LayerNorm2D, (2, 3, 3), (2, 2, 3, 3))._replace(
        bad_shapes={(2, 2, 3, 4): r"LayerNorm2D 'layer' expects input of shape "
                                  r"\(batch, 2, 3, 3\); got \(2, 2, 3, 4\)\.$"},
        configs=normalizations(LayerNorm2D, [(2, 3, 2, 2), (1, 2, 3, 4), (3, 1, 2, 2),
                                             (2, 3, 4, 5)], dims=lambda shape: shape[1:])),
    "Conv1D": Case(lambda: Conv1D("layer", (2, 6), 3, 4, padding="same"), (2, 2, 6),
                   lambda x, p: reference.conv1d(x, p["weight"], p["bias"], pads=(1, 2)),
                   torch=lambda torch, p, x: torch.nn.functional.conv1d(
                       torch.nn.functional.pad(x, (1, 2)), p["weight"], p["bias"]),
                   bad_shapes={
                       (2, 12): r"Conv1D 'layer' expects input of shape \(batch, 2, 6\); got "
                                r"\(2, 12\)\. Reshape it to \(batch, channels, length\) first\.$",
                       (2, 2, 6, 1): r"\(batch, 2, 6\); got \(2, 2, 6, 1\)\.$",
                       (2, 3, 6): r"\(batch, 2, 6\); got \(2, 3, 6\)",
                       (2, 2, 5): r"\(batch, 2, 6\); got \(2, 2, 5\)"},
                   configs={  # (N, C, L, F, K, stride, padding, dilation)
                       "valid": conv1d((2, 3, 9, 4, 3, 1, 0, 1)),
                       "int-pad-stride2-remainder": conv1d((1, 2, 8, 3, 3, 2, 1, 1)),
                       "pair": conv1d((2, 2, 7, 2, 3, 1, (2, 0), 1), ("full",)),
                       "pair-asymmetric-stride3": conv1d((1, 1, 8, 2, 2, 3, (0, 3), 2)),
                       "same-odd-kernel": conv1d((2, 2, 7, 3, 3, 1, "same", 1)),
                       "same-even-kernel": conv1d((1, 2, 6, 2, 4, 1, "same", 1), ("full",)),
                       "same-dilated": conv1d((2, 1, 9, 2, 3, 1, "same", 3)),
                       "same-stride2": conv1d((2, 2, 9, 3, 3, 2, "same", 1), ("full",)),
                       "same-stride3-dilated": conv1d((1, 2, 10, 2, 2, 3, "same", 2)),
                       "causal": conv1d((2, 2, 6, 3, 3, 1, "causal", 1)),
                       "causal-dilated": conv1d((1, 3, 8, 2, 3, 1, "causal", 2), ("full",)),
                       "causal-stride2": conv1d((2, 1, 7, 2, 2, 2, "causal", 1)),
                       "kernel-1": conv1d((1, 3, 4, 2, 1, 1, 0, 1))}),
    "AvgPool2D": Case(lambda: AvgPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.avg_pool2d(x, 2, 2, 2),
                      torch=functional("avg_pool2d", kernel_size=2, stride=2), bad_shapes={
                          (2, 1, 4, 5): r"AvgPool2D 'layer' expects input of shape "
                                        r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                      configs={name: pool2d(AvgPool2D, config) for name, config in POOLS.items()}),
    "Pool2D": Case(lambda: Pool2D("layer", (1, 5, 4), (3, 2), 1, mode="average"), (2, 1, 5, 4),
                   lambda x, p: reference.avg_pool2d(x, 3, 2, 1),
                   torch=functional("avg_pool2d", kernel_size=(3, 2), stride=1), bad_shapes={
                       (2, 1, 4, 5): r"Pool2D 'layer' expects input of shape \(batch, 1, 5, 4\); "
                                     r"got \(2, 1, 4, 5\)"},
                   configs={f"{mode}-{name}": pool2d(Pool2D, config, mode=mode)
                            for name, config in POOLS.items() for mode in ("max", "average")}),
    "GlobalAvgPool2D": Case(lambda: GlobalAvgPool2D("layer"), (2, 3, 2, 3),
                            lambda x, p: reference.global_avg_pool2d(x),
                            torch=lambda torch, p, x: x.mean(dim=(2, 3)), bad_shapes={
                                shape: r"GlobalAvgPool2D 'layer' expects input of shape "
                                       r"\(batch, C, H, W\); got .*It pools images; reshape "
                                       r"the input to NCHW first\."
                                for shape in [(2, 3), (2, 3, 4), (2, 3, 4, 4, 1)]},
                            configs={f"{shape}": Case(lambda: GlobalAvgPool2D("layer"), shape,
                                                      lambda x, p: reference.global_avg_pool2d(x))
                                     for shape in [(2, 3, 4, 5), (1, 1, 1, 1), (3, 2, 1, 6)]}),
    # its pool must have pooled a batch of x's size first: the setup runs it on pooled(batch)
    "MaxUnpool2D": Case(lambda: MaxUnpool2D("layer", MaxPool2D("pool", (1, 4, 4), 2, 2)),
                        (2, 1, 2, 2),
                        lambda x, p: reference.max_unpool2d(x, pooled(len(x)), 2, 2, 2),
                        setup=lambda layer, x: layer.pool.forward(tinyml.asarray(pooled(len(x)))),
                        bad_shapes={shape: r"MaxUnpool2D 'layer' expects input of shape "
                                           r"\(batch, 1, 2, 2\); got .*It takes what MaxPool2D "
                                           r"'pool' puts out\."
                                    for shape in [(2, 1, 4, 4), (2, 2, 2, 2), (2, 4),
                                                  (2, 1, 2, 3)]},
                        configs={name: max_unpool2d(config) for name, config in {
                            "2x2-stride2": (2, 2, 4, 4, 2, 2),
                            "remainder": (1, 2, 5, 7, 2, 2),
                            "nonsquare-stride3": (2, 1, 6, 6, (2, 3), 3),
                            "overlapping": (1, 2, 5, 5, 3, 1),
                            "overlapping-nonsquare": (2, 1, 6, 5, (3, 2), 2)}.items()}),
    "Add": Case(lambda: Add("layer", act_fn="relu"), [(2, 4), (2, 4), (2, 4)],
                lambda x, p: reference.relu(x[0] + x[1] + x[2]),
                torch=lambda torch, p, x: torch.relu(x[0] + x[1] + x[2]), configs={
                    "two": Case(lambda: Add("layer"), [(3, 4), (3, 4)], lambda x, p: x[0] + x[1],
                                torch=lambda torch, p, x: x[0] + x[1]),
                    "two-sigmoid": Case(lambda: Add("layer", act_fn="sigmoid"), [(3, 4), (3, 4)],
                                        lambda x, p: 1.0 / (1.0 + np.exp(-x[0] - x[1])),
                                        torch=lambda torch, p, x: torch.sigmoid(x[0] + x[1]))}),
    "Multiply": Case(lambda: Multiply("layer"), [(2, 4), (2, 4), (2, 4)],
                     lambda x, p: x[0] * x[1] * x[2],
                     torch=lambda torch, p, x: x[0] * x[1] * x[2], configs={
                         "sigmoid": Case(lambda: Multiply("layer", act_fn="sigmoid"),
                                         [(2, 3, 4), (2, 3, 4)],
                                         lambda x, p: 1.0 / (1.0 + np.exp(-x[0] * x[1])),
                                         torch=lambda torch, p, x: torch.sigmoid(x[0] * x[1]),
                                         modes=("random",))}),
    "Concatenate": Case(lambda: Concatenate("layer"), [(2, 3, 2), (2, 1, 2)],
                        lambda x, p: np.concatenate(x, axis=1),
                        torch=lambda torch, p, x: torch.cat(x, dim=1), configs={
                            **{f"axis{axis}": Case(
                                lambda axis=axis: Concatenate("layer", axis=axis),
                                [tuple(extent if index == axis % 3 else size
                                       for index, size in enumerate((2, 3, 4)))
                                 for extent in (1, 3, 2)],
                                lambda x, p, axis=axis: np.concatenate(x, axis=axis),
                                torch=lambda torch, p, x, axis=axis: torch.cat(x, dim=axis))
                               for axis in (1, 2, -1)},
                            "images": Case(lambda: Concatenate("layer"),
                                           [(2, 1, 3, 3), (2, 2, 3, 3)],
                                           lambda x, p: np.concatenate(x, axis=1),
                                           torch=lambda torch, p, x: torch.cat(x, dim=1))}),
    "Residual": Case(lambda: Residual("layer", [Linear("fc", 4, 4), ReLu("relu")]), (2, 4),
                     lambda x, p: x + reference.relu(
                         reference.linear(x, p["fc.weight"], p["fc.bias"])),
                     torch=lambda torch, p, x: x + torch.relu(torch.nn.functional.linear(
                         x, p["fc.weight"], p["fc.bias"])), configs={
                         "two-layer-stack": Case(
                             lambda: Residual("layer", [Linear("fc1", 4, 5), ReLu("relu"),
                                                        Linear("fc2", 5, 4)]), (3, 4),
                             lambda x, p: x + dense(reference.relu(dense(x, p, "fc1")), p, "fc2"),
                             setup=random_parameters, torch=lambda torch, p, x: x + dense(
                                 torch.relu(dense(x, p, "fc1", torch)), p, "fc2", torch)),
                         "convolutions": Case(
                             lambda: Residual("layer", [Conv2D("conv", (2, 4, 4), 2, 3, 3, 1, 1),
                                                        ReLu("relu")]), (2, 2, 4, 4),
                             lambda x, p: x + reference.relu(reference.conv2d(
                                 x, p["conv.weight"], p["conv.bias"], 1, 1)),
                             setup=random_parameters, modes=("random",),
                             torch=lambda torch, p, x: x + torch.relu(torch.nn.functional.conv2d(
                                 x, p["conv.weight"], p["conv.bias"], padding=1)))}),
    "Parallel": Case(lambda: Parallel("layer", [[Linear("fc", 4, 3)], [ReLu("relu")], []],
                                      "concat"), (2, 4),
                     lambda x, p: np.concatenate(
                         [reference.linear(x, p["fc.weight"], p["fc.bias"]),
                          reference.relu(x), x], axis=1),
                     configs={f"identity-branch-{merge}": parallel_with_identity(merge)
                              for merge in MERGES}),
    # 8 ids from a vocabulary of 5: repeated indices, whose gradients must accumulate
    "Embedding": Case(lambda: layers.Embedding("layer", 5, 3), (2, 4),
                      lambda x, p: p["weight"][x], takes_indices=True,
                      torch=lambda torch, p, x: torch.nn.functional.embedding(x, p["weight"]),
                      bad_shapes={shape: r"Embedding 'layer' expects input of shape \(batch, "
                                         r"time\) of integer indices, time >= 1; got"
                                  for shape in [(15,), (3, 5, 1), (3, 0)]},
                      configs={f"pool-{pool}": embedding(pool) for pool in (None, "sum", "mean")},
                      sample=lambda batch: np.random.default_rng(0).integers(0, 5, (batch or 2,
                                                                                    4))),
    "Permute": Case(lambda: layers.Permute("layer", (2, 1)), (2, 3, 4),
                    lambda x, p: np.transpose(x, (0, 2, 1)),
                    torch=lambda torch, p, x: x.permute(0, 2, 1), bad_shapes={
                        (2, 3, 4, 5): r"Permute 'layer' expects input of shape \(batch, \.\.\.\) "
                                      r"with 2 axes per sample"},
                    configs={f"{axes}": Case(lambda axes=axes: layers.Permute("layer", axes),
                                             (2, 3, 4, 5), lambda x, p, axes=axes: np.transpose(
                                                 x, (0, *axes)),
                                             torch=lambda torch, p, x, axes=axes: x.permute(
                                                 0, *axes))
                             for axes in [(1, 2, 3), (3, 1, 2), (2, 3, 1), (3, 2, 1)]}),
    "Reshape": Case(lambda: layers.Reshape("layer", (-1, 2)), (2, 3, 4),
                    lambda x, p: x.reshape(len(x), 6, 2),
                    torch=lambda torch, p, x: x.reshape(len(x), 6, 2), bad_shapes={
                        (2, 7): r"Reshape 'layer' reshapes each sample to \(-1, 2\), which needs "
                                r"a multiple of 2 values"},
                    configs={f"{shape}": Case(lambda shape=shape: layers.Reshape("layer", shape),
                                              (2, 3, 4, 5), lambda x, p, out=out: x.reshape(out),
                                              torch=lambda torch, p, x, out=out: x.reshape(out))
                             for shape, out in [((60,), (2, 60)), ((-1, 5), (2, 12, 5)),
                                                ((5, 4, 3), (2, 5, 4, 3)),
                                                ((2, -1, 3), (2, 2, 10, 3))]}),
    "RNN": recurrent("RNN", return_sequences=True, configs={
        f"{options.get('nonlinearity', 'tanh')}-{'sequences' if sequences else 'last'}":
            recurrent("RNN", return_sequences=sequences, **options)
        for options in ({}, {"nonlinearity": "relu"}) for sequences in (True, False)}),
    "LSTM": recurrent("LSTM", return_sequences=False, configs={
        "sequences": recurrent("LSTM", return_sequences=True)}),
    "GRU": recurrent("GRU", return_sequences=True, configs={
        "last": recurrent("GRU", return_sequences=False)}),
    "RNNCell": recurrent("RNN", cell=True, nonlinearity="relu", configs={
        "tanh": recurrent("RNN", cell=True)}),
    "LSTMCell": recurrent("LSTM", cell=True),
    "GRUCell": recurrent("GRU", cell=True),
    "Bidirectional": Case(alike(lambda: layers.Bidirectional("layer", layers.LSTM("lstm", 3, 2))),
                          (2, 3, 3), lambda x, p: recurrent_reference.bidirectional(
                              "LSTM", x, recurrent_reference.sub_params(p, "lstm"),
                              recurrent_reference.sub_params(p, "lstm_reverse")),
                          configs={f"{kind}-{merge}-{'sequences' if sequences else 'last'}":
                                   bidirectional(kind, merge, sequences)
                                   for kind in ("RNN", "LSTM", "GRU") for merge in ("concat", "sum")
                                   for sequences in (True, False)}),
    "DotProductAttention": Case(lambda: layers.DotProductAttention("layer", causal=True),
                                Inputs((2, 3, 4), (2, 5, 4), (2, 5, 2)),
                                lambda x, p: attention_reference.dot_product_attention(
                                    *x, causal=True), configs=attentions()),
    "MultiHeadAttention": Case(alike(lambda: layers.MultiHeadAttention("layer", 4, 2)),
                               (2, 3, 4), lambda x, p: attention_reference.multi_head_attention(
                                   x, x, x, p, 2), configs=multi_heads()),
    "PositionalEncoding": Case(lambda: layers.PositionalEncoding("layer", 5, 3), (2, 4, 3),
                               lambda x, p: attention_reference.positional_encoding(x),
                               bad_shapes={
                                   (2, 6, 3): r"PositionalEncoding 'layer' encodes positions up "
                                              r"to max_len=5; got a sequence of 6 steps. Build "
                                              r"it with max_len >= 6",
                                   (2, 3): r"PositionalEncoding 'layer' expects input of shape "
                                           r"\(batch, T, 3\); got \(2, 3\)"},
                               configs={f"dim{dim}": Case(
                                   lambda dim=dim: layers.PositionalEncoding("layer", 8, dim),
                                   (2, 6, dim),
                                   lambda x, p: attention_reference.positional_encoding(x))
                                   for dim in (4, 5)}),
    "TransformerEncoderBlock": Case(
        alike(lambda: layers.TransformerEncoderBlock("layer", 4, 2, 6, causal=True)), (2, 3, 4),
        lambda x, p: attention_reference.transformer_block(x, p, 2, causal=True), configs={
            "6-3-10": transformer_block(), "6-3-10-causal": transformer_block(causal=True),
            "padding-mask": transformer_block(keep=np.array([[[True, True, False]],
                                                             [[True, False, False]]]))}),
}

# Parameters a layer's forward does not use, so its backward leaves their grad at zero: an
# RBM's visible bias enters only contrastive_divergence.
UNUSED_BY_FORWARD = {"RBM": {"bias_visible"}}

# Layers whose backward moves or sums the gradient alone, keeping no array of the forward's to
# meet it: a gradient from another backend or device passes through to the layer before them,
# which refuses it.
KEEP_NOTHING_FROM_FORWARD = {"Flatten", "AvgPool2D", "Pool2D", "GlobalAvgPool2D", "Concatenate",
                             "Permute", "Reshape", "PositionalEncoding"}


def pooled(batch):
    """The input MaxUnpool2D's pool pools before the unpool runs (the same for each batch)."""
    return np.random.default_rng(7).standard_normal((batch, 1, 4, 4))
