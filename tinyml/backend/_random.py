"""Seeded random generators, which the Array API standard does not have.

Each generator serves one (library, device) and starts from the SeedSequence that
:mod:`._streams` derives from the seed, the process rank and the device. :class:`HostRandom`
serves every library whose adapter names no generator of its own (CuPy's draws on the GPU:
:class:`tinyml.backend.adapters.cupy.CupyRandom`).
"""

import copy

import numpy as np


def float_name(backend, dtype):
    """"float32" or "float64": the dtype a draw asks for (`backend`'s when None)."""
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
    the very same numbers on all three, which the tests use to compare backends. The root
    SeedSequence of a seed gives exactly ``numpy.random.default_rng(seed)``.
    """

    def __init__(self, seed_sequence, backend):
        self._host = np.random.default_rng(seed_sequence)

    def copy(self):
        """A generator that goes on from exactly where this one is."""
        twin = copy.copy(self)
        twin._host = copy.deepcopy(self._host)
        return twin

    def host_state(self):
        """The host generator's state (PCG64's, plain Python values)."""
        return self._host.bit_generator.state

    def set_host_state(self, state):
        """Go on from `state` (what :meth:`host_state` returned); ValueError if damaged."""
        self._host.bit_generator.state = checked_host_state(state)

    def uniform(self, backend, shape, low, high, dtype):
        name = float_name(backend, dtype)
        draws = self._host.random(shape, dtype=name)
        if (low, high) != (0.0, 1.0):
            draws = draws * (high - low) + low
        return backend.xp.asarray(draws, dtype=getattr(backend.xp, name), device=backend.device)

    def normal(self, backend, shape, mean, std, dtype):
        name = float_name(backend, dtype)
        draws = self._host.standard_normal(shape, dtype=name) * std + mean
        return backend.xp.asarray(draws, dtype=getattr(backend.xp, name), device=backend.device)

    def permutation(self, n):
        return self._host.permutation(n)


def checked_host_state(state):
    """`state` if it is a PCG64 state as ``bit_generator.state`` gives it (the only kind
    :meth:`HostRandom.host_state` returns), else a ValueError saying what is wrong: NumPy's
    own setter takes some damage quietly (a float counter is truncated) or fails with an
    OverflowError."""
    def damaged(what):
        return ValueError(f"the saved random state is damaged: {what}; got {state!r}")

    if not isinstance(state, dict) or set(state) != {"bit_generator", "state", "has_uint32",
                                                       "uinteger"}:
        raise damaged("expected a dict with the keys bit_generator, state, has_uint32 and "
                      "uinteger (NumPy's PCG64 state)")
    if state["bit_generator"] != "PCG64":
        raise damaged("its bit_generator is not 'PCG64'")
    inner = state["state"]
    if not isinstance(inner, dict) or set(inner) != {"state", "inc"} or not all(
            _whole_in(inner[key], 2**128) for key in ("state", "inc")):
        raise damaged("its state must be {'state': int, 'inc': int}, each in [0, 2**128)")
    if inner["inc"] % 2 == 0:
        raise damaged("its increment 'inc' is even; PCG64's is always odd")
    if not (_whole_in(state["has_uint32"], 2) and _whole_in(state["uinteger"], 2**32)):
        raise damaged("has_uint32 must be 0 or 1 and uinteger an int in [0, 2**32)")
    return state


def _whole_in(value, end):
    return type(value) is int and 0 <= value < end
