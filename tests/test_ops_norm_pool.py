"""The normalization and average-pooling operations on both paths (native where registered,
portable forced), on every backend, against NumPy loops in float64."""

import numpy as np
import pytest
import reference
from ops_paths import check_both, check_tuples, run_both

import tinyml
from tinyml.backend.ops import (
    _registry,
    avg_pool2d,
    avg_pool2d_backward,
    moment_sums,
    normalize,
)
from tinyml.testing import assert_close

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


@pytest.mark.parametrize("statistics", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 6, 9), (7, 5, 1)],
                         ids=["BatchNorm2D", "LayerNorm", "BatchNorm1D"])
def test_normalize_gives_the_moments_of_each_statistic(backend, shape, statistics):
    x = RNG.standard_normal(shape) * 3.0 + 1.5
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2), keepdims=True)
    inv_std = 1.0 / np.sqrt(var + 1e-5)
    expected = (x - mean, inv_std, inv_std, mean if statistics else None,
                var if statistics else None)
    check_tuples(backend, expected, normalize, tinyml.asarray(x), 1e-5, statistics=statistics)


def test_normalize_of_huge_values_agrees_on_both_paths(backend):
    """Past the overflow guard's bound both paths scale by the same powers of two."""
    x = RNG.standard_normal((3, 4, 5)) * 1e200
    x[:, 1] = RNG.standard_normal((3, 5))  # one ordinary statistic beside them
    native, portable = run_both(backend, normalize, tinyml.asarray(x), 1e-5)
    for moments in (native, portable):
        x_hat = moments.centered * moments.inv_spread
        largest = np.abs(x).max(axis=(0, 2), keepdims=True)  # the reference's own guard
        centered = x / largest - (x / largest).mean(axis=(0, 2), keepdims=True)
        want = centered / np.sqrt((centered**2).mean(axis=(0, 2), keepdims=True)
                                  + 1e-5 / largest**2)
        assert_close(x_hat, want, backend=backend, rtol=1e-10, atol=1e-12)
        assert_close(moments.mean, x.mean(axis=(0, 2), keepdims=True), backend=backend,
                     rtol=1e-10)


def test_normalize_refuses_another_rank(backend):
    with pytest.raises(ValueError, match=r"3-axis array \(A, B, S\)"):
        normalize(tinyml.asarray(np.zeros((2, 3))), 1e-5)


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
