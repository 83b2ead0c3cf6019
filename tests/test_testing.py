"""tinyml.testing's checks must be able to fail: every layer test leans on them.

assert_close and the gradient checks first; then check_layer, which must pass a layer that
keeps the contract and fail one that breaks any promise; then the random streams of a check.
"""

import contextlib

import numpy as np
import pytest

import tinyml
from tinyml.layers import Dropout, Layer, Linear, MaxPool2D, ReLu
from tinyml.testing import (
    assert_close,
    check_layer,
    check_layer_gradients,
    numerical_directional_derivative,
)


class Scale(Layer):
    """y = 3x, with a backward that can be broken on purpose."""

    def __init__(self, mistake=None):
        super().__init__("scale")
        self.mistake = mistake

    def forward(self, input):
        self._remember(None, output_shape=input.shape)
        return 3.0 * input

    def backward(self, in_gradient):
        self._recall(in_gradient)
        if self.mistake == "value":
            return 2.0 * in_gradient
        if self.mistake == "host":
            return tinyml.to_numpy(3.0 * in_gradient)
        if self.mistake == "shape":
            return 3.0 * in_gradient[:1, :]  # broadcasts on the host, but is the wrong shape
        return 3.0 * in_gradient


X = np.array([[0.5, -1.0], [2.0, 0.25]])


def test_a_correct_backward_passes(backend):
    grads = check_layer_gradients(Scale(), X, backend=backend)
    assert isinstance(grads["input"], np.ndarray) and grads["input"].shape == X.shape


@pytest.mark.parametrize("mode", ["full", "random"])
@pytest.mark.parametrize(("mistake", "match"), [("value", "disagrees with finite differences"),
                                                ("shape", "shape")])
def test_a_wrong_backward_fails(backend, mistake, match, mode):
    with pytest.raises(AssertionError, match=match):
        check_layer_gradients(Scale(mistake), X, backend=backend, mode=mode)


def test_a_gradient_that_left_the_backend_fails():
    pytest.importorskip("torch")
    with tinyml.use_backend("torch", dtype="float64") as torch_backend:
        with pytest.raises(AssertionError, match="array is on numpy, expected torch"):
            check_layer_gradients(Scale("host"), X, backend=torch_backend)


@pytest.mark.parametrize("mode", ["full", "random"])
def test_parameter_gradients_are_checked(backend, mode):
    layer = Linear("fc", 2, 2)
    original = layer.backward

    def forgets_the_bias(in_gradient):
        result = original(in_gradient)
        layer.bias.grad = layer.bias.grad * 0.0
        return result

    layer.backward = forgets_the_bias
    with pytest.raises(AssertionError, match="for bias"):
        check_layer_gradients(layer, X, backend=backend, mode=mode, directions=1)


def test_gradient_checks_leave_the_callers_random_streams(backend):
    """Each forward draws under use_seed(random_seed): the mask seed(0) gives, and afterwards
    the caller's streams go on as if no check had run."""
    layer = Dropout("drop", 0.5)
    tinyml.seed(0)
    mask = tinyml.to_numpy(layer.forward(backend.asarray(np.ones(X.shape)))) != 0
    tinyml.seed(3)
    first = tinyml.to_numpy(backend.uniform((4,)))
    grads = check_layer_gradients(layer, X, backend=backend)
    second = tinyml.to_numpy(backend.uniform((4,)))
    tinyml.seed(3)
    np.testing.assert_array_equal(np.concatenate([first, second]),
                                  tinyml.to_numpy(backend.uniform((8,))))
    np.testing.assert_array_equal(grads["input"] != 0, mask)


def test_assert_close_checks_where_before_what(backend):
    if backend.name == "numpy":
        pytest.skip("needs a backend other than numpy")
    with pytest.raises(AssertionError, match=f"array is on numpy, expected {backend.name}"):
        assert_close(np.ones(2), np.ones(2), backend=backend)
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(backend.asarray(np.ones(2), dtype="float32"), np.ones(2), backend=backend)


def test_the_directional_derivative_of_a_quadratic():
    x, v = np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.6, 0.8])
    slope = numerical_directional_derivative(lambda t: float(np.sum(t**2)), x, v)
    assert slope == pytest.approx(2 * float(x @ v), rel=1e-8)


def test_gradient_checks_refuse_float32(backend32):
    with pytest.raises(ValueError, match="gradient checks need a float64 backend"):
        check_layer_gradients(Scale(), X, backend=backend32)


@pytest.mark.parametrize(("mode", "directions", "error", "match"), [
    ("fast", 8, ValueError, "mode must be 'full' .* or 'random'"),
    ("random", 0, ValueError, "directions must be >= 1; got 0"),
    ("random", 2.0, TypeError, r"directions must be an int; got 2\.0"),
])
def test_bad_mode_or_directions(backend, mode, directions, error, match):
    with pytest.raises(error, match=match):
        check_layer_gradients(Scale(), X, backend=backend, mode=mode, directions=directions)


