"""Reductions the standard spells slowly on some library.

- ``squared_norms(v)`` -> the sums of ``v * v`` over the last axis (the normalization layers'
  sums of squares), without writing the squares out where the library can.

Portable path: ``xp.sum(v * v, axis=-1)`` (PyTorch's own kernels fuse it well; its
``vecdot`` through array-api-compat is eight times slower). NumPy's native is ``vecdot``, a
dot product per row (one read of v, BLAS speed, three to four times faster than the square
and the pairwise sum).
"""

from ._registry import Operation


def _check_squared_norms(v, xp=None):
    if len(v.shape) < 1:
        raise ValueError(f"squared_norms expects an array of at least one axis; got shape "
                         f"{tuple(v.shape)}.")


def _squared_norms(v, *, xp):
    r""":math:`out_{\dots} = \sum_k v_{\dots k}^2`, over the last axis."""
    return xp.sum(v * v, axis=-1)


squared_norms = Operation("squared_norms", _squared_norms, check=_check_squared_norms)


def _numpy_squared_norms(v, *, xp):
    """A dot product per row (``vecdot``: BLAS on NumPy 2, a matmul on NumPy 1.26)."""
    return xp.vecdot(v, v)
