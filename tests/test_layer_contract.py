"""What every layer promises, checked on every layer tinyml.layers exports.

LAYERS says how to build each exported layer class, the shape of a sample input and, for the
deterministic ones, a plain NumPy reference of its forward (tests/reference.py). A class that
is exported without an entry fails the first test, so a new layer cannot skip the contract.
A layer that takes a list of inputs (the merges) gives a list of shapes; a layer of several
inputs (a recurrent cell's x and state, attention's q, k, v) gives an Inputs of shapes (a tuple
of shapes for a tuple state), and a layer of integer inputs (an embedding) its own `sample`.
"""

import re
from typing import NamedTuple

import attention_reference
import normalization_reference
import numpy as np
import pointwise_reference
import pytest
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
    Layer,
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
from tinyml.testing import Inputs, assert_close, check_layer
from tinyml.testing.structure import forward_args, leaves


class Case(NamedTuple):
    make: object  # () -> a fresh layer named "layer"
    shape: tuple  # a sample input's shape, batch first (a list of shapes: a list of inputs)
    reference: object = None  # (x, params) -> the expected forward, as check_layer takes it
    trains_on_one: bool = True  # False: a training batch of one sample is a ValueError
    setup: object = None  # (layer, host x) -> None, run before the layer first sees x
    sample: object = None  # (batch or None) -> host input, instead of standard normal `shape`
    takes_indices: bool = False  # its input is integer indices: floating input is refused


def alike(build):
    """`build` drawing from fresh streams of seed 0, so each call makes the same layer: two
    layers whose parameter gradients depend on their weights (an activation after a linear map)
    must be equal for test_input_gradient_false_adds_what_backward_adds to compare them."""
    def make():
        with tinyml.use_seed(0):
            return build()
    return make


