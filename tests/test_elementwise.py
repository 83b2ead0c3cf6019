"""The elementwise activations (tinyml/layers/elementwise.py) where their math is delicate: at
and beside the kinks (PyTorch's subgradients, PyTorch itself, float32), large inputs, documented
departures from PyTorch, and bad arguments. Their configurations, PyTorch twins away from the
kinks and the rest of the contract: tests/layer_specs.py, test_layer_contract.py; the operation
they compute with, its native and portable paths: test_activation_op.py; act_fn by name:
test_act_fn.py."""

import copy
import math
import warnings
from typing import NamedTuple

import numpy as np
import pointwise_reference as R
import pytest

import tinyml
from tinyml.layers import (
    ELU,
    GELU,
    SELU,
    Affine,
    Exponential,
    HardSigmoid,
    Identity,
    LeakyReLU,
    ReLU,
    ReLu,
    Sigmoid,
    SoftPlus,
    Tanh,
)
from tinyml.testing import assert_close


class Act(NamedTuple):
    make: object  # () -> a fresh layer named "act"
    f: object  # f(v) for one Python float
    slope: object  # f'(v), PyTorch's subgradient at a kink
    torch: object = None  # (torch, tensor) -> the same function in torch, where it has it


CASES = {
    "Tanh": Act(lambda: Tanh("act"), R.tanh, R.tanh_slope, torch=lambda torch, t: t.tanh()),
    "LeakyReLU": Act(lambda: LeakyReLU("act"), R.leaky_relu(0.3), R.leaky_relu_slope(0.3),
                     lambda torch, t: torch.nn.functional.leaky_relu(t, 0.3)),
    "LeakyReLU-0.05": Act(lambda: LeakyReLU("act", alpha=0.05), R.leaky_relu(0.05),
                          R.leaky_relu_slope(0.05),
                          lambda torch, t: torch.nn.functional.leaky_relu(t, 0.05)),
    "ELU": Act(lambda: ELU("act"), R.elu(1.0), R.elu_slope(1.0),
               lambda torch, t: torch.nn.functional.elu(t)),
    "ELU-0.5": Act(lambda: ELU("act", alpha=0.5), R.elu(0.5), R.elu_slope(0.5),
                   lambda torch, t: torch.nn.functional.elu(t, alpha=0.5)),
    "SELU": Act(lambda: SELU("act"), R.elu(R.SELU_ALPHA, R.SELU_SCALE),
                R.elu_slope(R.SELU_ALPHA, R.SELU_SCALE),
                lambda torch, t: torch.nn.functional.selu(t)),
    "GELU": Act(lambda: GELU("act"), R.gelu, R.gelu_slope,
                torch=lambda torch, t: torch.nn.functional.gelu(t)),
    "GELU-tanh": Act(lambda: GELU("act", approximate=True), R.gelu_tanh, R.gelu_tanh_slope,
                     torch=lambda torch, t: torch.nn.functional.gelu(t, approximate="tanh")),
    "SoftPlus": Act(lambda: SoftPlus("act"), R.softplus, R.logistic,
                    torch=lambda torch, t: torch.nn.functional.softplus(t)),
    # PyTorch's hardsigmoid is clip(x/6 + 1/2, 0, 1): numpy-ml's is that of 1.2 x.
    "HardSigmoid": Act(lambda: HardSigmoid("act"), R.hard_sigmoid, R.hard_sigmoid_slope,
                       lambda torch, t: torch.nn.functional.hardsigmoid(1.2 * t)),
    "Exponential": Act(lambda: Exponential("act"), math.exp, math.exp,
                       torch=lambda torch, t: t.exp()),
    "Identity": Act(lambda: Identity("act"), R.affine(1.0, 0.0), R.constant(1.0)),
    "Affine": Act(lambda: Affine("act"), R.affine(1.0, 0.0), R.constant(1.0)),
    "Affine-2": Act(lambda: Affine("act", slope=-1.5, intercept=0.25), R.affine(-1.5, 0.25),
                    R.constant(-1.5)),
}
WITH_TORCH = [kind for kind, case in CASES.items() if case.torch]
BOUNDED = [kind for kind in CASES if kind != "Exponential"]  # finite for any finite input
# Both sides of, and exactly on, every kink; the ends of erf's intervals (0.46875 and 4 / sqrt 2
# for GELU's argument x / sqrt 2, i.e. 0.6629 and 5.657).
AT_KINKS = np.array([[-6.0, -5.657, -3.0, -2.5 - 1e-9, -2.5, -2.5 + 1e-9, -1.0, -0.6629],
                     [-1e-9, 0.0, 1e-9, 0.6629, 1.0, 2.5 - 1e-9, 2.5, 2.5 + 1e-9],
                     [3.0, 5.657, 6.0, 12.0, -12.0, 19.5, -19.5, 0.25]])
