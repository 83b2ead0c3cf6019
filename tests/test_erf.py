"""erf and erfc in standard calls (tinyml/backend/ops/erf.py), behind the exact GELU: against
math.erf and math.erfc on every backend, in float64 and float32, at the ends of Cody's
intervals, in the far tail, and for infinities and NaN."""

import math

import numpy as np
import pytest

import tinyml
from tinyml.backend import array_namespace
from tinyml.backend.ops.erf import erf, erfc, erfc_single

EDGES = np.array([0.46875, 4.0, 26.5, 26.6, 30.0])
ERF_POINTS = np.concatenate([
    np.linspace(-30.0, 30.0, 12001), np.logspace(-300, 1.45, 3001),
    -np.logspace(-300, 1.45, 3001), EDGES, -EDGES, np.nextafter(EDGES, 0.0),
    np.nextafter(EDGES, 40.0), -np.nextafter(EDGES, 0.0)])


def on_backend(function, x):
    array = tinyml.asarray(x)
    return tinyml.to_numpy(function(array, array_namespace(array))).astype(np.float64)


def test_erf_is_within_3_ulp_of_math_erf(backend):
    ours = on_backend(erf, ERF_POINTS)
    expected = np.array([math.erf(v) for v in ERF_POINTS])
    ulps = np.abs(ours - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 3.0, (ulps.max(), ERF_POINTS[ulps.argmax()])
    assert np.max(np.abs(ours - expected) / np.maximum(np.abs(expected), 1e-300)) < 5e-16


def test_erfc_has_relative_error_below_1e_15_wherever_it_is_normal(backend):
    ours = on_backend(erfc, ERF_POINTS)
    expected = np.array([math.erfc(v) for v in ERF_POINTS])
    normal = expected >= np.finfo(np.float64).tiny
    relative = np.abs(ours[normal] - expected[normal]) / expected[normal]
    assert relative.max() < 1e-15, (relative.max(), ERF_POINTS[normal][relative.argmax()])
    assert np.all(np.abs(ours[~normal] - expected[~normal]) <= 1e-320)  # the far tail, 0


def test_erf_in_float32_is_within_3_and_erfc_within_10_float32_ulp(backend32):
    x = np.linspace(-9.0, 9.0, 4001).astype(np.float32).astype(np.float64)
    for function, exact, bound in ((erf, math.erf, 3.0), (erfc, math.erfc, 10.0)):
        expected = np.array([exact(v) for v in x])
        normal = np.abs(expected) >= np.finfo(np.float32).tiny
        spacing = np.spacing(np.abs(expected[normal]).astype(np.float32)).astype(np.float64)
        ulps = np.abs(on_backend(function, x)[normal] - expected[normal]) / spacing
        assert ulps.max() <= bound, (function.__name__, ulps.max())


def test_erf_limits_symmetry_and_nan(backend):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, 1e-310])
    np.testing.assert_array_equal(on_backend(erf, x)[:4], [1.0, -1.0, np.nan, 0.0])
    np.testing.assert_array_equal(on_backend(erfc, x)[:4], [0.0, 2.0, np.nan, 1.0])
    assert on_backend(erf, x)[4] == pytest.approx(2.0 / math.sqrt(math.pi) * 1e-310, rel=1e-3)
    points = np.linspace(0.0, 8.0, 801)
    np.testing.assert_array_equal(on_backend(erf, -points), -on_backend(erf, points))
    np.testing.assert_allclose(on_backend(erfc, -points) + on_backend(erfc, points), 2.0,
                               rtol=1e-15)


def test_erfc_single_is_within_1_2e_7_relatively(backend):
    """Numerical Recipes' one-formula erfc, behind the float32 GELU: its fit's bound, seen in
    float64 (float32 rounding adds its own: tests/test_activation_op.py)."""
    a = np.linspace(0.0, 10.6, 4001)
    ours = on_backend(erfc_single, a)
    expected = np.array([math.erfc(v) for v in a])
    assert (np.abs(ours - expected) / expected).max() < 1.2e-7
