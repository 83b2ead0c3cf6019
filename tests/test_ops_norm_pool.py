"""The normalization and average-pooling operations on both paths (native where registered,
portable forced), on every backend, against NumPy loops in float64."""

import numpy as np
import pytest
import reference
from ops_paths import check_both

import tinyml
from tinyml.backend.ops import _registry, avg_pool2d, avg_pool2d_backward, moment_sums

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """Natives by default, also in a run under TINYML_PORTABLE_OPS=1."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 6, 9), (7, 5, 1), (1, 4, 1)],
                         ids=["BatchNorm2D", "LayerNorm", "BatchNorm1D", "one of each"])
@pytest.mark.parametrize("squared", [False, True])
def test_moment_sums_over_the_first_and_last_axes(backend, shape, squared):
    v = RNG.standard_normal(shape)
    terms = v * v if squared else v
    expected = np.array([sum(float(terms[a, b, s]) for a in range(shape[0])
                             for s in range(shape[2])) for b in range(shape[1])])
    check_both(backend, expected, moment_sums, tinyml.asarray(v), squared=squared)


def test_moment_sums_refuse_another_rank(backend):
    with pytest.raises(ValueError, match=r"3-axis array \(A, B, S\)"):
        moment_sums(tinyml.asarray(np.zeros((2, 3))))


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
