r"""scatter_add: sums of rows grouped by an index, with repeated indices accumulating.

.. math:: \mathrm{out}_r = \sum_{i \,:\, \mathrm{indices}_i = r} \mathrm{values}_i

This is an embedding's backward (the rows of its weight gradient). The standard has no
scatter-add, and ``array_api_extra.at(out)[indices].add(values)`` keeps only one of the
values that share an index, so the portable path is built from a sort instead.
"""

import math

from .._host import device_of, is_integral
from .._namespace import array_namespace
from ._registry import Operation


def _check(indices, values, num_rows, *, xp=None):
    array_namespace(indices, values, names=("indices", "values"), where="scatter_add")
    if not is_integral(indices):
        raise TypeError(
            f"scatter_add expects integer indices; got dtype {indices.dtype}. "
            "Cast them with xp.astype(indices, xp.int64)."
        )
    if indices.ndim != 1:
        raise ValueError(
            f"scatter_add expects indices of shape (N,); got shape {tuple(indices.shape)}. "
            "Flatten them with xp.reshape(indices, (-1,)) (and values to (N, ...) to match)."
        )
    if values.ndim < 1 or values.shape[0] != indices.shape[0]:
        raise ValueError(
            f"scatter_add expects values of shape (N, ...) with N = {indices.shape[0]}, one row "
            f"per index; got shape {tuple(values.shape)}."
        )
    if isinstance(num_rows, bool) or not isinstance(num_rows, int):
        raise TypeError(f"scatter_add: num_rows must be an int; got {num_rows!r}")
    if num_rows < 1:
        raise ValueError(f"scatter_add: num_rows must be a positive int; got {num_rows}")


def _portable(indices, values, num_rows, *, xp):
    r"""Sum ``values[i]`` into row ``indices[i]``: out (num_rows, *values.shape[1:]).

    Parameters
    ----------
    indices : integer array of shape (N,)
        Each in ``[0, num_rows)``. The range is not checked (that would read the device):
        outside it, NumPy and PyTorch raise, the portable path drops the row, and CuPy's
        result is undefined.
    values : array of shape (N, ...)
    num_rows : int > 0

    Returns
    -------
    out : array of shape (num_rows, ...), the dtype and device of `values`, with
        :math:`\mathrm{out}_r = \sum_{i: \mathrm{indices}_i = r} \mathrm{values}_i`
        (zero where no index is r).

    Notes
    -----
    Portable path: sort the rows by index, then a segmented inclusive scan by doubling
    (Hillis-Steele: pass k adds the partial sum 2^k places back when both rows share an index),
    and read each index's sum at the last row of its run, found with ``searchsorted``.
    Memory stays O(N D + num_rows D), the size of input and output, for any number of repeats
    (a one-hot matmul needs num_rows x N). Each sum is a tree of log2(count) additions, so no
    prefix sum is subtracted from another (that would cancel digits in float32). The number of
    passes is log2 of the longest run, which costs one read of a device scalar.
    """
    n, row_shape = indices.shape[0], tuple(values.shape[1:])
    device = device_of(values)
    if n == 0:
        return xp.zeros((num_rows, *row_shape), dtype=values.dtype, device=device)
    order = xp.argsort(indices)
    keys = xp.take(indices, order)
    sums = xp.take(xp.reshape(values, (n, math.prod(row_shape))), order, axis=0)
    rows = xp.arange(num_rows, dtype=indices.dtype, device=device)
    ends = xp.searchsorted(keys, rows, side="right")
    counts = ends - xp.searchsorted(keys, rows, side="left")
    shift, longest = 1, int(xp.max(counts))
    while shift < longest:
        same = xp.reshape(keys[shift:] == keys[:-shift], (n - shift, 1))
        later = sums[shift:, :]
        summed = xp.where(same, later + sums[:-shift, :], later)
        sums = xp.concat([sums[:shift, :], summed], axis=0)
        shift *= 2
    gathered = xp.take(sums, xp.clip(ends - 1, 0, n - 1), axis=0)
    present = xp.reshape(counts > 0, (num_rows, 1))
    out = xp.where(present, gathered, xp.zeros_like(gathered))
    return xp.reshape(out, (num_rows, *row_shape))


scatter_add = Operation("scatter_add", _portable, check=_check)


