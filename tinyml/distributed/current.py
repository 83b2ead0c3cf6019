"""The communicator of the data-parallel run in progress, per context.

``Learner.fit`` makes its communicator current while it trains, so layers that need the
other processes (``BatchNorm1D(..., sync=True)``) find it without knowing about the loop. A
loop of your own does the same with ``with use_communicator(comm):``.
"""

import contextlib
import contextvars

_current = contextvars.ContextVar("tinyml_communicator", default=None)


def current_communicator():
    """The :class:`~tinyml.distributed.Communicator` in use here, or None (one process)."""
    return _current.get()


@contextlib.contextmanager
def use_communicator(comm):
    """``with use_communicator(comm):`` makes `comm` current inside the block only (None: no
    communicator, as in one process)."""
    token = _current.set(comm)
    try:
        yield comm
    finally:
        _current.reset(token)
