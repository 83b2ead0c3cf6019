"""Recognising arrays and bringing them home to NumPy, whatever library made them."""

import array_api_compat
import numpy as np

_NAMES_BY_TYPE = {}  # array type -> (backend name, namespace); filled on first sight


def lookup(x):
    """(backend name, Array API namespace) of array `x`; TypeError if `x` is not an array.

    Cached by type: array_api_compat.array_namespace costs about 5 us, and the layers ask on
    every call.
    """
    hit = _NAMES_BY_TYPE.get(type(x))
    if hit is None:
        xp = array_api_compat.array_namespace(x)
        hit = (_name_of(xp), xp)
        _NAMES_BY_TYPE[type(x)] = hit
    return hit


def namespace_name(x):
    """The backend name of array `x`: "numpy", "cupy", "array_api_strict" or "torch"."""
    return lookup(x)[0]


def _name_of(xp):
    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_array_api_strict_namespace(xp):
        return "array_api_strict"
    return getattr(xp, "__name__", repr(xp))


_DEVICE_ATTRIBUTE = ("torch", "cupy", "array_api_strict")


def device_of(x):
    """The device of array `x` in its library's spelling ("cpu" for NumPy).

    The libraries tinyml knows answer directly (array_api_compat.device asks a dozen type
    questions first: 10 us a call on the torch backend, which asks about 50 times a step).
    """
    name = _NAMES_BY_TYPE.get(type(x), (None,))[0]
    if name in _DEVICE_ATTRIBUTE:
        return x.device
    if name == "numpy":
        return "cpu"
    return array_api_compat.device(x)


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
    name = namespace_name(x)
    if name == "numpy":
        return np.asarray(x)
    if name == "cupy":
        return x.get()
    if name == "torch":
        return x.detach().cpu().numpy()
    if name == "array_api_strict":
        return _strict_to_numpy(x)
    # Any other standard library: DLPack is the standard's way across.
    return np.from_dlpack(x)


def host_copy(x):
    """A host NumPy array that is a copy of `x`, never a view of it (``to_numpy`` of a NumPy
    array is the array itself): for saving state that must not change with training."""
    return np.array(to_numpy(x), copy=True)


def read_floats(scalars):
    """Python floats of a list of 0-d device arrays (one backend), with ONE wait for the
    device: they are stacked there and copied over together."""
    if not scalars:
        return []
    from ._namespace import array_namespace

    xp = array_namespace(*scalars)
    common = xp.result_type(*scalars)
    stacked = xp.stack([xp.astype(s, common) for s in scalars])
    return [float(v) for v in to_numpy(stacked).astype(np.float64)]


def _strict_to_numpy(x):
    """array_api_strict's array on the host. Not ``x.to_device(...)``: array_api_strict (every
    release to 2.6) copies across devices with ``np.asarray(..., copy=True)``, which NumPy 1.26
    lacks; its own ``asarray`` onto the CPU device works on both NumPy 1.26 and 2.x."""
    import array_api_strict

    cpu = array_api_strict.Device("CPU_DEVICE")
    if device_of(x) == cpu:
        return np.asarray(x)
    return np.asarray(array_api_strict.asarray(x, device=cpu, copy=True))
