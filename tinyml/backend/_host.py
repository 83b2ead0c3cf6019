"""Recognising arrays and bringing them home to NumPy, whatever library made them."""

import array_api_compat
import numpy as np

from . import adapters

_NAMES_BY_TYPE = {}  # array type -> (backend name, namespace); filled on first sight
_ADAPTERS_BY_TYPE = {}  # array type -> its library's adapter (None: a library tinyml lacks one for)
_DEVICE_OF_BY_TYPE = {}  # array type -> the function that answers its device


def lookup(x):
    """(backend name, Array API namespace) of array `x`; TypeError if `x` is not an array.

    Cached by type: array_api_compat.array_namespace costs about 5 us, and the layers ask on
    every call.
    """
    hit = _NAMES_BY_TYPE.get(type(x))
    if hit is None:
        xp = array_api_compat.array_namespace(x)
        adapter = adapters.for_namespace(xp)
        hit = (adapter.name if adapter else getattr(xp, "__name__", repr(xp)), xp)
        _ADAPTERS_BY_TYPE[type(x)] = adapter
        _DEVICE_OF_BY_TYPE[type(x)] = adapter.device_of if adapter else array_api_compat.device
        _NAMES_BY_TYPE[type(x)] = hit
    return hit


def adapter_of(x):
    """The adapter of array `x`'s library (None for a library tinyml has none for); TypeError
    if `x` is not an array."""
    lookup(x)
    return _ADAPTERS_BY_TYPE[type(x)]


def namespace_name(x):
    """The backend name of array `x`: "numpy", "cupy", "array_api_strict" or "torch"."""
    return lookup(x)[0]


def device_of(x):
    """The device of array `x` in its library's spelling ("cpu" for NumPy).

    Its adapter answers directly (array_api_compat.device asks a dozen type questions first:
    10 us a call on the torch backend, which asks about 50 times a step).
    """
    return _DEVICE_OF_BY_TYPE.get(type(x), array_api_compat.device)(x)


def is_floating(x):
    """True when `x` holds real floating-point numbers."""
    xp = lookup(x)[1]
    return xp.isdtype(x.dtype, "real floating")


def is_integral(x):
    """True when `x` holds integers (signed or unsigned)."""
    xp = lookup(x)[1]
    return xp.isdtype(x.dtype, "integral")


def dtype_kind(x):
    """NumPy's one-letter kind of any array's dtype: "b", "i", "u", "f", "c", or "?" for other.

    Host data (NumPy arrays, numbers, sequences) is read as NumPy reads it.
    """
    if isinstance(x, (np.ndarray, np.generic, bool, int, float, complex, list, tuple)):
        return np.asarray(x).dtype.kind
    xp = lookup(x)[1]
    for kind, name in (("b", "bool"), ("i", "signed integer"), ("u", "unsigned integer"),
                       ("f", "real floating"), ("c", "complex floating")):
        if xp.isdtype(x.dtype, name):
            return kind
    return "?"


def to_numpy(x):
    """Copy any backend's array (or a Python number or sequence) to a host NumPy array.

    This waits for the device: call it once per epoch, not once per batch.
    """
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (bool, int, float, complex, list, tuple, np.generic)):
        return np.asarray(x)
    adapter = adapter_of(x)
    if adapter is None:  # any other standard library: DLPack is the standard's way across
        return np.from_dlpack(x)
    return adapter.to_numpy(x)


def host_namespace():
    """The Array API namespace of host arrays (NumPy's, through array_api_compat): for
    host-side bookkeeping (sample orders, MPI buffers of counts) written in standard calls,
    outside the backend."""
    return array_api_compat.array_namespace(np.empty(0))


def host_copy(x):
    """A host NumPy array that is a copy of `x`, never a view of it (``to_numpy`` of a NumPy
    array is the array itself): for saving state that must not change with training."""
    return np.array(to_numpy(x), copy=True)