# ---------------------------------------------------------------- check_layer
class Affine(Layer):
    """y = w * x + b per feature, with a running mean (a Buffer) updated while training.

    Each `mistake` breaks one promise of the Layer contract.
    """

    def __init__(self, mistake=None, features=3):
        super().__init__("affine")
        self.mistake = mistake
        rng = np.random.default_rng(0)
        self.weight = tinyml.Parameter(tinyml.asarray(rng.standard_normal(features)))
        self.bias = tinyml.Parameter(tinyml.asarray(rng.standard_normal(features)))
        self.running_mean = tinyml.Buffer(tinyml.asarray(np.zeros(features)))

    def forward(self, input):
        xp = self._input_namespace(input)
        if self.training or self.mistake == "eval changes a buffer":
            self.running_mean.data = 0.9 * self.running_mean.data + 0.1 * xp.mean(input, axis=0)
        for _ in range(2 if self.mistake == "two records" else 1):
            self._remember(input, output_shape=input.shape)
        output = self.weight.data * input + self.bias.data
        return xp.astype(output, xp.float32) if self.mistake == "float32 output" else output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self._recall(in_gradient)
        weight_gradient = xp.sum(in_gradient * (1.0 if self.mistake == "weight" else input),
                                 axis=0)
        if self.mistake == "assigns":
            self.weight.grad = weight_gradient
        else:
            self.weight.grad += weight_gradient
        self.bias.grad += xp.sum(in_gradient, axis=0)
        if not input_gradient and self.mistake != "returns with input_gradient=False":
            return None
        return (2.0 if self.mistake == "input" else 1.0) * in_gradient * self.weight.data

    def output_shape(self, input_shape):
        return (*input_shape, 1) if self.mistake == "output_shape" else tuple(input_shape)


XA = np.random.default_rng(1).standard_normal((4, 3))


def affine_reference(x, params):
    return params["weight"] * x + params["bias"]


@pytest.mark.parametrize("mode", ["full", "random"])
def test_check_layer_passes_a_layer_that_keeps_the_contract(backend, mode):
    layer = Affine()
    result = check_layer(layer, XA, reference=affine_reference, mode=mode)
    weight = tinyml.to_numpy(layer.weight.data)
    np.testing.assert_allclose(result.output, affine_reference(XA, {"weight": weight,
                                                                    "bias": tinyml.to_numpy(
                                                                        layer.bias.data)}))
    np.testing.assert_allclose(result.gradients["input"], result.in_gradient * weight)
    np.testing.assert_allclose(result.gradients["weight"], np.sum(result.in_gradient * XA, 0))
    assert set(result.gradients) == {"input", "weight", "bias"}


def test_check_layer_leaves_the_layer_as_it_found_it(backend):
    layer = Affine().eval()
    buffer = layer.running_mean.data
    check_layer(layer, XA)
    assert not layer.training and layer.pending_records == 0  # its records dropped
    assert layer.running_mean.data is buffer
    assert_close(buffer, np.zeros(3), backend=backend)  # the training forwards updated it
    assert_close(layer.weight.grad, np.zeros(3), backend=backend)


BROKEN = {
    "input": "backward disagrees with finite differences for input",
    "weight": "backward disagrees with finite differences for weight",
    "float32 output": "the output of forward: dtype .*float32, expected float64",
    "eval changes a buffer": "forward in eval mode changed buffer 'running_mean'",
    "two records": r"a training-mode forward must keep one record for backward \(call "
                   r"self.save_for_backward\(..., output_shape=...\) once in forward\); it kept 2",
    "assigns": r"backward\(g, input_gradient=False\) must ADD the gradient .* for weight",
    "returns with input_gradient=False": r"input_gradient=False\) must return None; got",
    "output_shape": r"forward returned shape \(4, 3\) but output_shape\(\(4, 3\)\) promises "
                    r"\(4, 3, 1\)",
}


@pytest.mark.parametrize("mode", ["full", "random"])
@pytest.mark.parametrize("mistake", BROKEN)
def test_check_layer_fails_a_broken_layer(backend, mistake, mode):
    with pytest.raises(AssertionError, match=BROKEN[mistake]):
        check_layer(Affine(mistake), XA, mode=mode, directions=2)


def test_check_layer_fails_a_forward_the_reference_disagrees_with(backend):
    with pytest.raises(AssertionError, match="affine': forward disagrees with the reference"):
        check_layer(Affine(), XA, reference=lambda x, params: params["weight"] * x)