LARGE = np.array([[-1e300, -1e4, -800.0, -40.0, -20.0], [0.0, 20.0, 40.0, 800.0, 1e300]])
LARGE32 = np.array([[-1e38, -1e4, -100.0, -40.0, -20.0], [0.0, 20.0, 40.0, 100.0, 1e38]])


@pytest.fixture
def numpy64():
    """NumPy in float64, for the tests that compare one backend's numbers with torch's."""
    with tinyml.use_backend("numpy", dtype="float64"):
        yield


def forward_backward(layer, x, g=None):
    """(host output, host input gradient) of one training forward and backward."""
    y = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(np.ones(x.shape) if g is None else g))
    return y, dx


# ---------------------------------------------------------------- forward and backward


@pytest.mark.parametrize("kind", CASES)
def test_backward_is_g_times_the_slope_with_pytorchs_value_at_kinks(backend, kind):
    case = CASES[kind]
    g = np.random.default_rng(1).standard_normal(AT_KINKS.shape)
    y, dx = forward_backward(case.make(), AT_KINKS, g)
    assert_close(y, R.elementwise(case.f)(AT_KINKS), backend=backend, err_msg="output")
    assert_close(dx, g * R.elementwise(case.slope)(AT_KINKS), backend=backend,
                 err_msg="input gradient")


@pytest.mark.parametrize("kind", WITH_TORCH)
def test_matches_torch_forward_and_gradient(backend, kind):
    """Kinks included: tinyml's subgradients there are PyTorch's."""
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(2).standard_normal(AT_KINKS.shape)
    y, dx = forward_backward(CASES[kind].make(), AT_KINKS, g)
    t = torch.tensor(AT_KINKS, requires_grad=True)
    CASES[kind].torch(torch, t).backward(torch.tensor(g))
    expected = CASES[kind].torch(torch, torch.tensor(AT_KINKS)).numpy()
    assert_close(y, expected, backend=backend, err_msg="output")
    # rtol: torch's hardsigmoid backward multiplies by 1/6 rounded to float32 (3e-8 off)
    assert_close(dx, t.grad.numpy(), backend=backend, rtol=1e-7, err_msg="input gradient")


def test_softplus_differs_from_torch_above_its_threshold_as_documented(numpy64):
    """torch's softplus(threshold=20) returns x with slope 1 for x > 20; tinyml stays exact."""
    torch = pytest.importorskip("torch")
    x = np.array([[20.5, 25.0, 30.0, 40.0]])
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.softplus(t).backward(torch.ones(x.shape, dtype=torch.float64))
    assert np.array_equal(t.grad.numpy(), np.ones(x.shape))
    y, dx = forward_backward(SoftPlus("act"), x)
    np.testing.assert_allclose(y, R.elementwise(R.softplus)(x), rtol=1e-15)
    np.testing.assert_allclose(dx, R.elementwise(R.logistic)(x), rtol=1e-15)
    assert 0 < np.max(y - x) < 2.1e-9 and 0 < np.max(1.0 - dx) < 2.1e-9


