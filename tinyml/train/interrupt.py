"""Ctrl-C during ``fit``: never half a step.

A KeyboardInterrupt that lands inside an optimizer step could leave some parameters updated
and the rest not (or a momentum buffer advanced without its weight). :class:`StepGuard`
catches SIGINT while a step runs and raises the KeyboardInterrupt when the step is done, so
every step is applied whole or not at all. Outside a step Ctrl-C raises at once, as usual.
"""

import signal
import threading


class StepGuard:
    """``with StepGuard() as guard:`` ... ``guard.begin_step()``; step; ``guard.end_step()``.

    Only Python's default SIGINT handler is replaced, and only in the main thread (the only
    one that receives signals); a handler you installed yourself, or SIG_IGN, stays as it is.
    """

    def __init__(self):
        self._in_step = False
        self._pending = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _on_sigint(self, signum, frame):
        if self._in_step:
            self._pending = True  # raised by end_step, once the step is whole
        else:
            raise KeyboardInterrupt

    def begin_step(self):
        self._in_step = True

    def end_step(self):
        """Leave the step; raise the KeyboardInterrupt that arrived during it, if one did."""
        self._in_step = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt
