"""The backend operation ``activation`` (tinyml/backend/ops/activations.py): on every backend,
each kind's native (numpy, torch) gives the portable form's numbers, forward and backward, in
float64 and float32, at the kinks, for large inputs, and its backward is the one of its own
path; bad kinds and options are refused."""

import math

import numpy as np
import pytest
from ops_paths import NATIVES

import tinyml
from tinyml.backend import portable_ops, to_numpy
from tinyml.backend.ops import _registry, activation
from tinyml.backend.ops.activations import KINDS
from tinyml.layers.elementwise import SELU_ALPHA, SELU_SCALE
from tinyml.testing import assert_close

CONFIGS = {  # id -> (kind, options)
    "relu": ("relu", {}),
    "sigmoid": ("sigmoid", {}),
    "tanh": ("tanh", {}),
    "leaky_relu": ("leaky_relu", {"alpha": 0.3}),
    "leaky_relu-0": ("leaky_relu", {"alpha": 0.0}),
    "elu": ("elu", {"alpha": 1.0, "scale": 1.0}),
    "elu-0.5": ("elu", {"alpha": 0.5, "scale": 1.0}),
    "selu": ("elu", {"alpha": SELU_ALPHA, "scale": SELU_SCALE}),
    "gelu": ("gelu", {"approximate": False}),
    "gelu-tanh": ("gelu", {"approximate": True}),
    "softplus": ("softplus", {}),
    "hard_sigmoid": ("hard_sigmoid", {}),
    "exponential": ("exponential", {}),
}
RNG = np.random.default_rng(0)
KINKS = [0.0, 1e-9, -1e-9, 2.5, -2.5, 0.6629, -5.657, 20.5, -20.5, 45.0, -45.0, 90.0, -90.0,
         -745.0, 300.0, -300.0]
X = np.concatenate([3.0 * RNG.standard_normal(200), KINKS]).reshape(8, -1)
G = RNG.standard_normal(X.shape)
# How far the two paths may differ: float64, to rounding; float32, a few float32 ulp (PyTorch's
# kernels round differently from the standard-call formulas).
TOLERANCE = {"float64": {"rtol": 1e-12, "atol": 1e-12}, "float32": {"rtol": 3e-6, "atol": 1e-6}}


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """Natives by default here, also in a run under TINYML_PORTABLE_OPS=1."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


def forward_backward(x, g, kind, options):
    """(y, dx) on the host, the backward taken from the same call's path."""
    y, backward = activation(x, kind=kind, **options)
    return to_numpy(y).astype(np.float64), to_numpy(backward(g)).astype(np.float64)


def both_paths(backend, kind, options):
    x, g = tinyml.asarray(X), tinyml.asarray(G)
    expected = backend.name if backend.name in NATIVES["activation"] else "portable"
    assert activation.implementation_for(x) == expected
    native = forward_backward(x, g, kind, options)
    with portable_ops():
        assert activation.implementation_for(x) == "portable"
        portable = forward_backward(x, g, kind, options)
    return native, portable


def exp_overflows(kind, dtype):
    """Exponential overflows by definition: compare it where it is finite."""
    return kind == "exponential" and dtype == "float32"


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_native_gives_the_portable_numbers(backend, config, dtype):
    kind, options = CONFIGS[config]
    with tinyml.use_backend(backend, dtype=dtype) as active, np.errstate(over="ignore"):
        (y, dx), (y_portable, dx_portable) = both_paths(active, kind, options)
    finite = np.isfinite(y_portable)
    if not exp_overflows(kind, dtype) and kind != "exponential":
        assert finite.all(), config
    np.testing.assert_allclose(y[finite], y_portable[finite], err_msg=f"{config} forward",
                               **TOLERANCE[dtype])
    np.testing.assert_allclose(dx[finite], dx_portable[finite], err_msg=f"{config} backward",
                               **TOLERANCE[dtype])


@pytest.mark.parametrize("config", ["relu", "gelu", "selu", "sigmoid", "softplus"])
def test_each_path_keeps_its_own_backward(backend, config):
    """A backward taken from a native forward runs the native backward, even where the
    portable path is forced by the time it is called (and the other way round)."""
    kind, options = CONFIGS[config]
    x, g = tinyml.asarray(X), tinyml.asarray(G)
    y, backward = activation(x, kind=kind, **options)
    with portable_ops():
        y_portable, backward_portable = activation(x, kind=kind, **options)
        from_native = backward(g)
    from_portable = backward_portable(g)
    assert_close(from_native, to_numpy(from_portable), backend=backend, rtol=1e-12, atol=1e-12)


def test_gelu_float32_matches_the_exact_phi_to_float32_precision(backend32):
    """The float32 GELU of the portable form (and the numpy native, which gives its numbers),
    Numerical Recipes' erfc: within 2e-6 of x Phi(x) relatively where Phi(x) > 1e-6, 2e-5 down
    to Phi(x) = 1e-30. (The torch native is PyTorch's gelu, whose 1 + erf loses the relative
    accuracy of the lower tail: test_native_gives_the_portable_numbers bounds its absolute
    error.)"""
    x = np.linspace(-13.0, 15.0, 20001).astype(np.float32).astype(np.float64)
    with portable_ops():
        y, _ = forward_backward(tinyml.asarray(x), tinyml.asarray(np.ones_like(x)), "gelu",
                                {"approximate": False})
    phi = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    relative = np.abs(y - x * phi) / np.maximum(np.abs(x * phi), 1e-30)
    assert relative[phi > 1e-6].max() < 2e-6
    assert relative[(phi > 1e-30)].max() < 2e-5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"kind": "swish"}, ValueError, r"activation: unknown kind 'swish'; choose one of elu, "),
     ({"kind": "elu", "alpha": 1.0}, TypeError,
      r"activation: kind 'elu' takes the options alpha, scale; got alpha"),
     ({"kind": "relu", "alpha": 1.0}, TypeError,
      r"activation: kind 'relu' takes the options none; got alpha")],
)
def test_bad_kind_or_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        activation(tinyml.asarray(X), **kwargs)


def test_every_kind_is_tested():
    assert {kind for kind, _ in CONFIGS.values()} == set(KINDS)
