"""Linear: forward against a loop reference, backward against finite differences, errors."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import Linear
from tinyml.testing import assert_close, check_layer_gradients


def make_linear(batch, input_dim, output_dim, seed=0, name="fc"):
    """A Linear with random weight AND bias (a zero bias would hide bias bugs), and an input."""
    rng = np.random.default_rng(seed)
    layer = Linear(name, input_dim, output_dim)
    weight = rng.standard_normal((output_dim, input_dim))
    bias = rng.standard_normal(output_dim)
    layer.weight.data = tinyml.asarray(weight)
    layer.bias.data = tinyml.asarray(bias)
    return layer, rng.standard_normal((batch, input_dim)), weight, bias


@pytest.mark.parametrize(("batch", "input_dim", "output_dim"), [(4, 5, 3), (1, 7, 2), (3, 1, 1)])
def test_forward_matches_reference(backend, batch, input_dim, output_dim):
    layer, x, weight, bias = make_linear(batch, input_dim, output_dim)
    assert_close(layer.forward(tinyml.asarray(x)), reference.linear(x, weight, bias),
                 backend=backend)


@pytest.mark.parametrize(("batch", "input_dim", "output_dim"), [(3, 4, 2), (1, 3, 3)])
def test_backward_matches_finite_differences(backend, batch, input_dim, output_dim):
    layer, x, _, _ = make_linear(batch, input_dim, output_dim)
    grads = check_layer_gradients(layer, x, backend=backend)
    assert set(grads) == {"input", "weight", "bias"}


def test_backward_formulas_and_accumulation(backend):
    layer, x, weight, _ = make_linear(3, 4, 2)
    g = np.random.default_rng(1).standard_normal((3, 2))
    layer.forward(tinyml.asarray(x))
    layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    assert_close(dx, g @ weight, backend=backend)
    layer.backward(tinyml.asarray(g))  # a second backward ADDS: the gradients double
    assert_close(layer.weight.grad, 2 * g.T @ x, backend=backend)
    assert_close(layer.bias.grad, 2 * g.sum(axis=0), backend=backend)


def test_float32_stays_float32(backend32):
    layer, x, weight, bias = make_linear(3, 4, 2)
    y = layer.forward(tinyml.asarray(x))
    assert_close(y, reference.linear(x, weight, bias), backend=backend32)
    dx = layer.backward(tinyml.asarray(np.ones((3, 2))))
    assert dx.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == backend32.dtype


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((32, 28, 28), r"Linear 'fc1' expects input of shape \(batch, 784\); got \(32, 28, 28\)\. "
                       r"Add a Flatten before it\."),
        ((32, 783), r"expects input of shape \(batch, 784\); got \(32, 783\)\.$"),
        ((784,), r"expects input of shape \(batch, 784\); got \(784,\)\.$"),
    ],
)
def test_wrong_input_shape_names_layer_and_fix(backend, shape, match):
    layer = Linear("fc1", 784, 10)
    with pytest.raises(ValueError, match=match):
        layer.forward(tinyml.asarray(np.zeros(shape)))


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("fc", 0, 3), ValueError, r"Linear 'fc': input_dim must be >= 1; got 0"),
        (("fc", 4, -2), ValueError, r"output_dim must be >= 1; got -2"),
        (("fc", 2.5, 3), TypeError, r"input_dim must be an int; got 2\.5"),
        (("fc", True, 3), TypeError, r"input_dim must be an int; got True"),
        (("fc", 4, "3"), TypeError, r"output_dim must be an int; got '3'"),
        (("", 4, 3), TypeError, r"name must be a non-empty string"),
        (("fc.1", 4, 3), ValueError, r"must not contain '\.'"),
    ],
)
def test_bad_constructor_arguments(args, error, match):
    with pytest.raises(error, match=match):
        Linear(*args)


def test_unknown_initializer():
    with pytest.raises(ValueError, match="unknown initializer 'uniform'"):
        Linear("fc", 4, 3, init="uniform")


def test_mixed_backends_and_devices_are_refused():
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        layer, x, _, _ = make_linear(2, 4, 3)
    with pytest.raises(TypeError, match=r"Linear 'fc': parameter 'weight' lives on "
                                        r"array_api_strict .* but input lives on numpy"):
        layer.forward(np.asarray(x))
    with tinyml.use_backend("array_api_strict", dtype="float64"):  # the default CPU_DEVICE
        x_elsewhere = tinyml.asarray(x)
    with pytest.raises(ValueError, match=r"parameter 'weight' lives on array_api_strict "
                                         r".*device1.* net\.to"):
        layer.forward(x_elsewhere)