LAYERS = {
    "Linear": Case(lambda: Linear("layer", 4, 3), (2, 4),
                   lambda x, p: reference.linear(x, p["weight"], p["bias"])),
    "Conv2D": Case(lambda: Conv2D("layer", (1, 4, 4), 2, 3, 2, 2, 1), (2, 1, 4, 4),
                   lambda x, p: reference.conv2d(x, p["weight"], p["bias"], 2, 1)),
    "Deconv2D": Case(lambda: Deconv2D("layer", (1, 4, 4), 2, 2, 2, 2, dilation=2, padding=1),
                     (2, 1, 4, 4), lambda x, p: reference.conv_transpose2d(
                         x, p["weight"], p["bias"], stride=2, padding=1, dilation=2)),
    "MaxPool2D": Case(lambda: MaxPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.max_pool2d(x, 2, 2, 2)[0]),
    "Dropout": Case(lambda: Dropout("layer", 0.5), (2, 4)),
    "Flatten": Case(lambda: Flatten("layer"), (2, 1, 4, 4), lambda x, p: reference.flatten(x)),
    "ReLu": Case(lambda: ReLu("layer"), (2, 4), lambda x, p: reference.relu(x)),
    "Softmax": Case(lambda: Softmax("layer"), (2, 4), lambda x, p: reference.softmax(x)),
    "LogSoftmax": Case(lambda: LogSoftmax("layer"), (2, 4),
                       lambda x, p: np.log(reference.softmax(x))),
    "Sigmoid": Case(lambda: Sigmoid("layer"), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(-x))),
    "Tanh": Case(lambda: layers.Tanh("layer"), (2, 4),
                 pointwise_reference.elementwise(pointwise_reference.tanh)),
    "LeakyReLU": Case(lambda: layers.LeakyReLU("layer", alpha=0.1), (2, 4),
                      pointwise_reference.elementwise(pointwise_reference.leaky_relu(0.1))),
    "ELU": Case(lambda: layers.ELU("layer", alpha=0.7), (2, 4),
                pointwise_reference.elementwise(pointwise_reference.elu(0.7))),
    "SELU": Case(lambda: layers.SELU("layer"), (2, 4), pointwise_reference.elementwise(
        pointwise_reference.elu(pointwise_reference.SELU_ALPHA, pointwise_reference.SELU_SCALE))),
    "GELU": Case(lambda: layers.GELU("layer"), (2, 4),
                 pointwise_reference.elementwise(pointwise_reference.gelu)),
    "SoftPlus": Case(lambda: layers.SoftPlus("layer"), (2, 4),
                     pointwise_reference.elementwise(pointwise_reference.softplus)),
    "HardSigmoid": Case(lambda: layers.HardSigmoid("layer"), (2, 4),
                        pointwise_reference.elementwise(pointwise_reference.hard_sigmoid)),
    "Exponential": Case(lambda: layers.Exponential("layer"), (2, 4), lambda x, p: np.exp(x)),
    "Identity": Case(lambda: layers.Identity("layer"), (2, 4), lambda x, p: x),
    "Affine": Case(lambda: layers.Affine("layer", slope=-2.0, intercept=0.5), (2, 4),
                   lambda x, p: -2.0 * x + 0.5),
    "FullyConnected": Case(alike(lambda: FullyConnected("layer", 4, 3, act_fn="sigmoid")), (2, 4),
                           lambda x, p: 1.0 / (1.0 + np.exp(-reference.linear(
                               x, p["weight"], p["bias"])))),
    "RBM": Case(alike(lambda: RBM("layer", 4, 3)), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(
        -reference.linear(x, p["weight"], p["bias_hidden"])))),
    "SparseEvolution": Case(alike(lambda: SparseEvolution("layer", 4, 3, epsilon=0.5)), (2, 4),
                            lambda x, p: reference.linear(x, p["weight"] * p["mask"], p["bias"])),
    "BatchNorm1D": Case(lambda: BatchNorm1D("layer", 4), (3, 4), lambda x, p:
                        normalization_reference.batch_norm(x, p["weight"], p["bias"]),
                        trains_on_one=False),
    "BatchNorm2D": Case(lambda: BatchNorm2D("layer", 2), (2, 2, 3, 3), lambda x, p:
                        normalization_reference.batch_norm(x, p["weight"], p["bias"]),
                        trains_on_one=False),
    "LayerNorm1D": Case(lambda: LayerNorm1D("layer", 4), (2, 3, 4), lambda x, p:
                        normalization_reference.layer_norm(x, p["weight"], p["bias"])),
    "LayerNorm2D": Case(lambda: LayerNorm2D("layer", (2, 3, 3)), (2, 2, 3, 3), lambda x, p:
                        normalization_reference.group_norm_one_group(x, p["weight"], p["bias"])),
    "Conv1D": Case(lambda: Conv1D("layer", (2, 6), 3, 4, padding="same"), (2, 2, 6),
                   lambda x, p: reference.conv1d(x, p["weight"], p["bias"], pads=(1, 2))),
    "AvgPool2D": Case(lambda: AvgPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.avg_pool2d(x, 2, 2, 2)),
    "Pool2D": Case(lambda: Pool2D("layer", (1, 5, 4), (3, 2), 1, mode="average"), (2, 1, 5, 4),
                   lambda x, p: reference.avg_pool2d(x, 3, 2, 1)),
    "GlobalAvgPool2D": Case(lambda: GlobalAvgPool2D("layer"), (2, 3, 2, 3),
                            lambda x, p: reference.global_avg_pool2d(x)),
    # its pool must have pooled a batch of x's size first: the setup runs it on pooled(batch)
    "MaxUnpool2D": Case(lambda: MaxUnpool2D("layer", MaxPool2D("pool", (1, 4, 4), 2, 2)),
                        (2, 1, 2, 2),
                        lambda x, p: reference.max_unpool2d(x, pooled(len(x)), 2, 2, 2),
                        setup=lambda layer, x: layer.pool.forward(tinyml.asarray(pooled(len(x))))),
    "Add": Case(lambda: Add("layer", act_fn="relu"), [(2, 4), (2, 4), (2, 4)],
                lambda x, p: reference.relu(x[0] + x[1] + x[2])),
    "Multiply": Case(lambda: Multiply("layer"), [(2, 4), (2, 4), (2, 4)],
                     lambda x, p: x[0] * x[1] * x[2]),
    "Concatenate": Case(lambda: Concatenate("layer"), [(2, 3, 2), (2, 1, 2)],
                        lambda x, p: np.concatenate(x, axis=1)),
    "Residual": Case(lambda: Residual("layer", [Linear("fc", 4, 4), ReLu("relu")]), (2, 4),
                     lambda x, p: x + reference.relu(
                         reference.linear(x, p["fc.weight"], p["fc.bias"]))),
    "Parallel": Case(lambda: Parallel("layer", [[Linear("fc", 4, 3)], [ReLu("relu")], []],
                                      "concat"), (2, 4),
                     lambda x, p: np.concatenate(
                         [reference.linear(x, p["fc.weight"], p["fc.bias"]),
                          reference.relu(x), x], axis=1)),
    # 8 ids from a vocabulary of 5: repeated indices, whose gradients must accumulate
    "Embedding": Case(lambda: layers.Embedding("layer", 5, 3), (2, 4),
                      lambda x, p: p["weight"][x], takes_indices=True,
                      sample=lambda batch: np.random.default_rng(0).integers(0, 5, (batch or 2,
                                                                                    4))),
    "Permute": Case(lambda: layers.Permute("layer", (2, 1)), (2, 3, 4),
                    lambda x, p: np.transpose(x, (0, 2, 1))),
    "Reshape": Case(lambda: layers.Reshape("layer", (-1, 2)), (2, 3, 4),
                    lambda x, p: x.reshape(len(x), 6, 2)),
    "RNN": Case(alike(lambda: layers.RNN("layer", 3, 4)), (2, 3, 3),
                lambda x, p: recurrent_reference.sequence("RNN", x, p)),
    "LSTM": Case(alike(lambda: layers.LSTM("layer", 3, 4, return_sequences=False)), (2, 3, 3),
                 lambda x, p: recurrent_reference.sequence("LSTM", x, p, return_sequences=False)),
    "GRU": Case(alike(lambda: layers.GRU("layer", 3, 4)), (2, 3, 3),
                lambda x, p: recurrent_reference.sequence("GRU", x, p)),
    "RNNCell": Case(alike(lambda: layers.RNNCell("layer", 3, 4, nonlinearity="relu")),
                    Inputs((2, 3), (2, 4)), lambda x, p: recurrent_reference.step(
                        "RNN", *x, p, nonlinearity="relu")),
    "LSTMCell": Case(alike(lambda: layers.LSTMCell("layer", 3, 4)),
                     Inputs((2, 3), ((2, 4), (2, 4))),
                     lambda x, p: recurrent_reference.step("LSTM", *x, p)),
    "GRUCell": Case(alike(lambda: layers.GRUCell("layer", 3, 4)), Inputs((2, 3), (2, 4)),
                    lambda x, p: recurrent_reference.step("GRU", *x, p)),
    "Bidirectional": Case(alike(lambda: layers.Bidirectional("layer", layers.LSTM("lstm", 3, 2))),
                          (2, 3, 3), lambda x, p: recurrent_reference.bidirectional(
                              "LSTM", x, recurrent_reference.sub_params(p, "lstm"),
                              recurrent_reference.sub_params(p, "lstm_reverse"))),
    "DotProductAttention": Case(lambda: layers.DotProductAttention("layer", causal=True),
                                Inputs((2, 3, 4), (2, 5, 4), (2, 5, 2)),
                                lambda x, p: attention_reference.dot_product_attention(
                                    *x, causal=True)),
    "MultiHeadAttention": Case(alike(lambda: layers.MultiHeadAttention("layer", 4, 2)),
                               (2, 3, 4), lambda x, p: attention_reference.multi_head_attention(
                                   x, x, x, p, 2)),
    "PositionalEncoding": Case(lambda: layers.PositionalEncoding("layer", 5, 3), (2, 4, 3),
                               lambda x, p: attention_reference.positional_encoding(x)),
    "TransformerEncoderBlock": Case(
        alike(lambda: layers.TransformerEncoderBlock("layer", 4, 2, 6, causal=True)), (2, 3, 4),
        lambda x, p: attention_reference.transformer_block(x, p, 2, causal=True)),
}

