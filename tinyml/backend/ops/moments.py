r"""The mean and variance that the normalization layers share, on a three-axis view: the
backend operation ``normalize``.

Every layer views its input as ``(A, B, S)``, with one statistic per ``B`` over the ``A``
and ``S`` axes: BatchNorm1D (N, F, 1), BatchNorm2D (N, C, H W), LayerNorm1D (1, rows, F),
LayerNorm2D (1, N, C H W). The sums over A and S are the backend operation ``moment_sums``:
one reduction kernel on PyTorch; on NumPy matrix products with a vector of ones and dot
products for the squares (BLAS reads the array once, two to four times faster than a
pairwise sum over a strided axis, and no square is written out).

Portable path: the functions below in standard calls. PyTorch's native is the same
arithmetic in direct ``torch`` calls (about 20 of them: through array-api-compat each costs
several microseconds more, which decides a small layer's time).

Overflow: the statistics run on :math:`x g`, with :math:`g` a power of two per statistic, 1
unless its :math:`\sum x^2` (the dot products cost one read of x) exceeds :math:`2^{-4}` of
the dtype's largest value. Below that bound no sum, square or difference of the plain
formula can overflow, so the plain formula runs, to the last bit. Above it :math:`g` brings
:math:`\sum (xg)^2` just under the bound (where :math:`\sum x^2` itself overflowed, to inf,
with NumPy's warning, the largest sum of squares possible is assumed), so finite inputs
give finite, right outputs where the plain formula overflows (the float32 row ``[1e30,
-1e30, 0, 1]`` gives ``[1.414, -1.414, -3.5e-31, 1.06e-30]``). Scaling by a power of two is
exact, so even then only values that it takes below the dtype's smallest normal number
lose digits (they are :math:`2^{-100}` of the largest or less).
"""

import math
from collections import namedtuple

from ._registry import Operation
from .reductions import moment_sums

Moments = namedtuple("Moments", "centered inv_spread inv_std mean var")
Moments.__doc__ = r"""The statistics of ``normalize``, each but `centered` shaped (1, B, 1).

``centered`` is :math:`(x - \mu) g`, ``inv_spread`` :math:`1 / (g \sqrt{\sigma^2 +
\epsilon})`, so that ``centered * inv_spread`` is :math:`\hat x` exactly; ``inv_std`` is
:math:`1 / \sqrt{\sigma^2 + \epsilon}`; ``mean`` and ``var`` (biased) are :math:`\mu` and
:math:`\sigma^2` (None where not asked for; ``var`` inf where too large for the dtype).
"""


def _sums(v, xp):
    """(B,): the sums of `v` (A, B, S) over A and S (the backend operation ``moment_sums``)."""
    return moment_sums(v, xp=xp)


def _sums_of_squares(v, xp):
    """(B,): the sums of ``v * v`` over A and S (``moment_sums(v, squared=True)``)."""
    return moment_sums(v, squared=True, xp=xp)


def _bounds(dtype, count, xp):
    """(half the exponent of the bound on a sum of squares, the largest shift, the smallest
    normal number) for `count` values of `dtype`: host floats, kept per dtype and count."""
    key = (str(dtype), count)  # the name: dtypes of two libraries may not compare
    try:
        return _BOUNDS[key]
    except KeyError:
        info = xp.finfo(dtype)
        limit = math.log2(float(info.max)) - 4.0  # the bound on a sum of squares: 2**limit
        most = math.ceil(0.5 * (math.log2(max(count, 1)) + 4.0 + limit)) + 1
        bounds = (0.5 * limit, float(most), float(info.smallest_normal))
        if len(_BOUNDS) < 256:
            _BOUNDS[key] = bounds
        return bounds


_BOUNDS = {}


