"""Which backend is current: set_backend, use_backend, get_backend and TINYML_BACKEND.

The current backend lives in a ``contextvars.ContextVar`` over a process default. A thread or
asyncio task that calls ``use_backend`` changes its own backend and nobody else's; one that
never chose sees the process default, which ``set_backend`` sets (and, on first use,
$TINYML_BACKEND, else numpy).
"""

import contextlib
import contextvars
import os
import threading

from ._backend import Backend
from ._registry import make_backend

ENV_VAR = "TINYML_BACKEND"

_process = {"backend": None}  # None: not chosen yet, so the next get_backend reads ENV_VAR
_process_lock = threading.Lock()
_current = contextvars.ContextVar("tinyml_backend", default=None)


def get_backend():
    """The current Backend: this context's, else the process default.

    The process default is, until ``set_backend`` is called, the backend named by
    $TINYML_BACKEND (default numpy), read on first use.
    """
    backend = _current.get()
    return _process_default() if backend is None else backend


def _process_default():
    if _process["backend"] is None:
        with _process_lock:  # threads that ask first at once read the environment once
            if _process["backend"] is None:
                _process["backend"] = _from_environment()
    return _process["backend"]


def _from_environment():
    name = os.environ.get(ENV_VAR, "").strip() or "numpy"
    try:
        return make_backend(name)
    except (ValueError, RuntimeError) as error:
        raise type(error)(f"{ENV_VAR}={name!r}: {error}") from None


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

    It becomes the process default (what threads and contexts that never chose see) and this
    context's backend; a ``use_backend`` block around the call still ends with its caller's.

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
    backend = resolve_backend(name, device=device, dtype=dtype)
    _process["backend"] = backend
    _current.set(backend)
    return backend


@contextlib.contextmanager
def use_backend(name, *, device=None, dtype=None):
    """``with tinyml.use_backend("cupy"):`` makes a backend current inside the block only.

    Only in this context: other threads and asyncio tasks keep theirs, and the process default
    is unchanged. Arguments as for :func:`tinyml.set_backend`.
    """
    backend = resolve_backend(name, device=device, dtype=dtype)
    token = _current.set(backend)
    try:
        yield backend
    finally:
        _current.reset(token)


def asarray(data, dtype=None):
    """Put host data (NumPy, lists) or another backend's array on the current backend.

    Floating data takes the backend's dtype (float32 unless set otherwise); integer data, such
    as labels, keeps its own.
    """
    return get_backend().asarray(data, dtype=dtype)


def saved():
    """(process default, this context's) backend, for a snapshot (None: not chosen)."""
    return _process["backend"], _current.get()


def put_back(backends):
    """Install what :func:`saved` returned."""
    _process["backend"], mine = backends
    _current.set(mine)