# Parameters a layer's forward does not use, so its backward leaves their grad at zero: an
# RBM's visible bias enters only contrastive_divergence.
UNUSED_BY_FORWARD = {"RBM": {"bias_visible"}}


def pooled(batch):
    """The input MaxUnpool2D's pool pools before the unpool runs (the same for each batch)."""
    return np.random.default_rng(7).standard_normal((batch, 1, 4, 4))


def build(kind, x):
    """A fresh layer of `kind`, its case's setup run for the host input `x`."""
    layer = LAYERS[kind].make()
    if LAYERS[kind].setup is not None:
        LAYERS[kind].setup(layer, x)
    return layer


def exported_layer_classes():
    """{class name: class} of every Layer subclass in tinyml.layers.__all__ (aliases once)."""
    exported = (getattr(layers, name) for name in layers.__all__)
    return {cls.__name__: cls for cls in exported
            if isinstance(cls, type) and issubclass(cls, Layer) and cls is not Layer}


def test_every_exported_layer_has_an_entry():
    missing = sorted(set(exported_layer_classes()) - set(LAYERS))
    assert not missing, (f"tinyml.layers exports {missing} with no entry in LAYERS of "
                         "tests/test_layer_contract.py: add how to build one and a sample "
                         "input shape")
    stale = sorted(set(LAYERS) - set(exported_layer_classes()))
    assert not stale, f"LAYERS has entries for {stale}, which tinyml.layers does not export"
    for kind, case in LAYERS.items():
        assert type(case.make()) is exported_layer_classes()[kind], f"LAYERS[{kind!r}]"


