"""tinyml.testing's checks must be able to fail: every layer test leans on them."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Dropout, Layer, Linear
from tinyml.testing import assert_close, check_layer_gradients


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


@pytest.mark.parametrize(("mistake", "match"), [("value", "disagrees with finite differences"),
                                                ("shape", "shape")])
def test_a_wrong_backward_fails(backend, mistake, match):
    with pytest.raises(AssertionError, match=match):
        check_layer_gradients(Scale(mistake), X, backend=backend)


def test_a_gradient_that_left_the_backend_fails():
    pytest.importorskip("torch")
    with tinyml.use_backend("torch", dtype="float64") as torch_backend:
        with pytest.raises(AssertionError, match="array is on numpy, expected torch"):
            check_layer_gradients(Scale("host"), X, backend=torch_backend)


def test_parameter_gradients_are_checked(backend):
    layer = Linear("fc", 2, 2)
    original = layer.backward

    def forgets_the_bias(in_gradient):
        result = original(in_gradient)
        layer.bias.grad = layer.bias.grad * 0.0
        return result

    layer.backward = forgets_the_bias
    with pytest.raises(AssertionError, match="for bias"):
        check_layer_gradients(layer, X, backend=backend)


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
