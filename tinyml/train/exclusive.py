"""One ``fit`` at a time per Learner: a second call while one runs is refused, not interleaved."""

import functools


def one_fit_at_a_time(fit):
    """Refuse (RuntimeError) a ``fit`` on a Learner whose ``fit`` is running, called from
    another thread or from a callback of the running one: both would step the same weights and
    write the same history, epoch and step counts. The Learner holds the lock as
    ``_fit_lock`` (a ``threading.Lock``)."""
    @functools.wraps(fit)
    def guarded(self, *args, **kwargs):
        if not self._fit_lock.acquire(blocking=False):
            raise RuntimeError("fit: this Learner is already training (fit was called again "
                               "from another thread, or from a callback of the running fit); "
                               "two fits on one Learner would corrupt each other's weights, "
                               "history and step counts. Wait for the first to return, or give "
                               "each thread a Learner (and net) of its own.")
        try:
            return fit(self, *args, **kwargs)
        finally:
            self._fit_lock.release()
    return guarded