def sample(shape, batch=None):
    """Standard-normal host input of `shape` (with `batch` rows instead, when given); a list
    of inputs for a list of shapes, an Inputs of arrays for an Inputs of shapes."""
    if isinstance(shape, Inputs):
        return Inputs(*(sample(each, batch) for each in shape.args))
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):  # a tuple state
        return tuple(sample(each, batch) * (index + 1) for index, each in enumerate(shape))
    if isinstance(shape, list):
        return [sample(each, batch) * (index + 1) for index, each in enumerate(shape)]
    shape = shape if batch is None else (batch, *shape[1:])
    return np.random.default_rng(0).standard_normal(shape)


def case_input(kind, batch=None):
    """The host input a test gives the layer of `kind`: its case's own sample, or standard
    normal values of its shape."""
    case = LAYERS[kind]
    return case.sample(batch) if case.sample is not None else sample(case.shape, batch)


def ones_int64(shape):
    if isinstance(shape, Inputs):
        return Inputs(*(ones_int64(each) for each in shape.args))
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return tuple(ones_int64(each) for each in shape)
    return [ones_int64(each) for each in shape] if isinstance(shape, list) else np.ones(
        shape, dtype=np.int64)


def on_backend(x):
    """tinyml.asarray of a host input, of each input of a list, of each array of an Inputs."""
    if isinstance(x, Inputs):
        return x.map(tinyml.asarray)
    return [tinyml.asarray(each) for each in x] if isinstance(x, list) else tinyml.asarray(x)


def call(layer, x):
    """``layer.forward`` of host input `x` moved to the backend (all the arguments of an
    Inputs)."""
    moved = on_backend(x)
    if isinstance(moved, Inputs):
        return layer.forward(*moved.args, **moved.kwargs)
    return layer.forward(moved)


def like_output(output, fill):
    """`fill(shape)` on the backend for each array of `output` (a tuple for a tuple output)."""
    if isinstance(output, tuple):
        return tuple(like_output(each, fill) for each in output)
    return tinyml.asarray(fill(tuple(output.shape)))


def gradient_leaves(gradient):
    """The arrays of what backward returned (None for an integer input: no arrays)."""
    return [each for _, each in leaves(gradient)]


@pytest.mark.parametrize("mode", ["full", "random"])
@pytest.mark.parametrize("kind", LAYERS)
def test_check_layer(backend, kind, mode):
    case, x = LAYERS[kind], case_input(kind)
    check_layer(build(kind, x), x, reference=case.reference, mode=mode)


@pytest.mark.parametrize("kind", [kind for kind in LAYERS if not LAYERS[kind].takes_indices])
def test_integer_input_is_refused_with_the_layer_named(backend, kind):
    case = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects floating-point input; got "):
        call(case.make(), ones_int64(case.shape))


@pytest.mark.parametrize("kind", [kind for kind in LAYERS if LAYERS[kind].takes_indices])
def test_floating_input_is_refused_where_indices_are_expected(backend, kind):
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects integer indices"):
        call(LAYERS[kind].make(), sample(LAYERS[kind].shape))


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_before_forward(backend, kind):
    with pytest.raises(RuntimeError, match=rf"{kind} 'layer': backward\(\) called before"):
        LAYERS[kind].make().backward(tinyml.asarray(np.ones((2, 3))))


