r"""The error function and its complement in standard Array API calls (the standard has neither).

W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the
error function", Math. Comp. 23 (1969), 631-637; the coefficients of his CALERF in netlib's
specfun), which approximate erf and erfc to at least 18 significant digits, so in float64 the
result is limited by rounding alone. Three intervals of :math:`a = |x|`:

- :math:`a \le 0.46875`: :math:`\operatorname{erf}(x) = x\,P_1(x^2)/Q_1(x^2)`;
- :math:`0.46875 < a \le 4`: :math:`\operatorname{erfc}(a) = e^{-a^2} P_2(a)/Q_2(a)`;
- :math:`a > 4`: :math:`\operatorname{erfc}(a) = \frac{e^{-a^2}}{a}\big(\pi^{-1/2} - a^{-2}
  P_3(a^{-2})/Q_3(a^{-2})\big)`,

with :math:`\operatorname{erf}(x) = \operatorname{sign}(x)(1 - \operatorname{erfc}(a))`,
:math:`\operatorname{erfc}(-a) = 2 - \operatorname{erfc}(a)`. :math:`e^{-a^2}` is taken as
:math:`e^{-s^2} e^{-(a - s)(a + s)}` with :math:`s = \lfloor 16 a \rfloor / 16`, so that the
rounding of :math:`a^2` does not cost erfc its relative accuracy in the tail.

Measured against ``math.erf`` / ``math.erfc`` in float64 on 240,000 points of [-30, 30] and
of 1e-320 <= ``|x|`` <= 30 (tests/test_erf.py checks the bounds): erf within 3 ulp (relative
error below 5e-16), erfc within a relative error of 1e-15 wherever it is a normal number, the
far tail included (erfc(26) is about 6e-296). In float32, on [-9, 9]: erf within 3 float32
ulp, erfc within 10 (a relative error below 1.2e-6).

Every element goes through all three intervals (each on its argument clipped into its own
interval, so nothing overflows), and 0/1 masks pick the result. Non-finite inputs: erf(+-inf)
= +-1, erfc(inf) = 0, erfc(-inf) = 2, NaN stays NaN.

``erfc_single`` is the float32 GELU's: one formula of a third of the passes, to float32's
precision.
"""

_THRESHOLD = 0.46875  # Cody's THRESH: the end of the first interval
_TAIL = 4.0  # the end of the second
_FAR = 30.0  # erfc(a) is 0 in float64 for a >= 26.55; clipping here keeps a * a finite
_INV_SQRT_PI = 0.56418958354775628695  # 1 / sqrt(pi)

# Coefficients in descending powers (Cody's A, B; C, D; P, Q reordered for Horner's rule).
_P1 = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
       3.77485237685302021e02, 3.20937758913846947e03)
_Q1 = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
       2.84423683343917062e03)
_P2 = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
       6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
       1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_Q2 = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
       1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
       3.43936767414372164e03, 1.23033935480374942e03)
_P3 = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
       1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_Q3 = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
       6.05183413124413191e-2, 2.33520497626869185e-3)


def erf(x, xp):
    r""":math:`\operatorname{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}\,dt`, elementwise."""
    near, erf_near, tail, negative = _parts(x, xp)
    far = (1.0 - 2.0 * negative) * ((0.5 - tail) + 0.5)
    return near * erf_near + (1.0 - near) * far


def erfc(x, xp):
    r""":math:`\operatorname{erfc}(x) = 1 - \operatorname{erf}(x)`, elementwise, with its
    relative accuracy kept for large positive `x` (where 1 - erf(x) would cancel)."""
    near, erf_near, tail, negative = _parts(x, xp)
    far = negative * (2.0 - tail) + (1.0 - negative) * tail
    return near * (1.0 - erf_near) + (1.0 - near) * far


def _parts(x, xp):
    """(mask |x| <= 0.46875, erf there, erfc(|x|) beyond, mask x < 0); each finite for
    finite x, so the 0/1 masks can multiply."""
    magnitude = xp.abs(x)
    near = xp.astype(magnitude <= _THRESHOLD, x.dtype)
    negative = xp.astype(x < 0, x.dtype)
    small = xp.clip(x, min=-_THRESHOLD, max=_THRESHOLD)
    square = small * small
    erf_near = small * _horner(square, _P1) / _horner(square, _Q1)
    return near, erf_near, _erfc_beyond_threshold(magnitude, xp), negative


def _erfc_beyond_threshold(a, xp):
    """erfc(a) for a >= 0.46875 by Cody's second and third intervals (finite for any a)."""
    middle = xp.clip(a, min=_THRESHOLD, max=_TAIL)
    far = xp.clip(a, min=_TAIL, max=_FAR)
    inverse_square = 1.0 / (far * far)
    ratio_middle = _horner(middle, _P2) / _horner(middle, _Q2)
    ratio_far = (_INV_SQRT_PI - inverse_square * _horner(inverse_square, _P3)
                 / _horner(inverse_square, _Q3)) / far
    in_middle = xp.astype(a <= _TAIL, a.dtype)
    where = in_middle * middle + (1.0 - in_middle) * far
    ratio = in_middle * ratio_middle + (1.0 - in_middle) * ratio_far
    rounded = xp.floor(where * 16.0) / 16.0  # exact in binary, so its square is too
    return xp.exp(-rounded * rounded) * xp.exp(-(where - rounded) * (where + rounded)) * ratio


def _horner(t, coefficients):
    """c0 t^n + c1 t^(n-1) + ... + cn for Python-float coefficients and an array `t`."""
    result = t * coefficients[0] + coefficients[1]
    for coefficient in coefficients[2:]:
        result = result * t + coefficient
    return result


# Numerical Recipes' erfcc (Press et al., Numerical Recipes in C, 2nd ed., section 6.2), a
# Chebyshev fit with a relative error below 1.2e-7 for every x >= 0: float32's own precision.
# Coefficients in descending powers of t = 1 / (1 + x/2), for Horner's rule.
_SINGLE = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
           0.09678418, 0.37409196, 1.00002368, -1.26551223)
SINGLE_CLIP = 15.0  # Phi(-15) and erfc(15 / sqrt 2) are 0 in float32: clipping there is exact


def erfc_single(a, xp, a_squared=None):
    r""":math:`\operatorname{erfc}(a)` for :math:`a \ge 0`, to float32's precision, in one
    formula (where :func:`erfc` takes three intervals):

    .. math:: \operatorname{erfc}(a) \approx t\,e^{-a^2 + P(t)}, \qquad t = \frac{1}{1 + a/2},

    with :math:`P` of degree 9 (Numerical Recipes' ``erfcc``): a relative error below
    :math:`1.2 \cdot 10^{-7}` in exact arithmetic, about :math:`10^{-6}` after float32 rounding
    for :math:`a \le 10.6` (tests/test_erf.py). `a` must be finite; `a_squared`, where given,
    is :math:`a^2` computed more exactly than ``a * a`` (its rounding is the error's main part).
    """
    t = 1.0 / (1.0 + 0.5 * a)
    return t * xp.exp(_horner(t, _SINGLE) - (a * a if a_squared is None else a_squared))
