"""Independent references for the pointwise activations: each f and f' written for one Python
float with the math module, and applied element by element.

Nothing here imports tinyml. The subgradients at kinks are the ones PyTorch's backward gives
(tests/test_elementwise.py checks that against torch where it has the function).
"""

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717  # PyTorch's documented constants
SELU_SCALE = 1.0507009873554804934193349852946
GELU_CUBIC = 0.044715


def elementwise(scalar):
    """``reference(x, params=None)``: `scalar` applied to each element of `x`, as float64."""

    def reference(x, params=None):
        x = np.asarray(x, dtype=np.float64)
        return np.array([scalar(float(v)) for v in x.ravel()]).reshape(x.shape)

    return reference


def tanh(v):
    return math.tanh(v)


def tanh_slope(v):
    return 1.0 - math.tanh(v) ** 2


def leaky_relu(alpha):
    return lambda v: v if v > 0 else alpha * v


def leaky_relu_slope(alpha):
    return lambda v: 1.0 if v > 0 else alpha  # alpha at 0


def elu(alpha, scale=1.0):
    return lambda v: scale * (v if v > 0 else alpha * math.expm1(v))


def elu_slope(alpha, scale=1.0):
    return lambda v: scale * (1.0 if v > 0 else alpha * math.exp(v))  # scale * alpha at 0


def gelu(v):
    """x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2."""
    return v * 0.5 * math.erfc(-v / math.sqrt(2.0))


def gelu_slope(v):
    density = math.exp(-v * v / 2.0) / math.sqrt(2.0 * math.pi)  # v * v may be inf: then 0
    return 0.5 * math.erfc(-v / math.sqrt(2.0)) + v * density


def _gelu_u(v):
    return math.sqrt(2.0 / math.pi) * (v + GELU_CUBIC * v * v * v)  # +-inf for huge v


def gelu_tanh(v):
    """PyTorch's textbook form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * v * (1.0 + math.tanh(_gelu_u(v)))


def gelu_tanh_slope(v):
    u = _gelu_u(v)
    if abs(u) > 400.0:  # sech(u)^2 < 4 e^-800 = 0 in float64: the slope is the step
        return 1.0 if v > 0 else 0.0
    sech_squared = 1.0 / math.cosh(u) ** 2
    growth = math.sqrt(2.0 / math.pi) * (1.0 + 3.0 * GELU_CUBIC * v * v)
    return 0.5 * (1.0 + math.tanh(u)) + 0.5 * v * sech_squared * growth


def softplus(v):
    """log(1 + e^v); for v > 0 as v + log(1 + e^-v), so e^v is never taken of a large v."""
    return v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))


def logistic(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def hard_sigmoid(v):
    """numpy-ml's: clip(0.2 x + 0.5, 0, 1)."""
    return min(1.0, max(0.0, 0.2 * v + 0.5))


def hard_sigmoid_slope(v):
    return 0.2 if -2.5 < v < 2.5 else 0.0  # 0 at the kinks


def affine(slope, intercept):
    return lambda v: slope * v + intercept


def constant(value):
    return lambda v: value
