r"""``activation``: an elementwise activation's forward, and the backward that goes with it.

``y, backward = activation(x, kind="gelu", approximate=False)`` computes :math:`y = f(x)` and
returns with it the function ``backward(g)`` (a ``functools.partial`` of arrays and numbers, no
module, so a layer holding one deep-copies) that gives :math:`\partial L/\partial x = g \odot
f'(x)` from what this forward kept (a mask, :math:`y`, or :math:`x`): the backward always runs
on the path its forward ran on, native or portable. The layers of
:mod:`tinyml.layers.elementwise` keep that function in their record.

``KINDS`` names each kind and its options. The portable forms here use standard calls and the
stable math of :mod:`~tinyml.backend.ops.activation_math`; the natives
(:mod:`~tinyml.backend.ops.activations_numpy`, :mod:`~tinyml.backend.ops.activations_torch`)
cover the kinds where a library does better and hand the others to the portable forms. The
numpy natives give the portable numbers (the same formulas, in place); the torch natives are
PyTorch's own kernels, with PyTorch's rounding (for GELU, an absolute rather than relative
accuracy in the lower tail; tests/test_activation_op.py bounds the difference).
"""

from functools import partial

from .._host import lookup
from ._registry import Operation
from .activation_math import elu, elu_slope, sigmoid, sigmoid_slope, softplus
from .erf import SINGLE_CLIP, erfc, erfc_single

# |x| beyond which GELU's x-dependent terms are exactly 0 or 1 in float64 and float32 alike
# (exp(-x^2 / 2) and exp(-2u) underflow); clipping there keeps x^2 and x^3 finite.
GELU_CLIP = 40.0
SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2)
INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi)
GELU_CUBIC = 0.044715

# kind -> its options (keywords of activation(), each required).
KINDS = {
    "relu": (), "sigmoid": (), "tanh": (), "leaky_relu": ("alpha",),
    "elu": ("alpha", "scale"), "gelu": ("approximate",), "softplus": (),
    "hard_sigmoid": (), "exponential": (),
}


def _times(factor, g):
    """The backward of an activation whose slope `factor` the forward computed."""
    return g * factor


def _relu(x, xp):
    mask = xp.astype(x > 0, x.dtype)  # the mask multiply: ~18x faster than where on NumPy
    return x * mask, partial(_times, mask)


def _sigmoid_backward(y, g):
    return g * y * (1.0 - y)


def _sigmoid(x, xp):
    y = sigmoid(x, xp)
    return y, partial(_sigmoid_backward, y)


def _tanh_backward(y, g):
    return g * (1.0 - y * y)


def _tanh(x, xp):
    y = xp.tanh(x)
    return y, partial(_tanh_backward, y)


def _leaky_relu(x, xp, *, alpha):
    slope = alpha + (1.0 - alpha) * xp.astype(x > 0, x.dtype)
    if alpha == 0.0:  # x * slope would make 0 * -inf = NaN
        return xp.clip(x, min=0.0), partial(_times, slope)
    return x * slope, partial(_times, slope)


def _namespace(g):
    return lookup(g)[1]


def _elu_backward(x, alpha, scale, g):
    slope = elu_slope(x, alpha, _namespace(g))
    return g * (slope if scale == 1.0 else scale * slope)


def _elu(x, xp, *, alpha, scale):
    y = elu(x, alpha, xp)
    return (y if scale == 1.0 else scale * y), partial(_elu_backward, x, alpha, scale)


def gelu_weight(x, approximate, xp):
    r"""GELU's factor :math:`y/x`: :math:`\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)`,
    or :math:`\sigma(2u)` in the tanh form. In float32, :math:`\Phi` comes from the one-formula
    ``erfc_single`` (a third of the array passes of Cody's three intervals)."""
    if approximate:
        near = xp.clip(x, min=-GELU_CLIP, max=GELU_CLIP)
        return sigmoid(2.0 * tanh_argument(near), xp)
    if x.dtype == xp.float32:
        return phi_single(x, xp)
    return 0.5 * erfc(-SQRT_HALF * x, xp)


def phi_single(x, xp):
    r""":math:`\Phi(x)` to float32's precision: :math:`\tfrac12 r` for :math:`x \le 0` and
    :math:`1 - \tfrac12 r` for :math:`x > 0`, with :math:`r = \operatorname{erfc}(|x|/\sqrt2)`
    (so the lower tail keeps its relative accuracy)."""
    near = xp.clip(x, min=-SINGLE_CLIP, max=SINGLE_CLIP)
    r = erfc_single(SQRT_HALF * xp.abs(near), xp, 0.5 * (near * near))
    positive = xp.astype(x > 0, x.dtype)
    return positive + (0.5 - positive) * r


def tanh_argument(x):
    """GELU's u = sqrt(2/pi) (x + 0.044715 x^3), for `x` already clipped to [-40, 40]."""
    return SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)


def _gelu_backward(x, weight, approximate, g):
    xp = _namespace(g)
    near = xp.clip(x, min=-GELU_CLIP, max=GELU_CLIP)
    if approximate:
        growth = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * near * near)
        rest = 2.0 * near * sigmoid_slope(2.0 * tanh_argument(near), xp) * growth
    else:
        rest = near * (INV_SQRT_2PI * xp.exp(-0.5 * near * near))
    return g * (weight + rest)


def _gelu(x, xp, *, approximate):
    weight = gelu_weight(x, approximate, xp)  # backward needs it again
    return x * weight, partial(_gelu_backward, x, weight, approximate)


def _softplus_backward(x, g):
    return g * sigmoid(x, _namespace(g))


def _softplus(x, xp):
    return softplus(x, xp), partial(_softplus_backward, x)


def _hard_sigmoid_backward(x, g):
    inside = _namespace(g).astype((x > -2.5) & (x < 2.5), x.dtype)
    return g * (0.2 * inside)


def _hard_sigmoid(x, xp):
    return xp.clip(0.2 * x + 0.5, min=0.0, max=1.0), partial(_hard_sigmoid_backward, x)


def _exponential(x, xp):
    y = xp.exp(x)
    return y, partial(_times, y)


PORTABLE = {"relu": _relu, "sigmoid": _sigmoid, "tanh": _tanh, "leaky_relu": _leaky_relu,
            "elu": _elu, "gelu": _gelu, "softplus": _softplus, "hard_sigmoid": _hard_sigmoid,
            "exponential": _exponential}


def _check(x, *, kind, xp=None, **options):
    wanted = KINDS.get(kind)
    if wanted is None:
        raise ValueError(f"activation: unknown kind {kind!r}; choose one of "
                         f"{', '.join(sorted(KINDS))}")
    if len(options) != len(wanted) or any(name not in options for name in wanted):
        listed = ", ".join(wanted) or "none"
        raise TypeError(f"activation: kind {kind!r} takes the options {listed}; got "
                        f"{', '.join(sorted(options)) or 'none'}")


def _activation(x, *, kind, xp, **options):
    r"""``(y, backward)``: the activation `kind` of `x` elementwise, and the function that maps
    :math:`g` to :math:`g \odot f'(x)` from what this forward kept."""
    return PORTABLE[kind](x, xp, **options)


activation = Operation("activation", _activation, check=_check)