def _numpy(indices, values, num_rows, *, xp):
    """``numpy.add.at`` into zeros, on the flattened arrays: each row's element j goes to
    element ``index * row_size + j``. NumPy runs ``add.at`` with one flat integer index on a
    fast loop, about 5x faster than row indices on a 2-D array, adding in the same order
    (values bit for bit the same) and raising the same IndexError outside
    ``[-num_rows, num_rows)``."""
    import numpy as np

    row_shape = tuple(values.shape[1:])
    row_size = math.prod(row_shape)
    out = np.zeros(num_rows * row_size, dtype=values.dtype)
    positions = (np.asarray(indices, dtype=np.intp)[:, None] * row_size
                 + np.arange(row_size, dtype=np.intp)).reshape(-1)
    np.add.at(out, positions, np.reshape(values, -1))
    return out.reshape(num_rows, *row_shape)


def _torch(indices, values, num_rows, *, xp):
    """``Tensor.index_add_`` into zeros (int32 or int64 indices; others become int64)."""
    import torch

    out = torch.zeros((num_rows, *values.shape[1:]), dtype=values.dtype, device=values.device)
    if indices.dtype not in (torch.int32, torch.int64):
        indices = indices.to(torch.int64)
    return out.index_add_(0, indices, values)


_CUPY_ATOMIC = ("int32", "uint32", "uint64", "float16", "float32", "float64")


def _cupy(indices, values, num_rows, *, xp):
    """``cupyx.scatter_add`` into zeros, for the dtypes CUDA's atomicAdd covers (portable
    for the others, int64 among them)."""
    if values.dtype.name not in _CUPY_ATOMIC:
        return _portable(indices, values, num_rows, xp=xp)
    import cupy
    import cupyx

    with values.device:
        out = cupy.zeros((num_rows, *values.shape[1:]), dtype=values.dtype)
        cupyx.scatter_add(out, indices, values)
    return out


# ---------------------------------------------------------------------------- bags
def _check_bags(indices, values, num_rows, *, xp=None):
    array_namespace(indices, values, names=("indices", "values"), where="bag_scatter_add")
    if not is_integral(indices):
        raise TypeError(f"bag_scatter_add expects integer indices; got dtype {indices.dtype}. "
                        "Cast them with xp.astype(indices, xp.int64).")
    if indices.ndim != 2 or values.ndim != 2 or values.shape[0] != indices.shape[0]:
        raise ValueError(
            "bag_scatter_add expects indices (N, T), one bag of T per sample, and values "
            f"(N, D), one row per bag; got shapes {tuple(indices.shape)} and "
            f"{tuple(values.shape)}.")
    if isinstance(num_rows, bool) or not isinstance(num_rows, int) or num_rows < 1:
        raise ValueError(f"bag_scatter_add: num_rows must be a positive int; got {num_rows!r}")


def _portable_bags(indices, values, num_rows, *, xp):
    r"""Sum each bag's row into the rows its indices name: out (num_rows, D) with
    :math:`\mathrm{out}_r = \sum_{(n, t) : \mathrm{indices}_{n t} = r} \mathrm{values}_n`
    (a sample holding r k times adds its row k times): a pooled embedding's backward.

    Portable path: each row repeated T times, then :data:`scatter_add` (its native where the
    library has one).
    """
    n, steps = indices.shape
    spread = xp.broadcast_to(xp.expand_dims(values, axis=1), (n, steps, values.shape[1]))
    return scatter_add(xp.reshape(indices, (-1,)), xp.reshape(spread, (-1, values.shape[1])),
                       num_rows)


bag_scatter_add = Operation("bag_scatter_add", _portable_bags, check=_check_bags)


def _numpy_bags(indices, values, num_rows, *, xp):
    """With num_rows <= T D: :math:`C^\top` values, C (N, num_rows) the count of each index
    in each bag (one ``bincount``, exact) and one GEMM, about 2.5x faster than
    scattering T copies of every row; larger vocabularies scatter the copies (C would
    outgrow them)."""
    import numpy as np

    n, steps = indices.shape
    if num_rows > steps * values.shape[1]:
        return _portable_bags(indices, values, num_rows, xp=xp)
    positions = (np.arange(n, dtype=np.intp)[:, None] * num_rows
                 + np.asarray(indices, dtype=np.intp)).reshape(-1)
    counts = np.bincount(positions, minlength=n * num_rows).astype(values.dtype)
    return counts.reshape(n, num_rows).T @ values
