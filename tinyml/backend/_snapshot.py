"""Saving and putting back what is current (backend and random streams), for tests and tools.

``saved = snapshot()`` ... ``restore(saved)`` leaves the process default and this context's
backend and streams as they were; ``reset()`` forgets every choice, as in a new process (the
next ``get_backend()`` reads $TINYML_BACKEND again).
"""

from . import _state, _streams


class Snapshot:
    """What was current when :func:`snapshot` was called. Opaque: pass it to :func:`restore`."""

    __slots__ = ("_backends", "_streams")

    def __init__(self, backends, streams):
        self._backends = backends
        self._streams = streams

    def __repr__(self):
        backend = self._backends[1] or self._backends[0]
        streams = self._streams[1] or self._streams[0]
        return f"<tinyml.backend.Snapshot of {backend!r}, {streams!r}>"


def snapshot():
    """The process default and this context's backend and random streams, as a Snapshot.

    The host generators' states are copied, so draws made after the snapshot do not change what
    :func:`restore` puts back (a CuPy generator cannot be copied: the snapshot shares it).

    Examples
    --------
    >>> import tinyml
    >>> saved = tinyml.backend.snapshot()
    >>> _ = tinyml.set_backend("numpy", dtype="float64"); tinyml.seed(1)
    >>> tinyml.backend.restore(saved)
    """
    return Snapshot(_state.saved(), _streams.saved())


def restore(saved):
    """Put back the backend and random streams that `saved` (from :func:`snapshot`) recorded.

    Raises
    ------
    TypeError
        `saved` is not a Snapshot.
    """
    if not isinstance(saved, Snapshot):
        raise TypeError(f"restore expects what tinyml.backend.snapshot() returned; got "
                        f"{type(saved).__name__}. Take one with saved = snapshot() first.")
    _state.put_back(saved._backends)
    _streams.put_back(saved._streams)


def reset():
    """Forget every choice, as in a new process: no backend chosen (the next ``get_backend()``
    reads $TINYML_BACKEND), unseeded streams at rank 0. Take a :func:`snapshot` first to come
    back."""
    _state.put_back((None, None))
    _streams.fresh()
