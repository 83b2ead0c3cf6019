"""The backend shim: the only place where the math's array libraries are named.

It chooses the array library and device (``set_backend``, ``use_backend``, ``TINYML_BACKEND``),
creates arrays there, owns the seeded random numbers, and moves data to and from the host.
The backend and the random streams are current per context (``contextvars``); ``snapshot`` and
``restore`` save and put them back.
Everything else in tinyml takes its namespace from its arrays with :func:`array_namespace`.
The backend operations (:mod:`tinyml.backend.ops`: scatter-add, the window transforms) have a
portable path and natives per library; ``portable_ops()`` or ``TINYML_PORTABLE_OPS=1`` forces
the portable one.
"""

from . import adapters, ops
from ._backend import FLOAT_DTYPES, Backend
from ._budget import AllocationRefused, allocation_budget, hold
from ._host import (
    device_of,
    dtype_kind,
    host_copy,
    host_namespace,
    is_floating,
    is_integral,
    namespace_name,
    to_numpy,
)
from ._namespace import array_namespace, backend_of, read_floats
from ._registry import KNOWN_BACKENDS, make_backend
from ._snapshot import Snapshot, reset, restore, snapshot
from ._state import ENV_VAR, asarray, get_backend, resolve_backend, set_backend, use_backend
from ._streams import Streams, current_streams, load_streams_state, seed, streams_state, use_seed
from .adapters import extra_install
from .ops import PORTABLE_ENV_VAR, portable_ops

__all__ = [
    "AllocationRefused",
    "ENV_VAR",
    "FLOAT_DTYPES",
    "KNOWN_BACKENDS",
    "PORTABLE_ENV_VAR",
    "Backend",
    "Snapshot",
    "Streams",
    "adapters",
    "allocation_budget",
    "array_namespace",
    "asarray",
    "backend_of",
    "current_streams",
    "device_of",
    "dtype_kind",
    "extra_install",
    "get_backend",
    "hold",
    "host_copy",
    "host_namespace",
    "is_floating",
    "is_integral",
    "load_streams_state",
    "make_backend",
    "namespace_name",
    "ops",
    "portable_ops",
    "read_floats",
    "reset",
    "resolve_backend",
    "restore",
    "seed",
    "set_backend",
    "snapshot",
    "streams_state",
    "to_numpy",
    "use_backend",
    "use_seed",
]
