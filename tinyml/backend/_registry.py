"""Building a Backend from a name: the library's adapter imports it, parses the device and
names the random generator."""

from . import adapters
from ._backend import FLOAT_DTYPES, Backend

KNOWN_BACKENDS = adapters.KNOWN_BACKENDS


def make_backend(name, *, device=None, dtype="float32"):
    """A Backend for library `name` on `device` with default floating dtype `dtype`.

    Raises
    ------
    ValueError
        Unknown name, dtype or device (the message lists the valid ones).
    RuntimeError
        The library is not installed, or CuPy finds no usable GPU.
    """
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a string such as 'numpy'; got {name!r}")
    key = name.strip().lower()
    if key not in KNOWN_BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}; known backends: {', '.join(KNOWN_BACKENDS)}"
        )
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {FLOAT_DTYPES}; got {dtype!r}")
    adapter = adapters.named(key)
    xp = adapter.namespace()
    return Backend(key, xp, adapter.device(device), dtype, adapter.random_factory)
