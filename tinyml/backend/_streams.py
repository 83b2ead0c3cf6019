"""Which random streams are current: per context, keyed by seed, device and process rank.

A :class:`Streams` holds a seed, a rank and one generator per (library, device), made on first
use. ``tinyml.seed(n)`` installs new Streams as the process default (what a thread or context
that never chose draws from) and as this context's; ``use_seed(n)`` installs new Streams for a
block only and then puts the caller's back untouched. The current Streams live in a
``contextvars.ContextVar``, so threads and asyncio tasks that call ``use_seed`` do not change
each other's.

How seed, rank and device map to a stream
-----------------------------------------
The generator of a device starts from ``numpy.random.SeedSequence(seed, spawn_key=(rank,
index))``, where `index` is the GPU number (CuPy, torch on CUDA) and 0 for the host (numpy,
every array_api_strict device, torch on the CPU). The first device at rank 0 starts from the
seed itself: ``numpy.random.default_rng(seed)`` on the host and ``cupy.random.RandomState(seed)``
on GPU 0, the streams tinyml always drew. So every host backend draws the same numbers from one
seed, while a second GPU, or another data-parallel process, draws its own.
"""

import contextlib
import contextvars
import threading

import numpy as np

from . import adapters
from ._random import checked_host_state


class Streams:
    """The random generators of one seed and rank, one per (library, device), made on first use.

    Attributes
    ----------
    seed : int or None
        The seed they were made from (None: fresh entropy, drawn once for all devices).
    rank : int
        The data-parallel process rank, which offsets every device's stream (0: no offset).
    """

    def __init__(self, seed=None, rank=0):
        self.seed = seed
        self.rank = rank
        self._entropy = np.random.SeedSequence(seed).entropy
        self._generators = {}
        self._resumed = {}  # (library, device) -> host state to start from, from from_state
        self._lock = threading.Lock()

    def __repr__(self):
        return f"Streams(seed={self.seed!r}, rank={self.rank})"

    def generator_for(self, backend):
        """The generator of `backend`'s library and device, made on first use."""
        key = (backend.name, str(backend.device))
        found = self._generators.get(key)
        if found is None:
            with self._lock:  # two threads drawing first from shared Streams make one generator
                found = self._generators.get(key)
                if found is None:
                    sequence = self.seed_sequence(device_index(backend))
                    found = backend._random_factory(sequence, backend)
                    if key in self._resumed:
                        found.set_host_state(self._resumed.pop(key))
                    self._generators[key] = found
        return found

    def seed_sequence(self, index):
        """The SeedSequence a device with GPU number `index` (0 for the host) starts from."""
        spawn_key = () if (self.rank, index) == (0, 0) else (self.rank, index)
        return np.random.SeedSequence(self._entropy, spawn_key=spawn_key)

    def copy(self):
        """Streams that go on from exactly here: host generators are copied; a CuPy generator
        cannot be (curand exports no state), so the copy shares it."""
        twin = Streams.__new__(Streams)
        twin.seed, twin.rank, twin._entropy = self.seed, self.rank, self._entropy
        twin._generators = {key: found.copy() for key, found in self._generators.items()}
        twin._resumed = dict(self._resumed)
        twin._lock = threading.Lock()
        return twin

    def state(self):
        """Where every stream is, as plain JSON-able Python values (for a checkpoint).

        ``{"seed", "rank", "entropy", "generators": {"library|device": host state}}``, the host
        state being NumPy's PCG64 ``bit_generator.state``. A CuPy generator's GPU state is not
        in it (curand exports none): after a resume, dropout masks drawn on a GPU differ from
        an uninterrupted run's, while shuffles and every host draw repeat exactly.
        """
        generators = {f"{library}|{device}": found.host_state()
                      for (library, device), found in self._generators.items()}
        generators.update({f"{library}|{device}": state
                           for (library, device), state in self._resumed.items()})
        return {"seed": self.seed, "rank": self.rank, "entropy": self._entropy,
                "generators": generators}

    @classmethod
    def from_state(cls, state):
        """Streams that go on from where :meth:`state` was taken; each generator is made on its
        first use, as usual, and starts from its saved state.

        Every part is checked first (the seed, the rank, the entropy and each generator's
        state), so damaged streams are a ValueError here, never at a later draw or
        ``tinyml.seed``.
        """
        def damaged(what):
            return ValueError(f"the saved random streams are damaged: {what}")

        keys = {"seed", "rank", "entropy", "generators"}
        if not isinstance(state, dict) or set(state) != keys:
            raise damaged(f"expected a dict with the keys {sorted(keys)}; got {state!r}")
        try:
            seed = _checked_seed(state["seed"])
            rank = _checked_rank(state["rank"] if state["rank"] is not None else "None")
        except (TypeError, ValueError) as error:
            raise damaged(str(error)) from None
        entropy, generators = state["entropy"], state["generators"]
        if type(entropy) is not int or entropy < 0:
            raise damaged(f"the entropy must be an int >= 0; got {entropy!r}")
        if not isinstance(generators, dict) or not all(
                isinstance(key, str) and "|" in key for key in generators):
            raise damaged(f"generators must map 'library|device' to a state; got {generators!r}")
        resumed = {}
        for key, value in generators.items():
            try:
                resumed[tuple(key.split("|", 1))] = checked_host_state(value)
            except ValueError as error:
                raise damaged(f"generator {key!r}: {error}") from None
        twin = cls(seed, rank)
        twin._entropy = entropy
        twin._resumed = resumed
        return twin


