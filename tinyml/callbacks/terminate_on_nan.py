"""TerminateOnNaN: training stops at the first non-finite loss, and says where."""

import math
import warnings

from ..core.params import Flag
from .base import Callback


class TerminateOnNaN(Callback):
    """Stops training when a step's loss is NaN or infinite.

    Every step's loss stays on the device; the loop reads the losses of the steps since its
    last read at its logging interval (``fit(log_every=...)``) and at each epoch's end, and
    hands them to ``on_progress``. So a NaN is caught within one logging interval, without a
    wait for the device per batch, and the message names the exact step. ``fit`` always runs
    one (the first non-finite loss must never train on silently); passing your own replaces it.

    Parameters
    ----------
    raise_error : bool
        False (as Keras): stop training, warn with a RuntimeWarning, and let ``fit`` return the
        history so far (its ``stop_reason`` holds the message). True: raise FloatingPointError
        with the message instead.

    Attributes
    ----------
    message : str or None
        What stopped training, or None.
    last_finite : (step, loss) or None
        The last step (global, from 1) whose loss was finite, and that loss.
    """

    declared_arguments = {"raise_error": Flag()}

    def __init__(self, raise_error=False):
        self.raise_error = self._checked(raise_error=raise_error)["raise_error"]
        self.message = None
        self.last_finite = None

    def on_train_begin(self, logs=None):
        self.message = None
        self.last_finite = None
        self._epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_progress(self, batch, logs=None):
        if self.message is not None:
            return
        for step, batch_index, loss in zip(logs["steps"], logs["batches"], logs["losses"],
                                           strict=True):
            if not math.isfinite(loss):
                self._stop(step, batch_index, loss)
                return
            self.last_finite = (step, loss)

    def _stop(self, step, batch, loss):
        epochs = self.params["epochs"] if self.params else "?"
        if self.last_finite is None:
            before = "no step before it had a finite loss"
        else:
            before = f"the last finite loss was {self.last_finite[1]:.6g} at step " \
                     f"{self.last_finite[0]}"
        self.message = (f"the loss was {loss} at epoch {self._epoch + 1}/{epochs}, step {step} "
                        f"(batch {batch + 1} of the epoch); {before}. Training stopped "
                        "and the weights are probably not finite now. Lower the learning rate, "
                        "check the data (fit(check_inputs=True) finds NaN and inf inputs), or "
                        "clip gradients (clip_norm=...), then start again or resume from a "
                        "checkpoint.")
        self.learner.stop_training = True
        self.learner.stop_reason = self.message
        if self.raise_error:
            raise FloatingPointError(self.message)
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)
