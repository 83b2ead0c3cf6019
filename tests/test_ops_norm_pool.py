"""The normalization and average-pooling operations on both paths (native where registered,
portable forced), on every backend, against NumPy loops in float64."""

import numpy as np
import pytest
from ops_paths import check_both

import tinyml
from tinyml.backend.ops import _registry, squared_norms

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
