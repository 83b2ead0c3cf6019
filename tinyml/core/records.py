"""Whether forward keeps records for backward: ``tinyml.no_grad()`` turns it off in a block.

Held in a ContextVar, so a thread or asyncio task that predicts under ``no_grad`` does not stop
another from training.
"""

import contextlib
import contextvars

_recording = contextvars.ContextVar("tinyml_grad_enabled", default=True)


def grad_enabled():
    """True unless inside ``with tinyml.no_grad():``."""
    return _recording.get()


@contextlib.contextmanager
def no_grad():
    """``with tinyml.no_grad():`` forward keeps nothing for backward (inference, evaluation).

    Nothing grows in memory while predicting, and a backward inside the block finds no record.
    """
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)
