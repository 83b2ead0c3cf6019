"""The numpy natives of ``activation``: the portable forms' formulas, in the same order (so the
same numbers), written with ``out=`` on temporaries and NumPy's own ``clip`` (a third of the
time of the standard-call wrapper's), since each NumPy pass is one single-threaded sweep over
the array. Kinds without one here run their portable forms.
"""

from functools import partial

from .activations import INV_SQRT_2PI, SQRT_HALF, activation
from .erf import _SINGLE, SINGLE_CLIP


def _float_mask(x):
    """[x > 0] as 0/1 in x's dtype."""
    return (x > 0).astype(x.dtype)


def _elu_backward(x, negative, alpha, scale, g):
    import numpy as np

    slope = np.exp(negative)
    slope *= alpha
    positive = _float_mask(x)
    out = np.subtract(1.0, positive)
    out *= slope
    out += positive
    if scale != 1.0:
        out *= scale
    out *= g
    return out


def _elu(np, x, *, alpha, scale):
    negative = np.clip(x, -np.inf, 0.0)
    y = np.clip(x, 0.0, np.inf)
    step = np.expm1(negative)
    step *= alpha
    y += step
    if scale != 1.0:
        y *= scale
    return y, partial(_elu_backward, x, negative, alpha, scale)


def _gelu_backward(near, half_square, weight, g):
    import numpy as np

    out = np.negative(half_square)
    np.exp(out, out=out)
    out *= INV_SQRT_2PI
    out *= near
    out += weight
    out *= g
    return out


def _gelu(np, x, *, approximate):
    """The exact form in float32 (``phi_single``); float64 and the tanh form are portable."""
    if approximate or x.dtype != np.float32:
        return None
    near = np.clip(x, -SINGLE_CLIP, SINGLE_CLIP)
    half_square = np.multiply(near, near)
    half_square *= 0.5
    t = np.abs(near)
    t *= SQRT_HALF
    t *= 0.5
    t += 1.0
    np.reciprocal(t, out=t)
    r = np.multiply(t, _SINGLE[0])  # Horner's rule, as erf._horner
    for coefficient in _SINGLE[1:-1]:
        r += coefficient
        r *= t
    r += _SINGLE[-1]
    r -= half_square
    np.exp(r, out=r)
    r *= t
    positive = _float_mask(x)
    weight = np.subtract(0.5, positive)
    weight *= r
    weight += positive
    return np.multiply(x, weight), partial(_gelu_backward, near, half_square, weight)


def _negative_exponential(np, x):
    """e^{-|x|}, in place on one temporary."""
    e = np.abs(x)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def _sigmoid_from(np, x, e):
    """activation_math.sigmoid given its e = e^{-|x|}: (p + (1 - p) e) / (1 + e), p = [x >= 0]."""
    positive = (x >= 0).astype(x.dtype)
    out = np.subtract(1.0, positive)
    out *= e
    out += positive
    out /= np.add(1.0, e)
    return out


def _sigmoid_backward(y, g):
    import numpy as np

    out = np.multiply(g, y)
    out *= np.subtract(1.0, y)
    return out


def _sigmoid(np, x):
    y = _sigmoid_from(np, x, _negative_exponential(np, x))
    return y, partial(_sigmoid_backward, y)


def _softplus_backward(x, e, g):
    import numpy as np

    out = _sigmoid_from(np, x, e)
    out *= g
    return out


def _softplus(np, x):
    e = _negative_exponential(np, x)  # kept: the backward's sigmoid needs it again
    y = np.log1p(e)
    y += np.clip(x, 0.0, np.inf)
    return y, partial(_softplus_backward, x, e)


NATIVES = {"elu": _elu, "gelu": _gelu, "sigmoid": _sigmoid, "softplus": _softplus}
# relu: the portable mask multiply is as fast.


def _numpy_activation(x, *, kind, xp, **options):
    import numpy as np

    native = NATIVES.get(kind)
    result = None if native is None else native(np, x, **options)
    if result is None:
        return activation.portable(x, kind=kind, xp=xp, **options)
    return result