def test_check_layer_takes_a_net_and_its_dotted_keys(backend):
    net = tinyml.Net([Affine(), ReLu("relu"), Linear("fc", 3, 2)])
    result = check_layer(net, XA + 3.0, mode="random")  # + 3: ReLu's kink stays away
    assert set(result.gradients) == {"input", "affine.weight", "affine.bias", "fc.weight",
                                     "fc.bias"}


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"mode": "every"}, ValueError, "mode must be 'full'"),
    ({"mode": "random", "directions": -1}, ValueError, "directions must be >= 1"),
    ({"reference": np.ones(3)}, TypeError, "reference must be a function reference"),
])
def test_check_layer_refuses_bad_arguments(backend, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_layer(Affine(), XA, **kwargs)


def test_check_layer_needs_float64_and_floating_outputs(backend, backend32):
    with pytest.raises(ValueError, match="gradient checks need a float64 backend"):
        check_layer(ReLu("relu"), XA)
    with tinyml.use_backend(backend):
        pool = MaxPool2D("pool", (1, 2, 2), 2, 2, return_index=True)
        with pytest.raises(TypeError, match=r"check_layer differentiates every output; MaxPool2D "
                                            r"'pool' returned .*int64 values as output\[1\]"):
            check_layer(pool, np.ones((1, 1, 2, 2)))


# ---------------------------------------------------------------- layers of several inputs
class WeightedSum(Layer):
    """y = a + w * b for the list [a, b], with a backward that can be broken on purpose."""

    def __init__(self, mistake=None):
        super().__init__("wsum")
        self.mistake = mistake
        self.weight = tinyml.Parameter(tinyml.asarray(np.array([0.5, -2.0, 1.5])))

    def forward(self, input):
        a, b = input
        self._remember(b, output_shape=a.shape)
        return a + self.weight.data * b

    def output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def backward(self, in_gradient, *, input_gradient=True):
        xp, b = self._recall(in_gradient)
        self.weight.grad += xp.sum(in_gradient * b, axis=0)
        if not input_gradient:
            return None
        scale = 1.0 if self.mistake == "second input" else self.weight.data
        gradients = [in_gradient, scale * in_gradient]
        if self.mistake == "one gradient":
            return in_gradient
        return gradients[::-1] if self.mistake == "swapped" else gradients


XS = [np.random.default_rng(2).standard_normal((4, 3)), np.random.default_rng(3).standard_normal(
    (4, 3))]


@pytest.mark.parametrize("mode", ["full", "random"])
def test_check_layer_takes_a_list_of_inputs(backend, mode):
    result = check_layer(WeightedSum(), XS, mode=mode,
                         reference=lambda x, p: x[0] + p["weight"] * x[1])
    assert set(result.gradients) == {"input", "weight"}
    np.testing.assert_allclose(result.gradients["input"][0], result.in_gradient)
    np.testing.assert_allclose(result.gradients["input"][1],
                               result.in_gradient * np.array([0.5, -2.0, 1.5]))


@pytest.mark.parametrize("mode", ["full", "random"])
@pytest.mark.parametrize(("mistake", "match"), [
    ("second input", "backward disagrees with finite differences for input 1"),
    ("swapped", "backward disagrees with finite differences for input 0"),
    ("one gradient", "wsum': backward must return a list of 2 gradients, one per input; got"),
])
def test_check_layer_fails_a_wrong_gradient_for_one_input(backend, mistake, match, mode):
    with pytest.raises(AssertionError, match=match):
        check_layer(WeightedSum(mistake), XS, mode=mode, directions=2)


def test_a_nested_list_of_numbers_is_one_input(backend):
    result = check_layer(ReLu("relu"), [[1.0, -2.0], [3.0, 0.5]])
    assert isinstance(result.gradients["input"], np.ndarray)


# ---------------------------------------------------------------- the random streams of a check
def second_draw(backend, between=lambda: None):
    """The second of two draws from seed 5's stream, with `between` run between them."""
    tinyml.seed(5)
    backend.uniform((4,))
    between()
    return tinyml.to_numpy(backend.uniform((4,)))


def check_dropout(backend):
    return check_layer(Dropout("drop", 0.5), np.ones((3, 4)), backend=backend, random_seed=9)


def test_every_forward_of_a_check_runs_in_seeded_streams(backend, monkeypatch):
    from tinyml.testing import _seeding

    inside, seen = [], []
    real = _seeding.use_seed

    @contextlib.contextmanager
    def recording(n, *, rank=None):
        inside.append((n, rank))
        with real(n, rank=rank):
            yield
        inside.pop()

    class Probe(ReLu):
        def forward(self, input):
            seen.append(list(inside))
            return super().forward(input)

    monkeypatch.setattr(_seeding, "use_seed", recording)
    check_layer(Probe("probe"), XA + 3.0, random_seed=4)
    assert len(seen) > 3 and all(each == [(4, 0)] for each in seen)


def test_a_check_gives_the_caller_its_stream_back(backend):
    undisturbed = second_draw(backend)
    np.testing.assert_array_equal(second_draw(backend, lambda: check_dropout(backend)),
                                  undisturbed)
    gradient = check_dropout(backend).gradients["input"]
    assert (gradient == 0).any() and (gradient != 0).any(), "one mask for every forward"
