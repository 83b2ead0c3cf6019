"""Whether layers that take integer indices (Embedding) check their range in every forward.

An index outside a table is a silent wrong answer on a GPU (CuPy reads another row; nothing
raises), so such a layer checks every forward's indices by default. The check reads one bool
back from the device per forward: a wait for the GPU in every step. A caller that has checked
the whole data once, on the host, turns the per-forward check off for a block with
``with skip_index_checks():`` (``Learner.fit``, ``evaluate`` and ``predict`` do). Held in a
ContextVar, so the block holds for this thread or asyncio task only.
"""

import contextlib
import contextvars

_checking = contextvars.ContextVar("tinyml_index_checks", default=True)


def index_checks_enabled():
    """True unless inside ``with skip_index_checks():``."""
    return _checking.get()


@contextlib.contextmanager
def skip_index_checks():
    """``with skip_index_checks():`` layers that take indices trust them to be in range.

    For a loop that has checked every index it will feed, once, before it starts (the
    Learner checks its data on the host per fit, evaluate and predict). An index out of
    range inside the block is not refused: NumPy and PyTorch raise their own IndexError, CuPy
    reads the wrong row.
    """
    token = _checking.set(False)
    try:
        yield
    finally:
        _checking.reset(token)
