"""One adapter per array library: everything tinyml knows about NumPy, CuPy, PyTorch,
array_api_strict and ndonnx sits in that library's module here (an :class:`~.base.Adapter`);
the rest of tinyml asks the adapter.

A new library is one module here (a subclass of :class:`~.base.Adapter` and its ``ADAPTER``),
found when this package is imported, and, if it has natives, their kernels in
:mod:`tinyml.backend.ops`, named by the adapter's ``natives``. No library is imported until an
array of it is met or a backend of it is made.
"""

import importlib
import pkgutil

from .base import Adapter, extra_install


def _found():
    """The ADAPTER of every module of this package but ``base``, in their ``rank`` order."""
    found = [importlib.import_module(f"{__name__}.{module.name}").ADAPTER
             for module in pkgutil.iter_modules(__path__) if module.name != "base"]
    return tuple(sorted(found, key=lambda adapter: (adapter.rank, adapter.name)))


ADAPTERS = _found()
BY_NAME = {adapter.name: adapter for adapter in ADAPTERS}
KNOWN_BACKENDS = tuple(adapter.name for adapter in ADAPTERS if adapter.makes_backend)


def named(name):
    """The adapter of library `name` (as ``namespace_name`` spells it), or None."""
    return BY_NAME.get(name)


def for_namespace(xp):
    """The adapter whose library `xp` is the Array API namespace of, or None."""
    return next((adapter for adapter in ADAPTERS if adapter.is_namespace(xp)), None)


__all__ = ["ADAPTERS", "Adapter", "BY_NAME", "KNOWN_BACKENDS", "extra_install", "for_namespace",
           "named"]
