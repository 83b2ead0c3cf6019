r"""concat_steps: the per-step arrays of a backward through time, as one array of rows.

.. math:: \mathrm{out} = \begin{pmatrix} a_1 \\ \vdots \\ a_T \end{pmatrix}
          \quad\text{(concatenated along axis 0)}

The recurrent layers' backward makes one (N, K) array per time step (the gates' gradients,
the states before each step) and multiplies all T N rows at once (one GEMM per parameter
gradient). The concatenated arrays are a few MB each and live only inside that backward.
Allocated anew in every call, they made glibc hand their memory back to the system after each
step and fault it in again: a GRU's step at batch 64 (T=28, H=128) took 22 ms instead of
14 ms (measured with ``time.thread_time``, which counts the kernel's page-fault work).

So the natives (NumPy, PyTorch) concatenate into a buffer of this thread, named by `tag` and
reused by every call with that tag, as a cuDNN workspace is: the result is valid until the
next call with the same tag in the same thread. The caller uses it before then and never hands
it out (a layer's backward consumes it in its GEMMs and returns fresh arrays). The portable
path returns a fresh ``xp.concat``: the same numbers, bit for bit.
"""

import math
import threading

from .._namespace import array_namespace
from ._registry import Operation

_buffers = threading.local()  # {(library, tag, dtype, device): flat buffer}, per thread


def _check(*arrays, tag):
    array_namespace(*arrays, names=[f"arrays[{i}]" for i in range(len(arrays))],
                    where="concat_steps")
    rest = tuple(arrays[0].shape[1:])
    if arrays[0].ndim < 1 or any(tuple(a.shape[1:]) != rest or a.dtype != arrays[0].dtype
                                 for a in arrays):
        raise ValueError(
            "concat_steps expects arrays of shapes (n_i, ...) with the same trailing shape and "
            f"dtype; got {[(tuple(a.shape), str(a.dtype)) for a in arrays]}. Reshape them "
            "first.")
    if not isinstance(tag, str):
        raise TypeError(f"concat_steps: tag must be a str naming the buffer; got {tag!r}")


def _portable(*arrays, tag, xp):
    """The `arrays` concatenated along axis 0: ``xp.concat(arrays, axis=0)``, a fresh array.

    Parameters
    ----------
    *arrays : arrays of shapes (n_i, ...), the same trailing shape and dtype
    tag : str
        Names the natives' buffer: a second call with the same tag in this thread overwrites
        what the first returned (on NumPy and PyTorch). Use one tag per live result.

    Returns
    -------
    array of shape (sum n_i, ...)
    """
    return xp.concat(arrays, axis=0)


concat_steps = Operation("concat_steps", _portable, check=_check)


def _buffer(library, tag, shape, dtype, device, empty):
    """A `shape` view of this thread's buffer (library, tag, dtype, device), grown when too
    small; `empty(size)` makes a new flat one."""
    key = (library, tag, str(dtype), str(device))
    buffers = _buffers.__dict__
    size = math.prod(shape)
    flat = buffers.get(key)
    if flat is None or flat.shape[0] < size:
        flat = buffers[key] = empty(size)
    return flat[:size].reshape(shape)


def free_buffers():
    """Drop this thread's concat_steps buffers (the next call allocates them again)."""
    _buffers.__dict__.clear()


def _numpy(*arrays, tag, xp):
    """``numpy.concatenate(arrays, out=...)`` into this thread's buffer `tag`."""
    import numpy as np

    first = arrays[0]
    shape = (sum(a.shape[0] for a in arrays), *first.shape[1:])
    out = _buffer("numpy", tag, shape, first.dtype, "cpu",
                  lambda size: np.empty(size, dtype=first.dtype))
    return np.concatenate(arrays, axis=0, out=out)


def _torch(*arrays, tag, xp):
    """``torch.cat(arrays, out=...)`` into this thread's buffer `tag` (on the arrays' device)."""
    import torch

    first = arrays[0]
    if first.requires_grad:  # out= refuses tensors that autograd tracks: nothing to reuse
        return torch.cat(arrays, dim=0)
    shape = (sum(a.shape[0] for a in arrays), *first.shape[1:])
    out = _buffer("torch", tag, shape, first.dtype, first.device,
                  lambda size: torch.empty(size, dtype=first.dtype, device=first.device))
    return torch.cat(arrays, dim=0, out=out)
