"""Linear: check_layer with a loop reference, the closed-form backward, and errors
(float32, accumulation and the rest of the contract: test_layer_contract.py)."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import Linear
from tinyml.testing import check_layer


def make_linear(batch, input_dim, output_dim, seed=0, name="fc"):
    """A Linear with random weight AND bias (a zero bias would hide bias bugs), and an input."""
    rng = np.random.default_rng(seed)
    layer = Linear(name, input_dim, output_dim)
    weight = rng.standard_normal((output_dim, input_dim))
    bias = rng.standard_normal(output_dim)
    layer.weight.data = tinyml.asarray(weight)
    layer.bias.data = tinyml.asarray(bias)
    return layer, rng.standard_normal((batch, input_dim)), weight, bias


def linear_reference(x, params):
    return reference.linear(x, params["weight"], params["bias"])


@pytest.mark.parametrize(("batch", "input_dim", "output_dim"),
                         [(4, 5, 3), (1, 7, 2), (3, 1, 1), (3, 4, 2), (1, 3, 3)])
def test_check_layer_and_the_backward_formulas(backend, batch, input_dim, output_dim):
    layer, x, weight, _ = make_linear(batch, input_dim, output_dim)
    result = check_layer(layer, x, reference=linear_reference)
    g = result.in_gradient  # besides finite differences, the closed forms
    np.testing.assert_allclose(result.gradients["input"], g @ weight, rtol=1e-10)
    np.testing.assert_allclose(result.gradients["weight"], g.T @ x, rtol=1e-10)
    np.testing.assert_allclose(result.gradients["bias"], g.sum(axis=0), rtol=1e-10)


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


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 1, 4), (2, 2, 3, 4)])
def test_leading_axes_are_kept_as_in_pytorch(backend, shape):
    """(batch, ..., 4) -> (batch, ..., 3): the same map at every step, gradients summed over
    every row of every leading axis."""
    x = np.random.default_rng(0).standard_normal(shape)
    layer = Linear("fc", 4, 3)
    assert layer.output_shape((None, *shape[1:])) == (None, *shape[1:-1], 3)
    check_layer(layer, x, reference=lambda x, p: x @ p["weight"].T + p["bias"])


def test_leading_axes_need_the_input_size_given():
    """A size left out is learnt from (batch, features) only: a forgotten Flatten after an
    image layer stays an error instead of a per-row map."""
    with pytest.raises(ValueError, match=r"Linear 'fc' expects input of shape \(batch, "
                                         r"features\); got \(batch, 8, 5\)\. Add a Flatten "
                                         r"before it\. \(Or give input_dim, Linear\('fc', 5, "
                                         r"10\), to apply it over the last axis\.\)"):
        tinyml.Net([Linear("fc", 10)], input_shape=(8, 5))
    net = tinyml.Net([Linear("fc", 5, 10)], input_shape=(8, 5))
    assert net.output_shape((None, 8, 5)) == (None, 8, 10)


def test_leading_axes_against_torch(backend):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 5, 4))
    layer = Linear("fc", 4, 3)
    twin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(tinyml.to_numpy(layer.weight.data), dtype=torch.float64))
        twin.bias.copy_(torch.tensor(tinyml.to_numpy(layer.bias.data), dtype=torch.float64))
    x_t = torch.tensor(x, requires_grad=True)
    g = np.random.default_rng(2).standard_normal((2, 5, 3))
    twin(x_t).backward(torch.tensor(g))
    y = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    tinyml.testing.assert_close(y, twin(x_t).detach().numpy())
    tinyml.testing.assert_close(dx, x_t.grad.numpy())
    tinyml.testing.assert_close(layer.weight.grad, twin.weight.grad.numpy())
    tinyml.testing.assert_close(layer.bias.grad, twin.bias.grad.numpy())
