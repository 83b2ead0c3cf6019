"""What every layer promises, checked on every layer tinyml.layers exports.

LAYERS says how to build each exported layer class, the shape of a sample input and, for the
deterministic ones, a plain NumPy reference of its forward (tests/reference.py). A class that
is exported without an entry fails the first test, so a new layer cannot skip the contract.
A layer that takes a list of inputs (the merges) gives a list of shapes.
"""

import re
from typing import NamedTuple

import numpy as np
import pytest
import reference

import tinyml
from tinyml import layers
from tinyml.layers import (
    Add,
    Concatenate,
    Conv2D,
    Deconv2D,
    Dropout,
    Flatten,
    Layer,
    Linear,
    LogSoftmax,
    MaxPool2D,
    Multiply,
    Parallel,
    ReLu,
    Residual,
    Sigmoid,
    Softmax,
)
from tinyml.testing import assert_close, check_layer


class Case(NamedTuple):
    make: object  # () -> a fresh layer named "layer"
    shape: tuple  # a sample input's shape, batch first (a list of shapes: a list of inputs)
    reference: object = None  # (x, params) -> the expected forward, as check_layer takes it


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
}


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
    of inputs for a list of shapes."""
    if isinstance(shape, list):
        return [sample(each, batch) * (index + 1) for index, each in enumerate(shape)]
    shape = shape if batch is None else (batch, *shape[1:])
    return np.random.default_rng(0).standard_normal(shape)


def ones_int64(shape):
    return [ones_int64(each) for each in shape] if isinstance(shape, list) else np.ones(
        shape, dtype=np.int64)


def on_backend(x):
    """tinyml.asarray of a host input, or of each input of a list."""
    return [tinyml.asarray(each) for each in x] if isinstance(x, list) else tinyml.asarray(x)


@pytest.mark.parametrize("mode", ["full", "random"])
@pytest.mark.parametrize("kind", LAYERS)
def test_check_layer(backend, kind, mode):
    case = LAYERS[kind]
    check_layer(case.make(), sample(case.shape), reference=case.reference, mode=mode)


@pytest.mark.parametrize("kind", LAYERS)
def test_integer_input_is_refused_with_the_layer_named(backend, kind):
    case = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects floating-point input; got "):
        case.make().forward(on_backend(ones_int64(case.shape)))


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_before_forward(backend, kind):
    with pytest.raises(RuntimeError, match=rf"{kind} 'layer': backward\(\) called before"):
        LAYERS[kind].make().backward(tinyml.asarray(np.ones((2, 3))))


def forward_once(kind, batch=2):
    """(layer, host input, output) after one forward on standard-normal input."""
    layer, x = LAYERS[kind].make(), sample(LAYERS[kind].shape, batch)
    return layer, x, layer.forward(on_backend(x))


@pytest.mark.parametrize("kind", LAYERS)
def test_a_gradient_of_the_wrong_shape_is_refused(backend, kind):
    layer, _, output = forward_once(kind)
    wrong = (3, *output.shape[1:])
    with pytest.raises(ValueError, match=rf"{kind} 'layer': in_gradient has shape "
                                         rf"{re.escape(str(wrong))} but the last forward "
                                         rf"produced {re.escape(str(tuple(output.shape)))}"):
        layer.backward(tinyml.asarray(np.ones(wrong)))


def forward_twice(kind):
    """(layer, its output) after two forwards of the same input: two records for backward."""
    layer = LAYERS[kind].make()
    x = on_backend(sample(LAYERS[kind].shape))
    for _ in range(2):
        tinyml.seed(1)  # the same dropout mask both times
        output = layer.forward(x)
    return layer, output


@pytest.mark.parametrize("kind", [k for k in LAYERS if LAYERS[k].make().parameters()])
def test_backward_adds_into_grad(backend, kind):
    layer, output = forward_twice(kind)
    g = tinyml.asarray(np.random.default_rng(2).standard_normal(tuple(output.shape)))
    layer.backward(g)
    once = {p.name: tinyml.to_numpy(p.grad).copy() for p in layer.parameters()}
    assert all(np.abs(value).max() > 0 for value in once.values())
    layer.backward(g)
    for parameter in layer.parameters():
        assert_close(parameter.grad, 2 * once[parameter.name], backend=backend)


@pytest.mark.parametrize("kind", LAYERS)
def test_float32_stays_float32_through_backward(backend32, kind):
    layer, x, output = forward_once(kind)
    if LAYERS[kind].reference:  # to float32's tolerance
        params = {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}
        assert_close(output, LAYERS[kind].reference(x, params), backend=backend32)
    grad_in = layer.backward(tinyml.asarray(np.ones(tuple(output.shape))))
    for each in grad_in if isinstance(grad_in, list) else [grad_in]:
        assert output.dtype == each.dtype == backend32.dtype
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
    tinyml.seed(0)
    full, only = LAYERS[kind].make(), LAYERS[kind].make()
    only.load_state_dict(full.state_dict())  # the same weights: gradients may depend on them
    x = on_backend(sample(LAYERS[kind].shape, batch))
    for layer in (full, only):
        tinyml.seed(1)  # the same dropout mask for both
        output = layer.forward(x)
    g = tinyml.asarray(np.random.default_rng(1).standard_normal(tuple(output.shape)))
    full.backward(g)
    assert only.backward(g, input_gradient=False) is None
    assert only.pending_records == 0, "backward without the input gradient consumes the record"
    for name, parameter in full.named_parameters().items():
        assert_close(only.named_parameters()[name].grad, tinyml.to_numpy(parameter.grad),
                     backend=backend)
