"""What tinyml must know about an array library, and what it assumes when a library says
nothing: the :class:`Adapter` each library's module in this package fills in."""

import importlib
import importlib.util

import array_api_compat
import numpy as np

from .._random import HostRandom


class Adapter:
    """Everything tinyml knows about one array library, in one object.

    The rest of tinyml asks the adapter and never names the library: recognising its arrays
    (:func:`tinyml.backend.namespace_name`), their device and the copy home
    (:func:`tinyml.to_numpy`), building a Backend (:func:`tinyml.backend.make_backend`),
    the random generator and device index the streams key on, its natives, and the test
    fixture's device and skip reason. A subclass overrides what differs from these defaults.

    Attributes
    ----------
    name : str
        The library as :func:`tinyml.backend.namespace_name` spells it.
    module : str
        The package to import (and to look for when deciding whether to skip its tests).
    install : str
        What to run when `module` is missing (ends the RuntimeError make_backend raises).
    rank : int
        Where it is listed: ``KNOWN_BACKENDS`` and the messages that name the backends go by
        rank, then name (a new library's default, 100, lists it after tinyml's own).
    makes_backend : bool
        True when ``tinyml.set_backend(name)`` may choose it (ndonnx only traces a graph).
    gpu : bool
        Its test runs need a GPU: marked ``gpu`` and run after the host libraries.
    one_device : bool
        All its arrays live on one device, so arrays that meet need no device comparison.
    test_device : object or None
        The device the test fixture puts it on (None: its default).
    natives : dict
        Operation name -> ``"module.function"`` in :mod:`tinyml.backend.ops`: the natives
        this library has, registered from here when the operations are imported.
    random_factory : class
        Makes the generator of one device from a SeedSequence (``factory(sequence, backend)``).
    """

    name = None
    module = None
    install = None
    rank = 100
    makes_backend = True
    gpu = False
    one_device = False
    test_device = None
    natives = {}
    random_factory = HostRandom

    def __repr__(self):
        return f"<tinyml adapter for {self.name}>"

    def is_namespace(self, xp):
        """True when `xp` is this library's Array API namespace."""
        raise NotImplementedError(f"{type(self).__name__} must say which namespace is its own")

    def namespace(self):
        """Import the library and return its Array API namespace; RuntimeError when it is not
        installed (or cannot run here), saying how to install it."""
        return self.imported()

    def device(self, spec):
        """The device `spec` names (None: the default one), in the library's own spelling;
        ValueError naming the valid ones when there is no such device."""
        raise ValueError(f"the {self.name} backend takes no device; got device={spec!r}")

    def device_of(self, x):
        """The device of the library's array `x`, in its own spelling."""
        return array_api_compat.device(x)

    def to_numpy(self, x):
        """A host NumPy array of the library's array `x` (DLPack, the standard's way across)."""
        return np.from_dlpack(x)

    def device_index(self, device):
        """The physical device that `device` is, for the random streams: its GPU number, or 0
        for the host."""
        return 0

    def test_skip_reason(self):
        """Why the backend fixture skips this library here, or None to run it."""
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed (optional backend)"
        return None

    def imported(self):
        """The library's module, imported; RuntimeError saying how to install it when missing."""
        try:
            return importlib.import_module(self.module)
        except ImportError as error:
            raise RuntimeError(
                f"the {self.name} backend needs the '{self.module}' package, which is not "
                f"installed ({error}). Install it with: {self.install}"
            ) from None


def extra_install(extra, package):
    """How to install tinyml's optional `extra` (which adds `package`): first the command that
    works in a clone (no package index has tinyml-xp yet), then the plain package."""
    return (f'pip install -e ".[{extra}]" in the root of a clone of tinyml, or pip install '
            f'{package}')
