"""One user of a Learner at a time: a call that would interleave with a running ``fit`` (or
another thread's call) is refused, not run.

Two ``fit`` calls on one Learner would step the same weights and write the same history,
epoch and step counts; an ``evaluate`` or ``predict`` from another thread switches the net to
eval mode under the running fit's steps; a ``load_checkpoint`` replaces the weights and counts
under it. The Learner holds a re-entrant lock (``_busy``): ``fit``, ``train_step``,
``evaluate``, ``predict``, ``save_checkpoint`` and ``load_checkpoint`` take it without
waiting, so the fitting thread's own callbacks may evaluate and save (they run between steps),
while another thread is refused with a RuntimeError. A second ``fit`` is refused from the
fitting thread too, and ``load_checkpoint`` during a fit from anywhere.
"""

import functools


def exclusive(what, *, not_during_fit=False):
    """Decorate a Learner method so that it runs only while no other thread uses the Learner
    (and, with `not_during_fit`, not while a fit runs in this thread either)."""
    def decorate(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            if not self._busy.acquire(blocking=False):
                raise RuntimeError(
                    f"{what}: this Learner is in use by another thread (fit, evaluate, "
                    "predict or a checkpoint); calls from two threads would interleave with "
                    "its steps and corrupt its weights, modes, history and counts. Wait for "
                    "the other call to return, or give each thread a Learner (and net) of its "
                    "own.")
            try:
                if not_during_fit and self._fitting:
                    raise RuntimeError(_DURING_FIT[what])
                return method(self, *args, **kwargs)
            finally:
                self._busy.release()
        return guarded
    return decorate


_DURING_FIT = {
    "fit": "fit: this Learner is already training (fit was called again from a callback of "
           "the running fit); two fits on one Learner would corrupt each other's weights, "
           "history and step counts. Let the first fit return, then call fit again.",
    "load_checkpoint": "load_checkpoint: fit is running on this Learner, and a checkpoint "
                       "loaded now would change its weights and counts under it; load before "
                       "fit, or pass fit(..., resume_from=path)",
}


def fitting(fit):
    """Mark the Learner as fitting while `fit` runs (inside :func:`exclusive`)."""
    @functools.wraps(fit)
    def marked(self, *args, **kwargs):
        self._fitting = True
        try:
            return fit(self, *args, **kwargs)
        finally:
            self._fitting = False
    return marked