def test_hard_sigmoid_is_numpy_mls_not_pytorchs(numpy64):
    torch = pytest.importorskip("torch")
    x = np.array([[-2.8, -1.0, 2.0, 2.8]])
    y, _ = forward_backward(HardSigmoid("act"), x)
    np.testing.assert_allclose(y, [[0.0, 0.3, 0.9, 1.0]], atol=1e-15)
    assert not np.allclose(y, torch.nn.functional.hardsigmoid(torch.tensor(x)).numpy())


@pytest.mark.parametrize("kind", CASES)
def test_float32_stays_float32(backend32, kind):
    case = CASES[kind]
    y, dx = forward_backward(case.make(), AT_KINKS)
    x = AT_KINKS.astype(np.float32).astype(np.float64)
    assert_close(y, R.elementwise(case.f)(x), backend=backend32, err_msg="output")
    assert_close(dx, R.elementwise(case.slope)(x), backend=backend32, err_msg="input gradient")


# ---------------------------------------------------------------- large inputs
@pytest.mark.parametrize("kind", BOUNDED)
def test_large_inputs_stay_finite_and_right(backend, kind):
    case = CASES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow inside would warn on NumPy
        y, dx = forward_backward(case.make(), LARGE)
    assert np.isfinite(tinyml.to_numpy(y)).all() and np.isfinite(tinyml.to_numpy(dx)).all()
    assert_close(y, R.elementwise(case.f)(LARGE), backend=backend, err_msg="output")
    assert_close(dx, R.elementwise(case.slope)(LARGE), backend=backend, err_msg="gradient")


@pytest.mark.parametrize("kind", BOUNDED)
def test_large_float32_inputs_stay_finite_and_right(backend32, kind):
    case = CASES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, dx = forward_backward(case.make(), LARGE32)
    x = LARGE32.astype(np.float32).astype(np.float64)
    assert np.isfinite(tinyml.to_numpy(y)).all() and np.isfinite(tinyml.to_numpy(dx)).all()
    assert_close(y, R.elementwise(case.f)(x), backend=backend32, err_msg="output")
    assert_close(dx, R.elementwise(case.slope)(x), backend=backend32, err_msg="gradient")


@pytest.mark.parametrize(("dtype", "last_finite", "first_inf"), [("float64", 709.0, 710.0),
                                                                 ("float32", 88.0, 89.0)])
