"""The sums of the normalization layers' statistics, which the standard spells slowly on NumPy.

- ``moment_sums(v, *, squared=False)`` -> (B,): the sums of `v` (A, B, S) over its first
  and last axes, or with ``squared=True`` the sums of ``v * v``.

Portable path: ``xp.sum`` over axes (0, 2) (one kernel on PyTorch). NumPy's native reads v
once through BLAS instead: matrix-vector products with a vector of ones for the sums and
``vecdot`` along S for the squares (no square written out). A pairwise ``sum`` over axes
(0, 2) runs two to four times slower there (a strided reduction).
"""

import numpy as np

from .._host import device_of
from ._registry import Operation


def _check_moment_sums(v, *, squared=False, xp=None):
    if len(v.shape) != 3:
        raise ValueError(f"moment_sums expects a 3-axis array (A, B, S), summed over A and S; "
                         f"got shape {tuple(v.shape)}.")


def _moment_sums(v, *, squared=False, xp):
    r""":math:`out_b = \sum_{a,s} v_{a,b,s}`, or :math:`\sum_{a,s} v_{a,b,s}^2`."""
    return xp.sum(v * v if squared else v, axis=(0, 2))


moment_sums = Operation("moment_sums", _moment_sums, check=_check_moment_sums)


def _numpy_moment_sums(v, *, squared=False, xp):
    """Matrix-vector products with ones (and ``vecdot`` for the squares: BLAS on NumPy 2, a
    matmul on NumPy 1.26). A sum of squares may overflow to inf: the normalization's guard
    takes that as its cue to rescale, so NumPy's overflow warning is silenced here."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _numpy_sums(v, squared, xp)


def _numpy_sums(v, squared, xp):
    a, b, s = v.shape
    if s == 1:
        rows = xp.reshape(v * v if squared else v, (a, b))
        return rows[0, :] if a == 1 else _ones(a, v, xp) @ rows
    per_row = xp.vecdot(v, v) if squared else v @ _ones(s, v, xp)
    return per_row[0, :] if a == 1 else _ones(a, v, xp) @ per_row


def _ones(n, like, xp):
    return xp.ones((n,), dtype=like.dtype, device=device_of(like))
