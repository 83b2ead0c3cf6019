"""Seeded random numbers, which the Array API standard does not have.

One random source per (library, device), created from the global seed on first use.
`tinyml.seed(n)` sets the seed and starts every source afresh, so the same seed gives the same
weights, dropout masks and shuffles on the same backend.
"""

import numpy as np

_state = {"seed": None, "sources": {}}


def seed(n):
    """Seed every backend's random source: weight init, dropout masks and shuffling.

    Parameters
    ----------
    n : int >= 0, or None for fresh entropy.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))):
        raise TypeError(f"seed must be a non-negative int or None; got {n!r}")
    if n is not None and n < 0:
        raise ValueError(f"seed must be a non-negative int or None; got {n}")
    _state["seed"] = None if n is None else int(n)
    _state["sources"].clear()


def generator_for(backend):
    """The random source of `backend`'s library and device (created on first use)."""
    key = (backend.name, str(backend.device))
    source = _state["sources"].get(key)
    if source is None:
        source = backend._random_factory(_state["seed"], backend)
        _state["sources"][key] = source
    return source


def _float_name(backend, dtype):
    if dtype is None:
        return backend.dtype_name
    if isinstance(dtype, str):
        name = dtype
    else:
        name = next((n for n in ("float32", "float64") if dtype == getattr(backend.xp, n)), None)
    if name not in ("float32", "float64"):
        raise ValueError(f"random draws are float32 or float64; got dtype {dtype!r}")
    return name


class HostRandom:
    """Draws with NumPy's PCG64 on the host, then moves the result to the backend.

    Used where the host is the device (numpy, array_api_strict, torch on the CPU): one seed gives
    the very same numbers on all three, which the tests use to compare backends.
    """

    def __init__(self, seed, backend):
        self._host = np.random.default_rng(seed)

    def uniform(self, backend, shape, low, high, dtype):
        name = _float_name(backend, dtype)
        draws = self._host.random(shape, dtype=name)
        if (low, high) != (0.0, 1.0):
            draws = draws * (high - low) + low
        return backend.xp.asarray(draws, dtype=getattr(backend.xp, name), device=backend.device)

    def normal(self, backend, shape, mean, std, dtype):
        name = _float_name(backend, dtype)
        draws = self._host.standard_normal(shape, dtype=name) * std + mean
        return backend.xp.asarray(draws, dtype=getattr(backend.xp, name), device=backend.device)

    def permutation(self, n):
        return self._host.permutation(n)


class CupyRandom(HostRandom):
    """Draws on the GPU with cupy.random, so dropout masks never cross the bus.

    Permutations (for shuffling host data) still come from the host generator.
    """

    def __init__(self, seed, backend):
        super().__init__(seed, backend)
        import cupy

        with backend.device:
            self._device_rng = cupy.random.RandomState(seed)

    def uniform(self, backend, shape, low, high, dtype):
        name = _float_name(backend, dtype)
        with backend.device:
            draws = self._device_rng.random_sample(shape, dtype=name)
            return draws * (high - low) + low if (low, high) != (0.0, 1.0) else draws

    def normal(self, backend, shape, mean, std, dtype):
        name = _float_name(backend, dtype)
        with backend.device:
            return self._device_rng.standard_normal(shape, dtype=name) * std + mean
