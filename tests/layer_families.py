"""Builders of layer specifications (tests/layer_specs.py) for families of configurations:
dense maps, convolutions, pooling, normalization, activations and containers; each returns a
Case with a NumPy reference and, where PyTorch has the function, its twin."""

import normalization_reference
import numpy as np
import pointwise_reference as R
import reference
from layer_case import Case, alike, functional, random_parameters

import tinyml
from tinyml import Net
from tinyml.layers import (
    RBM,
    Add,
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Conv1D,
    Conv2D,
    Deconv2D,
    FullyConnected,
    LayerNorm1D,
    Linear,
    MaxPool2D,
    MaxUnpool2D,
    Parallel,
    Pool2D,
    ReLu,
    Residual,
    Sigmoid,
    SparseEvolution,
)


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


def window(size):
    """(kh, kw) of a pool's size: an int for a square window, or a pair."""
    return (size, size) if isinstance(size, int) else size


def distinct_input(shape, seed=0):
    """Values at least 0.05 apart: no pooling window holds a tie, and finite differences of
    a maximum are exact."""
    order = np.random.default_rng(seed).permutation(int(np.prod(shape)))
    return order.reshape(shape) * 0.05 - 1.0


def distinct(shape):
    """A sample (of `batch` rows, when given) of distinct_input of `shape`."""
    return lambda batch: distinct_input(shape if batch is None else (batch, *shape[1:]))


def pool2d(cls, config, **options):
    """A MaxPool2D, AvgPool2D or Pool2D case of (N, C, H, W, size, stride)."""
    n, c, h, w, size, stride = config
    kh, kw = window(size)
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
    act, twin = ACTIVATIONS[act_fn]
    return Case(lambda: FullyConnected("layer", 5, 4, act_fn=act_fn), (batch, 5),
                lambda x, p: act(reference.linear(x, p["weight"], p["bias"])),
                setup=random_parameters, torch=lambda torch, p, x: twin(
                    torch, torch.nn.functional.linear(x, p["weight"], p["bias"])))


ACTIVATIONS = {  # act_fn: (numpy, torch)
    None: (lambda z: z, lambda torch, z: z),
    "relu": (reference.relu, lambda torch, z: torch.relu(z)),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda torch, z: torch.sigmoid(z)),
}


def rbm(draw):
    """An RBM of 6 visible and 4 hidden units, random weights and biases (the visible ones
    too), on 5 samples from `draw(rng, shape)`: its forward is the hidden probabilities."""
    sigmoid = ACTIVATIONS["sigmoid"]
    return Case(alike(lambda: RBM("layer", 6, 4)), (5, 6),
                lambda v, p: sigmoid[0](reference.linear(v, p["weight"], p["bias_hidden"])),
                setup=random_parameters, sample=lambda batch: draw(
                    np.random.default_rng(0), (batch or 5, 6)),
                torch=lambda torch, p, v: sigmoid[1](torch, torch.nn.functional.linear(
                    v, p["weight"], p["bias_hidden"])))


def sparse_evolution(act_fn):
    """A SparseEvolution of 9 of 20 connections, then `act_fn`, with a weight at every position
    (the masked ones too: the forward must mask them) and a random bias."""
    act = ACTIVATIONS[act_fn][0]
    return Case(alike(lambda: SparseEvolution("layer", 5, 4, epsilon=1, act_fn=act_fn)), (3, 5),
                lambda x, p: act(reference.linear(x, p["weight"] * p["mask"], p["bias"])),
                setup=random_parameters)


