"""Property tests of every layer on every backend: output shapes against each layer's documented
formula, and batch gradients against per-sample gradients.

Hypothesis draws the shapes and values (tests/property_strategies.py says how, and how many
examples each property runs). Both properties enumerate tinyml.layers' exported classes, as
tests/test_layer_contract.py does, so a new layer cannot skip them.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_strategies import (
    GRADIENT_PROPERTIES,
    SHAPE_PROPERTIES,
    float_arrays,
    fresh_streams,
    on_host,
)
from test_layer_contract import LAYERS, exported_layer_classes

from tinyml import layers
from tinyml.testing import Inputs, assert_close
from tinyml.testing.assertions import assert_on_backend
from tinyml.testing.structure import map_leaves

batches = st.integers(1, 3)
extents = st.integers(1, 6)


def fixed_input(backend, shape):
    """Standard-normal values of `shape` on `backend`, the same for every example."""
    return backend.asarray(np.random.default_rng(0).standard_normal(shape))


def ceil_div(a, b):
    return -(-a // b)


# ---------------------------------------------------------------------------- shape formulas
# Each strategy draws (make, input shape, expected output shape[, setup]) for random valid
# arguments: `make()` builds the layer, the expected shape is the formula of the layer's
# docstring, written out here, and `setup(layer, backend)` (when given) runs before the forward.
@st.composite
def dense_cases(draw, kind):
    """Linear and its kin: (N, in) -> (N, out)."""
    n, fan_in, fan_out = draw(batches), draw(extents), draw(extents)
    act = draw(st.sampled_from([None, "relu", "sigmoid", "softmax"]))
    make = {"Linear": lambda: layers.Linear("layer", fan_in, fan_out),
            "FullyConnected": lambda: layers.FullyConnected("layer", fan_in, fan_out, act_fn=act),
            "RBM": lambda: layers.RBM("layer", fan_in, fan_out),
            "SparseEvolution": lambda: layers.SparseEvolution("layer", fan_in, fan_out,
                                                              act_fn=act)}[kind]
    return make, (n, fan_in), (n, fan_out)


@st.composite
def conv2d_cases(draw):
    """OH = floor((H + 2p - d(kh - 1) - 1) / s) + 1 (the brief's (H + 2p - k) // s + 1 at
    d = 1), likewise OW; padding="same": OH = ceil(H / s)."""
    n, c, f = draw(batches), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw, stride, dilation = (draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                                draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = draw(st.integers(0, 2) | st.just("same"))
    pads = 0 if padding == "same" else padding
    h = draw(st.integers(max(1, dilation * (kh - 1) + 1 - 2 * pads), 9))
    w = draw(st.integers(max(1, dilation * (kw - 1) + 1 - 2 * pads), 9))
    if padding == "same":
        out = (ceil_div(h, stride), ceil_div(w, stride))
    else:
        out = tuple((size + 2 * padding - dilation * (k - 1) - 1) // stride + 1
                    for size, k in ((h, kh), (w, kw)))

    def make():
        return layers.Conv2D("layer", (c, h, w), f, kh, kw, stride, padding, dilation=dilation)
    return make, (n, c, h, w), (n, f, *out)


@st.composite
def conv1d_cases(draw):
    """OL = floor((L + left + right - d(K - 1) - 1) / s) + 1, with (left, right) = (p, p) for
    an int, the pair itself, (d(K - 1), 0) for "causal"; "same": OL = ceil(L / s)."""
    n, c, f = draw(batches), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["int", "pair", "same", "causal"]).flatmap(
        lambda form: {"int": st.integers(0, 2),
                      "pair": st.tuples(st.integers(0, 2), st.integers(0, 2))}.get(
            form, st.just(form))))
    sides = {"same": (0, 0), "causal": (dilation * (k - 1), 0)}.get(
        padding, padding if isinstance(padding, tuple) else (padding, padding))
    length = draw(st.integers(1, 10)) if padding == "same" else draw(
        st.integers(max(1, dilation * (k - 1) + 1 - sum(sides)), 10))
    out = (ceil_div(length, stride) if padding == "same" else
           (length + sum(sides) - dilation * (k - 1) - 1) // stride + 1)

    def make():
        return layers.Conv1D("layer", (c, length), f, k, stride=stride, padding=padding,
                             dilation=dilation)
    return make, (n, c, length), (n, f, out)


@st.composite
def deconv2d_cases(draw):
    """OH = (H - 1) s - 2p + d(kh - 1) + 1 (likewise OW), PyTorch's ConvTranspose2d."""
    n, c, f = draw(batches), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kh, kw, stride, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                                draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    full = [(size - 1) * stride + dilation * (k - 1) + 1 for size, k in ((h, kh), (w, kw))]
    padding = draw(st.integers(0, (min(full) - 1) // 2))

    def make():
        return layers.Deconv2D("layer", (c, h, w), f, kh, kw, stride, dilation=dilation,
                               padding=padding)
    return make, (n, c, h, w), (n, f, *(extent - 2 * padding for extent in full))


@st.composite
def pool_cases(draw, kind):
    """OH = floor((H - kh) / s) + 1 (likewise OW), no padding."""
    n, c = draw(batches), draw(st.integers(1, 3))
    size = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    kh, kw = size if isinstance(size, tuple) else (size, size)
    stride, h, w = draw(st.integers(1, 3)), draw(st.integers(kh, 8)), draw(st.integers(kw, 8))
    mode = draw(st.sampled_from(["max", "average"]))
    make = {"MaxPool2D": lambda: layers.MaxPool2D("layer", (c, h, w), size, stride),
            "AvgPool2D": lambda: layers.AvgPool2D("layer", (c, h, w), size, stride),
            "Pool2D": lambda: layers.Pool2D("layer", (c, h, w), size, stride, mode=mode)}[kind]
    return make, (n, c, h, w), (n, c, (h - kh) // stride + 1, (w - kw) // stride + 1)


@st.composite
def unpool_cases(draw):
    """MaxUnpool2D: the pool's output shape -> the pool's input shape. Its pool runs forward
    on an input of the pool's input shape first."""
    make_pool, pool_input, pooled = draw(pool_cases("MaxPool2D"))

    def make():
        return layers.MaxUnpool2D("layer", make_pool())

    def setup(layer, backend):
        layer.pool.forward(fixed_input(backend, pool_input))
    return make, pooled, pool_input, setup


@st.composite
def image_shapes(draw):
    return draw(batches), draw(st.integers(1, 3)), draw(extents), draw(extents)


@st.composite
def global_pool_cases(draw):
    """(N, C, H, W) -> (N, C)."""
    shape = draw(image_shapes())
    return lambda: layers.GlobalAvgPool2D("layer"), shape, shape[:2]


@st.composite
def flatten_cases(draw):
    """(N, d1, ..., dk) -> (N, d1 ... dk)."""
    shape = tuple(draw(st.lists(extents, min_size=2, max_size=5)))
    return lambda: layers.Flatten("layer"), shape, (shape[0], math.prod(shape[1:]))


any_shapes = st.lists(extents, min_size=2, max_size=4).map(tuple)


@st.composite
def same_shape_cases(draw, kind):
    """The layers that keep their input's shape, on any shape they accept."""
    if kind in ("Softmax", "LogSoftmax"):
        shape = draw(any_shapes)
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return lambda: getattr(layers, kind)("layer", axis=axis), shape, shape
    if kind == "Dropout":
        probability, shape = draw(st.floats(0.0, 0.9)), draw(any_shapes)
        return lambda: layers.Dropout("layer", probability), shape, shape
    if kind in ("BatchNorm1D", "BatchNorm2D"):  # training mode: a batch of at least two
        shape = (draw(st.integers(2, 4)), draw(extents))
        if kind == "BatchNorm2D":
            shape += (draw(extents), draw(extents))
        return lambda: getattr(layers, kind)("layer", shape[1]), shape, shape
    if kind == "LayerNorm1D":
        shape = tuple(draw(st.lists(extents, min_size=2, max_size=3)))
        return lambda: layers.LayerNorm1D("layer", shape[-1]), shape, shape
    if kind == "LayerNorm2D":
        shape = draw(image_shapes())
        return lambda: layers.LayerNorm2D("layer", shape[1:]), shape, shape
    if kind == "Residual":
        shape = (draw(batches), draw(extents))
        return (lambda: layers.Residual("layer", [layers.Linear("fc", shape[1], shape[1]),
                                                  layers.ReLu("relu")]), shape, shape)
    shape = draw(any_shapes)  # an elementwise activation, as LAYERS builds it
    return LAYERS[kind].make, shape, shape


@st.composite
def elementwise_merge_cases(draw, kind):
    """Add and Multiply: n inputs of one shape -> that shape (an activation keeps it)."""
    shape, count = draw(any_shapes), draw(st.integers(2, 3))
    act = draw(st.sampled_from([None, "relu", "tanh"]))
    return lambda: getattr(layers, kind)("layer", act_fn=act), [shape] * count, shape


@st.composite
def concatenate_cases(draw):
    """Inputs equal but along `axis` -> the sum of their extents along it."""
    shape, count = draw(any_shapes), draw(st.integers(2, 3))
    axis = draw(st.integers(1, len(shape) - 1))
    along = draw(st.lists(extents, min_size=count, max_size=count))
    inputs = [(*shape[:axis], extent, *shape[axis + 1:]) for extent in along]
    spelled = draw(st.sampled_from([axis, axis - len(shape)]))  # negative axes count too
    return (lambda: layers.Concatenate("layer", axis=spelled), inputs,
            (*shape[:axis], sum(along), *shape[axis + 1:]))


@st.composite
def parallel_cases(draw):
    """Branches Linear(F, a), ReLu and the identity, concatenated: (N, F) -> (N, a + 2F)."""
    n, features, width = draw(batches), draw(extents), draw(extents)

    def make():
        return layers.Parallel("layer", [[layers.Linear("fc", features, width)],
                                         [layers.ReLu("relu")], []], "concat")
    return make, (n, features), (n, width + 2 * features)


@st.composite
def embedding_cases(draw):
    """(N, T) integer indices -> (N, T, D); with pool "sum" or "mean", (N, D)."""
    n, steps, dim = draw(batches), draw(extents), draw(extents)
    vocab, pool = draw(st.integers(2, 6)), draw(st.sampled_from([None, "sum", "mean"]))

    def make():
        return layers.Embedding("layer", vocab, dim, pool=pool)
    return make, (n, steps), (n, steps, dim) if pool is None else (n, dim)


@st.composite
def permute_cases(draw):
    """(N, d_1, ..., d_k) -> (N, d_axes[0], ..., d_axes[k-1])."""
    shape = tuple(draw(st.lists(extents, min_size=2, max_size=4)))
    axes = tuple(draw(st.permutations(range(1, len(shape)))))
    return (lambda: layers.Permute("layer", axes), shape,
            (shape[0], *(shape[axis] for axis in axes)))


@st.composite
def reshape_cases(draw):
    """(N, d_1, ..., d_k) -> (N, *shape) with prod(shape) = d_1 ... d_k, a -1 inferred."""
    shape = tuple(draw(st.lists(extents, min_size=2, max_size=4)))
    if draw(st.booleans()):  # flat rows
        target = (math.prod(shape[1:]),)
    else:  # the extents reordered, perhaps with an axis of 1 added
        target = (*draw(st.permutations(shape[1:])), *[1] * draw(st.integers(0, 1)))
    spelled = list(target)
    if draw(st.booleans()):
        spelled[draw(st.integers(0, len(spelled) - 1))] = -1
    return lambda: layers.Reshape("layer", tuple(spelled)), shape, (shape[0], *target)


@st.composite
def recurrent_cases(draw, kind):
    """(N, T, F) -> (N, T, H), or (N, H) with return_sequences=False."""
    n, steps, features, hidden = draw(batches), draw(extents), draw(extents), draw(extents)
    sequences = draw(st.booleans())
    options = {"nonlinearity": draw(st.sampled_from(["tanh", "relu"]))} if kind == "RNN" else {}

    def make():
        return getattr(layers, kind)("layer", features, hidden, return_sequences=sequences,
                                     **options)
    return make, (n, steps, features), (n, steps, hidden) if sequences else (n, hidden)


@st.composite
def cell_cases(draw, kind):
    """(N, F), from the zero state -> h (N, H), or (h, c) for the LSTM cell."""
    n, features, hidden = draw(batches), draw(extents), draw(extents)
    out = (n, hidden)
    return (lambda: getattr(layers, kind)("layer", features, hidden), (n, features),
            (out, out) if kind == "LSTMCell" else out)


@st.composite
def bidirectional_cases(draw):
    """(N, T, F) -> (N, T, 2H) concatenated, (N, T, H) summed; (N, 2H) or (N, H) with the
    wrapped layer's return_sequences=False."""
    n, steps, features, hidden = draw(batches), draw(extents), draw(extents), draw(extents)
    kind, merge = draw(st.sampled_from(["RNN", "LSTM", "GRU"])), draw(st.sampled_from(
        ["concat", "sum"]))
    sequences = draw(st.booleans())
    width = 2 * hidden if merge == "concat" else hidden

    def make():
        inner = getattr(layers, kind)("inner", features, hidden, return_sequences=sequences)
        return layers.Bidirectional("layer", inner, merge=merge)
    return make, (n, steps, features), (n, steps, width) if sequences else (n, width)


@st.composite
def dot_product_attention_cases(draw):
    """q (N, [h,] T, d), k (N, [h,] S, d), v (N, [h,] S, e) -> (N, [h,] T, e); called with q
    alone (self-attention), q (N, [h,] T, d) -> (N, [h,] T, d)."""
    lead = (draw(batches),) + tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    t, s, d, e = (draw(extents) for _ in range(4))
    causal, scale = draw(st.booleans()), draw(st.sampled_from([True, False, 0.5]))

    def make():
        return layers.DotProductAttention("layer", scale=scale, causal=causal)
    if draw(st.booleans()):
        return make, Inputs((*lead, t, d)), (*lead, t, d)
    return make, Inputs((*lead, t, d), (*lead, s, d), (*lead, s, e)), (*lead, t, e)


@st.composite
def multi_head_attention_cases(draw):
    """query (N, T, E), key and value (N, S, E) -> (N, T, E), E = heads * per-head features;
    self-attention: x (N, T, E) -> (N, T, E)."""
    n, t, s = draw(batches), draw(extents), draw(extents)
    heads, per_head, causal = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.booleans())
    e = heads * per_head

    def make():
        return layers.MultiHeadAttention("layer", e, heads, causal=causal)
    if draw(st.booleans()):
        return make, (n, t, e), (n, t, e)
    return make, Inputs((n, t, e), (n, s, e), (n, s, e)), (n, t, e)


@st.composite
def sequence_cases(draw, kind):
    """PositionalEncoding (T <= max_len) and TransformerEncoderBlock: (N, T, E) -> the same."""
    n, t, heads, per_head = draw(batches), draw(extents), draw(st.integers(1, 3)), draw(extents)
    e = heads * per_head
    if kind == "PositionalEncoding":
        max_len = draw(st.integers(t, 8))
        return lambda: layers.PositionalEncoding("layer", max_len, e), (n, t, e), (n, t, e)
    hidden, causal = draw(extents), draw(st.booleans())
    return (lambda: layers.TransformerEncoderBlock("layer", e, heads, hidden, causal=causal),
            (n, t, e), (n, t, e))


SAME_SHAPE = ("Dropout", "BatchNorm1D", "BatchNorm2D", "LayerNorm1D", "LayerNorm2D",
              "Residual", "ReLu", "Sigmoid", "Softmax", "LogSoftmax", "Tanh", "LeakyReLU", "ELU",
              "SELU", "GELU", "SoftPlus", "HardSigmoid", "Exponential", "Identity", "Affine")
SHAPES = {
    **{kind: dense_cases(kind) for kind in ("Linear", "FullyConnected", "RBM",
                                            "SparseEvolution")},
    "Conv2D": conv2d_cases(),
    "Conv1D": conv1d_cases(),
    "Deconv2D": deconv2d_cases(),
    **{kind: pool_cases(kind) for kind in ("MaxPool2D", "AvgPool2D", "Pool2D")},
    "MaxUnpool2D": unpool_cases(),
    "GlobalAvgPool2D": global_pool_cases(),
    "Flatten": flatten_cases(),
    **{kind: same_shape_cases(kind) for kind in SAME_SHAPE},
    **{kind: elementwise_merge_cases(kind) for kind in ("Add", "Multiply")},
    "Concatenate": concatenate_cases(),
    "Parallel": parallel_cases(),
    "Embedding": embedding_cases(),
    "Permute": permute_cases(),
    "Reshape": reshape_cases(),
    **{kind: recurrent_cases(kind) for kind in ("RNN", "LSTM", "GRU")},
    **{kind: cell_cases(kind) for kind in ("RNNCell", "LSTMCell", "GRUCell")},
    "Bidirectional": bidirectional_cases(),
    "DotProductAttention": dot_product_attention_cases(),
    "MultiHeadAttention": multi_head_attention_cases(),
    **{kind: sequence_cases(kind) for kind in ("PositionalEncoding", "TransformerEncoderBlock")},
}


def test_every_exported_layer_has_a_shape_formula():
    missing = sorted(set(exported_layer_classes()) - set(SHAPES))
    assert not missing, (f"tinyml.layers exports {missing} with no strategy in SHAPES of "
                         "tests/test_properties_layers.py: add its output-shape formula")


@pytest.mark.parametrize("kind", SHAPES)
@SHAPE_PROPERTIES
@given(data=st.data())
def test_output_shape_and_forward_follow_the_formula(backend, kind, data):
    """layer.output_shape(input shape) and the forward's output both have the shape the
    layer's docstring gives, for random valid arguments and input shapes."""
    make, input_shape, expected, *setup = data.draw(SHAPES[kind], label="case")
    with fresh_streams():
        layer = make()
    assert type(layer).__name__ == kind
    assert tuple(promised_shape(layer, input_shape)) == tuple(expected)
    # The values do not change a shape: fixed ones, so hypothesis spends its examples on the
    # arguments and shapes.
    x = map_shapes(lambda shape: fixed_input(backend, shape), input_shape)
    if layer.takes_indices:  # ids 0 and 1: each strategy of such a layer has 2 or more
        x = backend.asarray(np.random.default_rng(0).integers(0, 2, input_shape))
    for each in setup:
        each(layer, backend)
    output = forward_of(layer, x)
    if isinstance(output, tuple):  # an LSTM cell's (h, c)
        assert len(output) == len(expected)
        for each, shape in zip(output, expected, strict=True):
            assert_on_backend(each, backend, shape=shape)
    else:
        assert_on_backend(output, backend, shape=expected)


# ---------------------------------------------------------------------------- batch gradients
# BatchNorm couples the samples in training mode (each is normalized with the batch's mean and
# variance, so one sample's gradient depends on the others'), and training-mode Dropout draws
# one mask for the whole batch's shape, so a sample alone draws another. Both run in eval mode
# here, where BatchNorm is a fixed affine map of the running statistics and Dropout the
# identity: per-sample layers, whose gradients this property must add up. (Training-mode
# Dropout's backward, g times the forward's mask, is tests/test_dropout.py's; BatchNorm's
# training-mode gradient is checked against central differences by the layer recipe.)
EVAL_MODE = {"Dropout", "BatchNorm1D", "BatchNorm2D"}


def map_shapes(fn, shape):
    """`fn` of each shape in a tree of shapes: a shape (a tuple of ints), a list or tuple of
    them (a list of inputs, an LSTM cell's state or output), or an Inputs of them."""
    if isinstance(shape, Inputs):
        return Inputs(*(map_shapes(fn, each) for each in shape.args))
    if all(isinstance(extent, int) for extent in shape):
        return fn(shape)
    return type(shape)(map_shapes(fn, each) for each in shape)


def promised_shape(layer, input_shape):
    """layer.output_shape of an input shape (each shape its own argument for an Inputs)."""
    if isinstance(input_shape, Inputs):
        return layer.output_shape(*input_shape.args)
    return layer.output_shape(input_shape)


def batch_of(case, batch):
    """The input shape(s) of `case` with `batch` rows."""
    return map_shapes(lambda shape: (batch, *shape[1:]), case.shape)


def output_shape_of(layer, shape):
    return layer.output_shape(*shape.args) if isinstance(shape, Inputs) else \
        layer.output_shape(shape)


def forward_of(layer, x):
    return layer.forward(*x.args) if isinstance(x, Inputs) else layer.forward(x)


def rows(x, start, stop):
    """Rows start:stop of an input (of each array of a list, a tuple or an Inputs)."""
    # the trailing ...: array_api_strict wants every axis of a multi-axis array indexed
    def cut(each):
        return each[start:stop, ...]
    return x.map(cut) if isinstance(x, Inputs) else map_leaves(cut, x)


def stacked(per_sample):
    """Per-sample host gradients joined back into one batch (one per input for a list or a
    tuple of them, as they were returned)."""
    first = per_sample[0]
    if first is None:
        return None
    if isinstance(first, (list, tuple)):
        return type(first)(stacked(list(parts)) for parts in zip(*per_sample, strict=True))
    return np.concatenate(per_sample)


def assert_close_each(actual, desired, backend, what):
    if isinstance(desired, (list, tuple)):
        assert isinstance(actual, type(desired)) and len(actual) == len(desired), what
        for index, (a, d) in enumerate(zip(actual, desired, strict=True)):
            assert_close_each(a, d, backend, f"{what} {index}")
    elif desired is None:
        assert actual is None, what
    else:
        assert_close(actual, desired, backend=backend, err_msg=what)


@pytest.mark.parametrize("kind", LAYERS)
@GRADIENT_PROPERTIES
@given(batch=st.integers(2, 4), data=st.data())
def test_batch_gradients_are_sums_of_per_sample_gradients(backend, kind, batch, data):
    """For an upstream gradient g, backward on the whole batch gives each parameter the sum of
    the gradients each sample gives alone with its row of g, and the input gradient's rows are
    the samples' own input gradients (and the forward's rows their own outputs)."""
    case = LAYERS[kind]
    with fresh_streams():
        layer = case.make()
    if kind in EVAL_MODE:
        layer.eval()
    shape = batch_of(case, batch)
    if case.takes_indices:  # integer input (its case's own), which has no gradient
        x = backend.asarray(case.sample(batch))
    else:
        x = map_shapes(lambda each: data.draw(float_arrays(backend, each), label="x"), shape)
    prepare = before_forward(kind, layer, batch, backend, data)
    g = map_shapes(lambda each: data.draw(float_arrays(backend, each), label="g"),
                   output_shape_of(layer, shape))

    prepare(0, batch)
    output = forward_of(layer, x)
    input_gradient = layer.backward(g)
    whole = {name: on_host(p.grad) for name, p in layer.named_parameters().items()}
    layer.zero_grad()
    outputs, input_gradients = [], []
    for row in range(batch):  # each backward adds into grad: the loop sums the samples'
        prepare(row, row + 1)
        outputs.append(on_host(forward_of(layer, rows(x, row, row + 1))))
        input_gradients.append(on_host(layer.backward(rows(g, row, row + 1))))

    assert_close_each(output, stacked(outputs), backend, "forward rows")
    assert_close_each(input_gradient, stacked(input_gradients), backend, "input gradient")
    for name, parameter in layer.named_parameters().items():
        assert_close(parameter.grad, whole[name], backend=backend, err_msg=name)


def before_forward(kind, layer, batch, backend, data):
    """What runs before each forward of rows start:stop: MaxUnpool2D's pool pools the same
    rows of one drawn pool input (so the unpool of a sample alone uses that sample's maxima);
    nothing for the other layers."""
    if kind != "MaxUnpool2D":
        return lambda start, stop: None
    pool_input = data.draw(float_arrays(backend, (batch, *layer.pool.input_dim)),
                           label="pool input")
    return lambda start, stop: layer.pool.forward(rows(pool_input, start, stop))
