"""The Backend object: one array library, one device, one default floating dtype.

It fills the gaps the Array API standard leaves (creating arrays from host data on a device,
random numbers, copying home) and nothing else: the math is plain standard calls on `xp`.
"""

import numpy as np

from ._budget import claim
from ._host import is_floating, namespace_name, to_numpy
from ._streams import generator_for

FLOAT_DTYPES = ("float32", "float64")


class Backend:
    """An array namespace on one device, with a default floating dtype and a random source.

    What a library must offer to be a backend: an Array API namespace (its own, or
    array-api-compat's wrapper) whose arrays take **in-place writes**: the optimizers update
    parameters and their state with ``data -= ...`` and ``x[...] = ...``, gradients
    accumulate with ``+=``, and the portable window transforms add into slices
    (``out[:, :, rows, cols] += ...``); JAX's immutable arrays would not do today. What tinyml
    must know about it (recognising its arrays, the copy home, devices, the random generator,
    its natives) is its adapter, one module in :mod:`tinyml.backend.adapters`.

    Attributes
    ----------
    name : str
        One of ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, ``"torch"``.
    xp : module
        The Array API namespace (array-api-compat's wrapper for numpy, cupy and torch).
    device : object
        The device arrays are created on, in the namespace's own spelling.
    dtype_name : str
        ``"float32"`` or ``"float64"``: the dtype of parameters and of floating data moved here.
    """

    def __init__(self, name, xp, device, dtype_name, random_factory):
        self.name = name
        self.xp = xp
        self.device = device
        self.dtype_name = dtype_name
        self.dtype = getattr(xp, dtype_name)
        self._random_factory = random_factory

    # ---------------------------------------------------------------- identity
    def __repr__(self):
        return f"Backend({self.name!r}, device={self.device!r}, dtype={self.dtype_name!r})"

    def __eq__(self, other):
        return isinstance(other, Backend) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    @property
    def key(self):
        """What makes two backends interchangeable: library, device and dtype."""
        return (self.name, str(self.device), self.dtype_name)

    # ---------------------------------------------------------------- arrays
    def asarray(self, data, dtype=None, *, copy=True):
        """Put `data` (host NumPy, a Python sequence, or any backend's array) on this backend.

        Floating data takes this backend's dtype unless `dtype` is given; integer and boolean
        data (labels, masks) keep theirs. With ``copy=True`` (the default) the result never
        shares memory with the input; ``copy=False`` lets it where no conversion is needed.
        """
        if dtype is not None:
            dtype = self._resolve_dtype(dtype)
        copy = True if copy else None  # None: copy only when needed, as the standard spells it
        if not isinstance(data, np.ndarray) and _is_native(data, self):
            if dtype is None and is_floating(data):
                dtype = self.dtype
            moved = self.xp.asarray(data, device=self.device, copy=copy)
            return moved if dtype is None else self.xp.astype(moved, dtype, copy=False)
        host = to_numpy(data)
        if host.dtype.kind not in "biuf":
            raise TypeError(
                f"tinyml holds numbers only; got host data of dtype {host.dtype}. "
                "Convert it to a numeric NumPy array first."
            )
        if dtype is None and host.dtype.kind == "f":
            dtype = self.dtype
        return self.xp.asarray(host, dtype=dtype, device=self.device, copy=copy)

    def zeros(self, shape, dtype=None):
        """Zeros of `shape` on this backend's device (default dtype unless given)."""
        claim(shape)
        dtype = self.dtype if dtype is None else self._resolve_dtype(dtype)
        return self.xp.zeros(shape, dtype=dtype, device=self.device)

    def ones(self, shape, dtype=None):
        """Ones of `shape` on this backend's device (default dtype unless given)."""
        claim(shape)
        dtype = self.dtype if dtype is None else self._resolve_dtype(dtype)
        return self.xp.ones(shape, dtype=dtype, device=self.device)

    def _resolve_dtype(self, dtype):
        if isinstance(dtype, str):
            return getattr(self.xp, dtype)
        return dtype

    # ---------------------------------------------------------------- randomness
    @property
    def random(self):
        """The current streams' generator of this library and device (see ``tinyml.seed``)."""
        return generator_for(self)

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        """Draws from U[low, high) on this backend's device."""
        claim(shape)
        return self.random.uniform(self, tuple(shape), float(low), float(high), dtype)

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        """Draws from N(mean, std**2) on this backend's device."""
        claim(shape)
        return self.random.normal(self, tuple(shape), float(mean), float(std), dtype)

    def permutation(self, n):
        """A random permutation of range(n) as a host NumPy int64 array (for indexing host data)."""
        return self.random.permutation(int(n))


def _is_native(data, backend):
    """True when `data` is already an array of `backend`'s library (any device)."""
    try:
        return namespace_name(data) == backend.name
    except TypeError:
        return False
