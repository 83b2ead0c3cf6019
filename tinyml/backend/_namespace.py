"""Asking arrays for their namespace, and refusing arrays that do not belong together."""

import numpy as np

from . import adapters
from ._host import device_of, lookup, to_numpy
from ._registry import make_backend

_BACKENDS_OF_ARRAYS = {}
# Libraries whose arrays all share one device: arrays that meet need no device comparison.
_ONE_DEVICE = frozenset(adapter.name for adapter in adapters.ADAPTERS if adapter.one_device)


def array_namespace(*arrays, names=None, where=None):
    """The Array API namespace shared by `arrays`.

    Parameters
    ----------
    *arrays : arrays
        Arrays that are about to meet in one computation.
    names : sequence of str, or a function returning one, optional
        What each array is ("input", "weight", ...), for the error message.
    where : str, or a function returning one, optional
        Who is computing (for example ``"Linear 'fc1'"``), for the error message.

    Layers call this twice per batch, so names and where may be functions: the message is
    only built when there is an error to report.

    Raises
    ------
    TypeError
        The arrays come from two libraries (say numpy and cupy), or one is not an array.
    ValueError
        The arrays come from one library but sit on two devices.
    """
    found = _lookup_each(arrays, names, where)
    name, xp = found[0]
    for index, (other, _) in enumerate(found[1:], start=1):
        if other != name:
            raise TypeError(_mismatch(arrays, names, where, 0, index, name, other))
    if name not in _ONE_DEVICE and len(arrays) > 1:
        first = device_of(arrays[0])
        for index, array in enumerate(arrays[1:], start=1):
            if device_of(array) != first:
                raise ValueError(_mismatch(arrays, names, where, 0, index, name, name))
    return xp


def _lookup_each(arrays, names, where):
    """(backend name, namespace) of each array; TypeError naming the one that is not an array."""
    found = []
    for index, array in enumerate(arrays):
        try:
            found.append(lookup(array))
        except TypeError:
            names, where = _evaluated(names), _evaluated(where)
            label = names[index] if names else f"argument {index}"
            raise TypeError(
                f"{_prefix(where)}{label} must be an array; got {type(array).__name__}. "
                "Put data on the backend with tinyml.asarray(...)."
            ) from None
    return found


def backend_of(x):
    """The Backend that `x` lives on (library and device; dtype from `x` when floating).

    Layers use it to draw random numbers next to their input, as Dropout does.
    """
    name, xp = lookup(x)
    device = device_of(x)
    dtype = "float32"
    for candidate in ("float32", "float64"):
        if x.dtype == getattr(xp, candidate):
            dtype = candidate
    key = (name, str(device), dtype)
    backend = _BACKENDS_OF_ARRAYS.get(key)
    if backend is None:
        backend = make_backend(name, device=device, dtype=dtype)
        _BACKENDS_OF_ARRAYS[key] = backend
    return backend


def read_floats(scalars):
    """Python floats of a list of 0-d device arrays (one backend), with ONE wait for the
    device: they are stacked there and copied over together."""
    if not scalars:
        return []
    xp = array_namespace(*scalars)
    common = xp.result_type(*scalars)
    stacked = xp.stack([xp.astype(s, common) for s in scalars])
    return [float(v) for v in to_numpy(stacked).astype(np.float64)]


def _evaluated(value):
    return value() if callable(value) else value


def _prefix(where):
    return f"{where}: " if where else ""


def _mismatch(arrays, names, where, i, j, name_i, name_j):
    names, where = _evaluated(names), _evaluated(where)
    label_i = names[i] if names else f"argument {i}"
    label_j = names[j] if names else f"argument {j}"
    return (
        f"{_prefix(where)}{label_j} lives on {name_j} ({device_of(arrays[j])}) but {label_i} "
        f"lives on {name_i} ({device_of(arrays[i])}). Arrays that meet must share one backend "
        "and device: move the net with net.to(...), or the data with tinyml.asarray(...) under "
        "the net's backend."
    )
