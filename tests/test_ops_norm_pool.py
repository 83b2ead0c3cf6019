"""The normalization and average-pooling operations on both paths (native where registered,
portable forced), on every backend, against NumPy loops in float64."""

import numpy as np
import pytest
import reference
from ops_paths import check_both

import tinyml
from tinyml.backend.ops import _registry, avg_pool2d, avg_pool2d_backward, squared_norms

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """Natives by default, also in a run under TINYML_PORTABLE_OPS=1."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 4, 9), (1, 6, 1)])
def test_squared_norms_are_the_sums_of_squares_along_the_last_axis(backend, shape):
    v = RNG.standard_normal(shape)
    expected = np.array([[sum(float(value) ** 2 for value in row) for row in plane]
                         for plane in v.reshape(-1, *v.shape[-2:])]).reshape(shape[:-1]) \
        if len(shape) > 1 else np.float64(sum(float(value) ** 2 for value in v))
    check_both(backend, expected, squared_norms, tinyml.asarray(v))


def test_squared_norms_refuse_a_0d_array(backend):
    with pytest.raises(ValueError, match="at least one axis"):
        squared_norms(tinyml.asarray(np.float64(3.0)))


@pytest.mark.parametrize(("shape", "size", "stride"),
                         [((2, 3, 6, 6), (2, 2), 2), ((2, 2, 7, 7), (2, 2), 2),
                          ((1, 2, 7, 5), (3, 2), 1), ((2, 1, 7, 7), (3, 3), 2),
                          ((2, 1, 5, 5), (2, 2), 3)],
                         ids=["tiled", "a row and column left over", "overlapping 3x2",
                              "overlapping 3x3 s2", "apart"])
def test_average_pooling_backward_both_paths(backend, shape, size, stride):
    x = RNG.standard_normal(shape)
    pooled = reference.avg_pool2d(x, *size, stride)
    g = RNG.standard_normal(pooled.shape)
    check_both(backend, reference.avg_pool2d_backward(shape, g, *size, stride),
               avg_pool2d_backward, tinyml.asarray(g), shape, size, stride=stride)
    check_both(backend, pooled, avg_pool2d, tinyml.asarray(x), size, stride=stride)


def test_average_pooling_backward_refuses_a_gradient_of_another_shape(backend):
    with pytest.raises(ValueError, match=r"expects g of shape \(1, 2, 3, 3\)"):
        avg_pool2d_backward(tinyml.asarray(np.zeros((1, 2, 2, 2))), (1, 2, 6, 6), (2, 2),
                            stride=2)
