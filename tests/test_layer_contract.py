"""What every layer promises, checked on all eight at once."""

import re

import numpy as np
import pytest

import tinyml
from tinyml.layers import (
    Conv2D,
    Deconv2D,
    Dropout,
    Flatten,
    Linear,
    MaxPool2D,
    ReLu,
    Softmax,
)
from tinyml.testing import assert_close

LAYERS = {
    "Linear": (lambda: Linear("layer", 4, 3), (2, 4)),
    "Conv2D": (lambda: Conv2D("layer", (1, 4, 4), 2, 3, 3, 1, 1), (2, 1, 4, 4)),
    "Deconv2D": (lambda: Deconv2D("layer", (1, 4, 4), 2, 2, 2, 2), (2, 1, 4, 4)),
    "MaxPool2D": (lambda: MaxPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4)),
    "Dropout": (lambda: Dropout("layer", 0.5), (2, 4)),
    "Flatten": (lambda: Flatten("layer"), (2, 1, 4, 4)),
    "ReLu": (lambda: ReLu("layer"), (2, 4)),
    "Softmax": (lambda: Softmax("layer"), (2, 4)),
}


@pytest.mark.parametrize("kind", LAYERS)
def test_integer_input_is_refused_with_the_layer_named(backend, kind):
    make, shape = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects floating-point input; got "):
        make().forward(tinyml.asarray(np.ones(shape, dtype=np.int64)))


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_before_forward(backend, kind):
    make, _ = LAYERS[kind]
    with pytest.raises(RuntimeError, match=rf"{kind} 'layer': backward\(\) called before"):
        make().backward(tinyml.asarray(np.ones((2, 3))))


def forward_once(kind, batch=2):
    """(layer, its output) after one forward on standard-normal input."""
    make, shape = LAYERS[kind]
    layer = make()
    x = tinyml.asarray(np.random.default_rng(0).standard_normal((batch, *shape[1:])))
    return layer, layer.forward(x)


@pytest.mark.parametrize("kind", LAYERS)
def test_a_gradient_of_the_wrong_shape_is_refused(backend, kind):
    layer, output = forward_once(kind)
    wrong = (3, *output.shape[1:])
    with pytest.raises(ValueError, match=rf"{kind} 'layer': in_gradient has shape "
                                         rf"{re.escape(str(wrong))} but the last forward "
                                         rf"produced {re.escape(str(tuple(output.shape)))}"):
        layer.backward(tinyml.asarray(np.ones(wrong)))


def forward_twice(kind):
    """(layer, its output) after two forwards of the same input: two records for backward."""
    make, shape = LAYERS[kind]
    layer = make()
    x = tinyml.asarray(np.random.default_rng(0).standard_normal(shape))
    for _ in range(2):
        tinyml.seed(1)  # the same dropout mask both times
        output = layer.forward(x)
    return layer, output


@pytest.mark.parametrize("kind", [k for k in LAYERS if LAYERS[k][0]().parameters()])
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
    layer, output = forward_once(kind)
    grad_in = layer.backward(tinyml.asarray(np.ones(tuple(output.shape))))
    assert output.dtype == grad_in.dtype == backend32.dtype
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
    make, shape = LAYERS[kind]
    shape = (batch, *shape[1:])
    tinyml.seed(0)
    full, only = make(), make()
    x = tinyml.asarray(np.random.default_rng(0).standard_normal(shape))
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