def device_index(backend):
    """The physical device `backend` draws for: its GPU number, or 0 for the host."""
    return adapters.named(backend.name).device_index(backend.device)


_process = {"streams": Streams()}
_current = contextvars.ContextVar("tinyml_streams", default=None)


def current_streams():
    """This context's Streams, else the process default."""
    streams = _current.get()
    return _process["streams"] if streams is None else streams


def generator_for(backend):
    """The current random source of `backend`'s library and device (made on first use)."""
    return current_streams().generator_for(backend)


def seed(n, *, rank=None):
    """Seed every backend's random numbers: weight init, dropout masks and shuffling.

    Sets the process default (what threads and contexts that never chose draw from) and this
    context's streams, as ``set_backend`` does for the backend.

    Parameters
    ----------
    n : int >= 0, or None for fresh entropy.
    rank : int >= 0, optional
        The data-parallel process rank: rank r > 0 draws streams of its own, so replicas draw
        different dropout masks and shuffles (and weights: seed with rank 0 to build the net,
        or broadcast rank 0's weights, then ``seed(n, rank=r)`` to train). None keeps the
        current rank (0 in a fresh process). tinyml reads no launcher's environment variable
        for it: pass it from your launcher, e.g. ``rank=int(os.environ["RANK"])``.

    Examples
    --------
    >>> import tinyml
    >>> tinyml.seed(0)
    >>> tinyml.seed(0, rank=3)   # process 3 of a data-parallel run
    """
    streams = Streams(_checked_seed(n), _checked_rank(rank))
    _process["streams"] = streams
    _current.set(streams)


@contextlib.contextmanager
def use_seed(n, *, rank=None):
    """``with tinyml.use_seed(0):`` draws from fresh streams seeded `n` inside the block only.

    Afterwards the caller's streams are back exactly as they were: no draw inside the block
    advances them. `n` and `rank` as in :func:`tinyml.seed`.
    """
    token = _current.set(Streams(_checked_seed(n), _checked_rank(rank)))
    try:
        yield
    finally:
        _current.reset(token)


def streams_state():
    """This context's random streams as plain Python values (:meth:`Streams.state`)."""
    return current_streams().state()


def load_streams_state(state):
    """Install the streams :func:`streams_state` saved (or Streams already built from them by
    :meth:`Streams.from_state`), as the process default and this context's (as :func:`tinyml.seed`
    does), so the next draws are those that followed the save."""
    streams = state if isinstance(state, Streams) else Streams.from_state(state)
    _process["streams"] = streams
    _current.set(streams)


def _checked_seed(n):
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))):
        raise TypeError(f"seed must be a non-negative int or None; got {n!r}")
    if n is not None and n < 0:
        raise ValueError(f"seed must be a non-negative int or None; got {n}")
    return None if n is None else int(n)


def _checked_rank(rank):
    if rank is None:
        return current_streams().rank
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)):
        raise TypeError(f"rank must be a non-negative int (the process rank) or None to keep "
                        f"the current one; got {rank!r}")
    if rank < 0:
        raise ValueError(f"rank must be a non-negative int (the process rank); got {rank}. "
                         "Ranks count from 0.")
    return int(rank)


def saved():
    """(process default, this context's) Streams as copies, for a snapshot."""
    default, mine = _process["streams"], _current.get()
    return _copied(default, mine)


def put_back(streams):
    """Install what :func:`saved` returned (copied again, so a snapshot can be restored twice)."""
    default, mine = _copied(*streams)
    _process["streams"] = default
    _current.set(mine)


def fresh():
    """Unseeded streams at rank 0 everywhere in this context, as in a new process."""
    _process["streams"] = Streams()
    _current.set(None)


def _copied(default, mine):
    """Copies of both; one copy when they are one object, so they stay shared."""
    default_copy = default.copy()
    if mine is None or mine is default:
        return default_copy, (None if mine is None else default_copy)
    return default_copy, mine.copy()