def overflow_scale(x, xp):
    """(1, B, 1) powers of two of `x`'s dtype, one per statistic of `x` (A, B, S): 1 where the
    plain statistics cannot overflow (see the module docstring), else small enough that
    those of ``x * scale`` cannot."""
    half_limit, most, tiny = _bounds(x.dtype, x.shape[0] * x.shape[2], xp)
    # An overflowing sum of squares is inf (NumPy warns), and then the largest shift holds;
    # a NaN makes its own statistic's scale NaN, as its output would be anyway.
    halves = xp.ceil(xp.log2(_sums_of_squares(x, xp) + tiny) * 0.5 - half_limit)
    shift = xp.minimum(xp.maximum(halves, 0.0), most)  # not clip: array-api-compat's is slow
    return xp.reshape(0.5 ** shift, (1, -1, 1))


def _normalize(x, epsilon, *, statistics=True, xp):
    r"""Center and scale `x` (A, B, S) per B over A and S: a ``Moments``.

    .. math::
        \mu = \frac1m \sum x, \qquad \sigma^2 = \frac1m \sum (x - \mu)^2, \qquad
        \hat x = (x - \mu)\, / \sqrt{\sigma^2 + \epsilon}

    with m = A S values per statistic; the variance is the biased one, in two passes (the
    mean first) so a large mean does not cancel it away, on :math:`x g` (the module
    docstring's guard):

    .. math::
        \hat x = (x g - \mu g) \cdot \frac{1}{\sqrt{\sigma^2 g^2 + \epsilon g^2}}

    (the two factors are ``centered`` and ``inv_spread``). ``mean`` and ``var`` are None
    with ``statistics=False``, for a caller that keeps none.
    """
    a, b, s = x.shape
    count = a * s
    g = overflow_scale(x, xp)
    scaled = x * g
    mean = xp.reshape(_sums(scaled, xp), (1, -1, 1)) / count
    centered = scaled - mean
    var = xp.reshape(_sums_of_squares(centered, xp), (1, -1, 1)) / count
    # epsilon g^2 underflows to 0 for a tiny g: a constant row then has var 0, and its
    # x_hat must be 0 (0 times a large finite number), never 0 * inf.
    floor = _bounds(x.dtype, count, xp)[2]
    inv_spread = 1.0 / xp.sqrt(xp.maximum(var + epsilon * (g * g), floor))
    inv_std = inv_spread * g
    if not statistics:
        return Moments(centered, inv_spread, inv_std, None, None)
    scale = 1.0 / g
    return Moments(centered, inv_spread, inv_std, mean * scale, (var * scale) * scale)


def _check_normalize(x, epsilon, *, statistics=True, xp=None):
    if len(x.shape) != 3:
        raise ValueError(f"normalize expects a 3-axis array (A, B, S), one statistic per B; "
                         f"got shape {tuple(x.shape)}.")


normalize = Operation("normalize", _normalize, check=_check_normalize)


def _torch_normalize(x, epsilon, *, statistics=True, xp):
    """The portable arithmetic in direct ``torch`` calls, to the same bits."""
    import torch

    count = x.shape[0] * x.shape[2]
    half_limit, most, tiny = _bounds(x.dtype, count, xp)
    axes = (0, 2)
    squares = torch.sum(x * x, dim=axes, keepdim=True)
    shift = torch.clamp(torch.ceil(torch.log2(squares + tiny) * 0.5 - half_limit), 0.0, most)
    g = 0.5 ** shift
    scaled = x * g
    mean = torch.sum(scaled, dim=axes, keepdim=True) / count
    centered = scaled - mean
    var = torch.sum(centered * centered, dim=axes, keepdim=True) / count
    inv_spread = 1.0 / torch.sqrt(torch.clamp(var + epsilon * (g * g), min=tiny))
    inv_std = inv_spread * g
    if not statistics:
        return Moments(centered, inv_spread, inv_std, None, None)
    scale = 1.0 / g
    return Moments(centered, inv_spread, inv_std, mean * scale, (var * scale) * scale)