def forward_once(kind, batch=2):
    """(layer, host input, output) after one forward on the case's input."""
    x = case_input(kind, batch)
    layer = build(kind, x)
    return layer, x, call(layer, x)


@pytest.mark.parametrize("kind", LAYERS)
def test_a_gradient_of_the_wrong_shape_is_refused(backend, kind):
    layer, _, output = forward_once(kind)
    first, where = (output[0], r"in_gradient\[0\]") if isinstance(output, tuple) else (
        output, "in_gradient")
    wrong = (3, *first.shape[1:])
    gradient = like_output(output, np.ones)
    gradient = ((tinyml.asarray(np.ones(wrong)), *gradient[1:]) if isinstance(output, tuple)
                else tinyml.asarray(np.ones(wrong)))
    with pytest.raises(ValueError, match=rf"{kind} 'layer': {where} has shape "
                                         rf"{re.escape(str(wrong))} but the last forward "
                                         rf"produced {re.escape(str(tuple(first.shape)))}"):
        layer.backward(gradient)


def forward_twice(kind):
    """(layer, its output) after two forwards of the same input: two records for backward."""
    x = case_input(kind)
    layer = build(kind, x)
    for _ in range(2):
        tinyml.seed(1)  # the same dropout mask both times
        output = call(layer, x)
    return layer, output


@pytest.mark.parametrize("kind", [k for k in LAYERS if LAYERS[k].make().parameters()])
def test_backward_adds_into_grad(backend, kind):
    layer, output = forward_twice(kind)
    g = like_output(output, np.random.default_rng(2).standard_normal)
    layer.backward(g)
    # keyed by dotted name: two sub-layers (Bidirectional's directions) have a "weight_ih" each
    once = {key: tinyml.to_numpy(p.grad).copy() for key, p in layer.named_parameters().items()}
    assert all(np.abs(value).max() > 0 for name, value in once.items()
               if name not in UNUSED_BY_FORWARD.get(kind, ()))
    layer.backward(g)
    for key, parameter in layer.named_parameters().items():
        assert_close(parameter.grad, 2 * once[key], backend=backend, err_msg=key)


@pytest.mark.parametrize("kind", LAYERS)
def test_float32_stays_float32_through_backward(backend32, kind):
    layer, x, output = forward_once(kind)
    if LAYERS[kind].reference:  # to float32's tolerance
        params = {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}
        expected = LAYERS[kind].reference(forward_args(x) if isinstance(x, Inputs) else x,
                                          params)
        for got, want in zip(gradient_leaves(output), expected if isinstance(output, tuple)
                             else [expected], strict=True):
            assert_close(got, want, backend=backend32)
    grad_in = layer.backward(like_output(output, np.ones))
    for each in [*gradient_leaves(grad_in), *gradient_leaves(output)]:
        assert each.dtype == backend32.dtype
    assert all(p.grad.dtype == p.data.dtype == backend32.dtype for p in layer.parameters())


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_layer_needs_a_name(name):
    with pytest.raises(TypeError, match="a layer's name must be a non-empty string"):
        ReLu(name)


def test_a_dot_in_a_name_would_break_state_dict_keys():
    with pytest.raises(ValueError, match="must not contain '.'"):
        Linear("fc.1", 2, 2)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("batch", [1, 2])
def test_input_gradient_false_adds_what_backward_adds(backend, kind, batch):
    if batch == 1 and not LAYERS[kind].trains_on_one:  # BatchNorm: no batch statistics
        with pytest.raises(ValueError, match=rf"{kind} 'layer': a training batch of one sample"):
            call(LAYERS[kind].make(), case_input(kind, batch))
        return
    tinyml.seed(0)
    x = case_input(kind, batch)
    full, only = build(kind, x), build(kind, x)
    only.load_state_dict(full.state_dict())  # the same weights: gradients may depend on them
    for layer in (full, only):
        tinyml.seed(1)  # the same dropout mask for both
        output = call(layer, x)
    g = like_output(output, np.random.default_rng(1).standard_normal)
    full.backward(g)
    assert only.backward(g, input_gradient=False) is None
    assert only.pending_records == 0, "backward without the input gradient consumes the record"
    for name, parameter in full.named_parameters().items():
        assert_close(only.named_parameters()[name].grad, tinyml.to_numpy(parameter.grad),
                     backend=backend)
