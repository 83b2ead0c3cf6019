"""Which backend is current: set_backend, use_backend, get_backend and TINYML_BACKEND."""

import contextlib
import os

from ._backend import Backend
from ._registry import make_backend

ENV_VAR = "TINYML_BACKEND"

_current = {"backend": None}


def get_backend():
    """The current Backend; on first use, the one named by $TINYML_BACKEND (default numpy)."""
    if _current["backend"] is None:
        name = os.environ.get(ENV_VAR, "").strip() or "numpy"
        try:
            _current["backend"] = make_backend(name)
        except (ValueError, RuntimeError) as error:
            raise type(error)(f"{ENV_VAR}={name!r}: {error}") from None
    return _current["backend"]


def resolve_backend(backend=None, *, device=None, dtype=None):
    """A Backend from a name or Backend (None: the current one), without making it current."""
    if backend is None:
        backend = get_backend()
    if isinstance(backend, Backend):
        if device is None and dtype is None:
            return backend
        return make_backend(
            backend.name,
            device=backend.device if device is None else device,
            dtype=backend.dtype_name if dtype is None else dtype,
        )
    return make_backend(backend, device=device, dtype="float32" if dtype is None else dtype)


def set_backend(name, *, device=None, dtype=None):
    """Make a backend current for everything created from now on, and return it.

    Parameters
    ----------
    name : str, Backend or None
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"`` or ``"torch"``; None keeps the current
        library and applies `device` and `dtype` to it.
    device : optional
        ``"cpu"`` for numpy; a device name such as ``"device1"`` for array_api_strict; a GPU
        number for cupy; anything ``torch.device`` accepts for torch.
    dtype : ``"float32"`` (default) or ``"float64"``
        The dtype of new parameters and of floating data moved onto the backend.

    Examples
    --------
    >>> import tinyml
    >>> tinyml.set_backend("numpy", dtype="float64")
    Backend('numpy', device='cpu', dtype='float64')
    """
    _current["backend"] = resolve_backend(name, device=device, dtype=dtype)
    return _current["backend"]


@contextlib.contextmanager
def use_backend(name, *, device=None, dtype=None):
    """``with tinyml.use_backend("cupy"):`` makes a backend current inside the block only."""
    previous = _current["backend"]
    backend = resolve_backend(name, device=device, dtype=dtype)
    _current["backend"] = backend
    try:
        yield backend
    finally:
        _current["backend"] = previous


def asarray(data, dtype=None):
    """Put host data (NumPy, lists) or another backend's array on the current backend.

    Floating data takes the backend's dtype (float32 unless set otherwise); integer data, such
    as labels, keeps its own.
    """
    return get_backend().asarray(data, dtype=dtype)