def test_exponential_overflows_to_inf_as_exp_does(dtype, last_finite, first_inf):
    with tinyml.use_backend("numpy", dtype=dtype):
        x = np.array([[-800.0, 0.0, last_finite, first_inf]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy: overflow encountered in exp
            y, dx = forward_backward(Exponential("act"), x)
    for values in (tinyml.to_numpy(y), tinyml.to_numpy(dx)):
        assert values.dtype == np.dtype(dtype)
        assert values[0, 0] == 0.0 and values[0, 1] == 1.0 and np.isfinite(values[0, 2])
        assert values[0, 3] == np.inf


# ---------------------------------------------------------------- each layer's own behaviour
def test_identity_passes_the_arrays_themselves(backend):
    layer, x, g = Identity("act"), tinyml.asarray(AT_KINKS), tinyml.asarray(AT_KINKS + 1.0)
    assert layer.forward(x) is x
    assert layer.backward(g) is g
    assert layer.pending_records == 0


def test_options_are_python_floats_and_defaults_are_the_documented_ones():
    assert LeakyReLU("a").alpha == 0.3 and ELU("a").alpha == 1.0
    assert GELU("a").approximate is False and GELU("a", approximate=True).approximate is True
    affine = Affine("a", slope=np.float32(2.0), intercept=3)
    assert (affine.slope, affine.intercept) == (2.0, 3.0)
    assert type(affine.slope) is float and type(affine.intercept) is float
    assert type(LeakyReLU("a", alpha=np.float64(0.1)).alpha) is float
    assert LeakyReLU("a", alpha=0).alpha == 0.0  # 0 makes it a ReLU


def test_selu_constants_are_pytorchs(numpy64):
    torch = pytest.importorskip("torch")
    x = torch.tensor([-1e3, 1.0], dtype=torch.float64)  # -scale * alpha and scale
    y = torch.nn.functional.selu(x).numpy()
    y_ours, _ = forward_backward(SELU("act"), x.numpy())
    np.testing.assert_allclose(y_ours, y, rtol=1e-15)
    np.testing.assert_allclose(y_ours, [-R.SELU_SCALE * R.SELU_ALPHA, R.SELU_SCALE], rtol=1e-15)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [  # each declared option's bad values: tests/test_declared_arguments.py
        (lambda: LeakyReLU("lr", 0.1), TypeError, r"positional"),  # alpha is keyword-only
        (lambda: Affine("aff", 2.0), TypeError, r"positional"),
    ],
)
def test_the_options_are_keyword_only(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("cls", [Tanh, LeakyReLU, ELU, SELU, GELU, SoftPlus, HardSigmoid,
                                 Exponential, Identity, Affine])
def test_a_name_is_required(cls):
    with pytest.raises(TypeError, match="a layer's name must be a non-empty string"):
        cls("")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        cls()


# ---------------------------------------------------------------- ReLu
def test_relu_alias():
    assert ReLU is ReLu


def test_relu_gradient_is_one_for_positive_and_zero_otherwise(backend):
    layer = ReLu("relu")
    x = np.array([[-3.0, -1e-8, 0.0, 1e-8, 2.0]])
    assert_close(layer.forward(tinyml.asarray(x)), np.array([[0.0, 0.0, 0.0, 1e-8, 2.0]]),
                 backend=backend)
    dx = layer.backward(tinyml.asarray(np.array([[5.0, 5.0, 5.0, 5.0, -5.0]])))
    assert_close(dx, np.array([[0.0, 0.0, 0.0, 5.0, -5.0]]), backend=backend)  # 0 at x = 0


def sigmoid_reference(x):
    """1 / (1 + e^-x) element by element, in whichever form does not overflow."""
    def one(v):
        return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
    return np.array([one(v) for v in np.ravel(x)]).reshape(np.shape(x))


# ---------------------------------------------------------------- Sigmoid


def test_sigmoid_does_not_overflow_for_large_inputs(backend):
    x = np.array([[-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0]])
    layer = Sigmoid("sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn on NumPy
        y = layer.forward(tinyml.asarray(x))
        dx = layer.backward(tinyml.asarray(np.ones(x.shape)))
    assert_close(y, sigmoid_reference(x), backend=backend, atol=0.0)
    assert tinyml.to_numpy(y)[0, 2] == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert np.isfinite(tinyml.to_numpy(dx)).all()
    assert tinyml.to_numpy(dx)[0, 3] == 0.25


def test_sigmoid_needs_a_name():
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        Sigmoid("")


@pytest.mark.parametrize("kind", [*CASES, "ReLu", "Sigmoid"])
def test_a_layer_with_a_pending_record_deep_copies(backend, kind):
    """The record holds the backward of its forward's path (arrays and numbers, no module)."""
    try:
        copy.deepcopy(tinyml.asarray(np.zeros(1)))
    except TypeError as error:  # array_api_strict before 2.4 cannot deep-copy its arrays
        pytest.skip(f"{backend.name} arrays cannot be deep-copied here: {error}")
    layer = {"ReLu": lambda: ReLu("act"), "Sigmoid": lambda: Sigmoid("act")}.get(
        kind, CASES.get(kind, Act(None, None, None)).make)()
    layer.forward(tinyml.asarray(AT_KINKS))
    twin = copy.deepcopy(layer)
    g = tinyml.asarray(np.random.default_rng(3).standard_normal(AT_KINKS.shape))
    assert_close(twin.backward(g), tinyml.to_numpy(layer.backward(g)), backend=backend)
