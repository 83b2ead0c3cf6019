"""EarlyStopping: stop training when a watched epoch log stops improving (Keras' callback)."""

import warnings

from ..backend import array_namespace, device_of
from ..core import counted
from ..core.params import Flag, Integer, Optional, Real
from .base import Callback
from .monitoring import LOG_NAME, MIN_DELTA, MODE, VERBOSE, Monitor, say


class EarlyStopping(Callback):
    r"""Stop training once `monitor` has not improved for `patience` epochs.

    At each epoch's end (from `start_from_epoch` on) the value :math:`v` of ``logs[monitor]``
    is compared with the best so far :math:`b`: it improves when :math:`v < b - \delta` (mode
    "min") or :math:`v > b + \delta` (mode "max"), :math:`\delta` = `min_delta`; NaN never
    does. Each epoch without improvement adds one to a count that an improvement resets;
    training stops (``learner.stop_training = True``) at the end of the epoch where the count
    reaches `patience`: ``patience=0`` stops at the first epoch that does not improve,
    ``patience=2`` after two of them in a row. Epoch 0 never stops training. This is Keras 3's
    ``EarlyStopping``.

    Parameters
    ----------
    monitor : str
        An epoch log: ``"val_loss"`` (needs ``validation_data``), ``"loss"``, ``"accuracy"``,
        ``"val_accuracy"``, ... When the logs lack it, a RuntimeWarning lists the keys they
        hold (once per fit) and nothing stops.
    patience : int >= 0
    min_delta : float >= 0
        The smallest change that counts as an improvement.
    mode : "auto", "min" or "max"
        "auto": "max" when the name contains "acc", "f1", "precision", "recall" or "auc",
        else "min".
    restore_best_weights : bool
        At the end of training, load the weights (parameters and buffers, not the optimizer's
        state) of the epoch with the best value into the net. As in Keras 3 this happens
        whenever training ends, stopped early or not, so the net always ends at its best
        epoch. The copies stay on the net's device (one copy of the weights per improvement,
        no host read). If no epoch improved (every value NaN), nothing is restored.
    baseline : float, optional
        The count restarts only on an improvement that also beats `baseline` (in the same
        sense, with `min_delta`): a run that never reaches the baseline stops after
        `patience` epochs.
    start_from_epoch : int >= 0
        Epochs (0-based) before this one are not watched: a warm-up.
    verbose : 0 or 1
        1 prints a line when training stops and when weights are restored.

    Attributes
    ----------
    best : float
        The best value seen (+inf or -inf before any).
    best_epoch : int or None
        The 0-based epoch of `best` (None before any improvement).
    stopped_epoch : int
        The 0-based epoch at whose end training was stopped; 0 when it was not.
    wait : int
        Epochs since the last improvement.

    Examples
    --------
    >>> from tinyml.callbacks import EarlyStopping
    >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    >>> # learner.fit(x, y, epochs=100, validation_data=(xv, yv), callbacks=[stop])
    """

    declared_arguments = {"monitor": LOG_NAME, "patience": Integer(0), "min_delta": MIN_DELTA,
                          "mode": MODE, "restore_best_weights": Flag(),
                          "baseline": Optional(Real()), "start_from_epoch": Integer(0),
                          "verbose": VERBOSE}

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False, baseline=None, start_from_epoch=0, verbose=0):
        checked = self._checked(
            monitor=monitor, patience=patience, min_delta=min_delta, mode=mode,
            restore_best_weights=restore_best_weights, baseline=baseline,
            start_from_epoch=start_from_epoch, verbose=verbose)
        self.monitor = Monitor("EarlyStopping", checked["monitor"], checked["mode"],
                               checked["min_delta"])
        self.patience, self.baseline = checked["patience"], checked["baseline"]
        self.restore_best_weights = checked["restore_best_weights"]
        self.start_from_epoch, self.verbose = checked["start_from_epoch"], checked["verbose"]
        self._reset()

    def _reset(self):
        self.best = self.monitor.worst
        self.best_epoch = None
        self.stopped_epoch = 0
        self.wait = 0
        self._best_weights = None

    def on_train_begin(self, logs=None):
        self._reset()  # the callback can be reused for another fit
        self.monitor.reset()

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        value = self.monitor.value(logs)
        if value is None:
            return
        self.wait += 1
        if self.monitor.improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self._best_weights = _device_copy(self.learner.net.state_dict())
            if self.baseline is None or self.monitor.improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.learner.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            best = ("" if self.best_epoch is None else
                    f"; best {self.best:.6g} at epoch {self.best_epoch + 1}")
            say(f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor.name} did not "
                f"improve for {counted(self.wait, 'epoch')}{best})")
        if not self.restore_best_weights:
            return
        if self._best_weights is None:
            warnings.warn(f"EarlyStopping: restore_best_weights had no epoch to restore: "
                          f"{self.monitor.name!r} was never an improvement (missing, NaN, or "
                          f"training ended before start_from_epoch {self.start_from_epoch}); "
                          f"the net keeps its last weights.", RuntimeWarning, stacklevel=2)
            return
        if self.verbose:
            say(f"Restoring model weights from the end of the best epoch: "
                f"{self.best_epoch + 1}.")
        self.learner.net.load_state_dict(self._best_weights)
        self._best_weights = None  # the net may now hold these very arrays


def _device_copy(state):
    """{key: a copy of the array, on its own device}: the optimizer updates in place."""
    copies = {}
    for key, array in state.items():
        xp = array_namespace(array)
        copies[key] = xp.asarray(array, copy=True, device=device_of(array))
    return copies