def max_unpool2d(config, pool=MaxPool2D):
    """A MaxUnpool2D case of (N, C, H, W, size, stride) after a MaxPool2D (or a Pool2D in max
    mode). Its pool first pools an ascending input: every window's maximum is its own
    bottom-right pixel, so no two windows share one (where PyTorch's max_unpool2d keeps one
    value and tinyml adds them)."""
    n, c, h, w, size, stride = config
    kh, kw = window(size)

    def pooled_input(batch):
        return np.arange(batch * c * h * w, dtype=np.float64).reshape(batch, c, h, w)

    def twin(torch, p, z):
        _, indices = torch.nn.functional.max_pool2d(torch.tensor(pooled_input(len(z))),
                                                    (kh, kw), stride, return_indices=True)
        return torch.nn.functional.max_unpool2d(z, indices, (kh, kw), stride, output_size=(h, w))
    mode = {"mode": "max"} if pool is Pool2D else {}
    return Case(lambda: MaxUnpool2D("layer", pool("pool", (c, h, w), size, stride, **mode)),
                (n, c, (h - kh) // stride + 1, (w - kw) // stride + 1),
                lambda z, p: reference.max_unpool2d(z, pooled_input(len(z)), kh, kw, stride),
                setup=lambda layer, z: layer.pool.forward(tinyml.asarray(pooled_input(len(z)))),
                torch=twin)


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


def merge_refusals(kind):
    """{id: (inputs, error, regex)}: what a merge of `kind` refuses, each with its fix."""
    ones = np.ones
    refusals = {
        "one-array": (ones((2, 3)), TypeError, rf"{kind} 'layer' takes a list of arrays, one per "
                                               r"input; got .*use it as the merge of a Parallel"),
        "one-input": ([ones((2, 3))], ValueError, rf"{kind} 'layer' merges at least two inputs; "
                                                  r"got 1$"),
        "integer-input-1": ([ones((2, 3)), ones((2, 3), dtype=np.int64)], TypeError,
                            rf"{kind} 'layer' expects floating-point input; got .*int64 for "
                            r"input 1"),
        "ranks": ([ones((2, 4)), ones((2, 4, 1))], ValueError,
                  r"input 0 has shape \(2, 4\) and input 1 \(2, 4, 1\)")}
    if kind == "Concatenate":
        return {**refusals, "off-axis": ([ones((2, 3, 4)), ones((2, 1, 5))], ValueError,
                                         r"Concatenate 'layer' needs inputs of one shape but "
                                         r"along axis 1; input 0 has shape \(2, 3, 4\) and "
                                         r"input 1 \(2, 1, 5\)"),
                "axis-out-of-range": ([ones(2), ones(2)], ValueError,
                                      r"Concatenate 'layer': axis 1 is out of range for inputs "
                                      r"of 1 dimensions")}
    return {**refusals, "third-shape": ([ones((2, 4)), ones((2, 4)), ones((2, 3))], ValueError,
                                        rf"{kind} 'layer' needs inputs of one shape; input 0 has "
                                        r"shape \(2, 4\) and input 2 \(2, 3\)")}


def nested_residual():
    """x + head(x + sigmoid(fc x)): a Residual holding a Residual that holds a named Net."""
    sigmoid = ACTIVATIONS["sigmoid"]

    def inner(x, p, torch=None):
        act = sigmoid[0] if torch is None else lambda z: sigmoid[1](torch, z)
        return x + act(dense(x, p, "inner.block.fc", torch))
    return Case(lambda: Residual("layer", [
        Residual("inner", [Net([Linear("fc", 3, 3), Sigmoid("sig")], name="block")]),
        Linear("head", 3, 3)]), (2, 3), lambda x, p: x + dense(inner(x, p), p, "head"),
        setup=random_parameters, torch=lambda torch, p, x: x + dense(
            inner(x, p, torch), p, "head", torch))


def shared_branches():
    """relu(shared x) * shared(pre x): one Linear in both branches, two records per forward."""
    def make():
        shared = Linear("shared", 3, 3)
        return Parallel("layer", [[shared, ReLu("relu")], [Linear("pre", 3, 3), shared]],
                        "multiply")
    return Case(make, (2, 3), lambda x, p: reference.relu(dense(x, p, "shared")) * dense(
        dense(x, p, "pre"), p, "shared"), setup=random_parameters,
        torch=lambda torch, p, x: torch.relu(dense(x, p, "shared", torch)) * dense(
            dense(x, p, "pre", torch), p, "shared", torch))


MAX_POOLS = {  # MaxPool2D's configurations, (N, C, H, W, size, stride)
    "2x2-stride2": (2, 2, 4, 4, 2, 2),
    "batch1-overlapping": (1, 3, 5, 5, 3, 1),
    "nonsquare-overlapping-remainder": (2, 1, 5, 7, (2, 3), 2),
    "3x3-stride2-overlapping": (1, 2, 6, 5, 3, 2),
    "1x2-stride1": (1, 1, 3, 4, (1, 2), 1),
}

UNPOOLS = {  # MaxUnpool2D's, of its pool
    "2x2-stride2": (2, 2, 4, 4, 2, 2),
    "remainder": (1, 2, 5, 7, 2, 2),
    "nonsquare-stride3": (2, 1, 6, 6, (2, 3), 3),
    "overlapping": (1, 2, 5, 5, 3, 1),
    "overlapping-nonsquare": (2, 1, 6, 5, (3, 2), 2),
}

POOLS = {  # AvgPool2D's and Pool2D's, (N, C, H, W, size, stride)
    "2x2-stride2": (2, 2, 4, 4, 2, 2),
    "batch1-overlapping": (1, 3, 5, 5, 3, 1),
    "nonsquare-overlapping-remainder": (2, 1, 5, 7, (2, 3), 2),
    "stride-larger-than-window": (1, 2, 7, 7, 2, 3),
    "1x1": (1, 1, 3, 4, 1, 1),
}
