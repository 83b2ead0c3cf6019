"""LearningRateScheduler: set the optimizer's learning rate at each epoch's start (Keras')."""

import math
import numbers

from ..optim import Optimizer
from .base import Callback
from .monitoring import LOG_NAME, VERBOSE, Monitor, say


class LearningRateScheduler(Callback):
    """Set ``learner.optimizer.lr`` before each epoch, from a function or a tinyml schedule.

    Parameters
    ----------
    schedule : callable ``(epoch, lr) -> float``, or a schedule of :mod:`tinyml.optim.schedules`
        A function, as in Keras: called at ``on_epoch_begin`` with the 0-based `epoch` and the
        optimizer's current `lr` (a float), it returns the epoch's rate, for example
        ``lambda epoch, lr: lr * 0.9 if epoch >= 5 else lr``.

        A schedule object (anything with ``learning_rate(step, cur_loss=None)``, such as
        :class:`~tinyml.optim.schedules.StepScheduler`) counts EPOCHS the way an optimizer's
        ``scheduler`` counts updates, from 1: epoch ``e`` (0-based) runs at
        ``schedule.learning_rate(e + 1, cur_loss=...)``. So ``StepScheduler(0.1, step_size=2)``
        runs epoch 0 at 0.1 and epochs 1 and 2 at 0.01, and ``CosineScheduler(0.1,
        total_steps=E)`` reaches ``min_lr`` in the E-th epoch. (PyTorch's epoch schedulers run
        epoch e at ``learning_rate(e)``: give ``total_steps=E + 1`` or ``step_size + 1`` for
        theirs.) `cur_loss` is the previous epoch's ``logs[monitor]`` (None before the first
        epoch), so ReduceOnPlateau and King see one report per epoch; the pure schedules
        ignore it.
    verbose : 0 or 1
        1 prints the rate set at each epoch.
    monitor : str
        For schedule objects only: the epoch log given as `cur_loss` ("loss", the epoch's
        mean training loss, as ``fit`` reports to the optimizer; or "val_loss").

    Raises
    ------
    TypeError
        At construction, when `schedule` is neither; at ``on_train_begin``, when the
        optimizer has no settable ``lr``.
    ValueError
        At ``on_train_begin``, when the optimizer has its own ``scheduler`` (it resets ``lr``
        at every update, so the two would fight; use one); at an epoch, when the schedule
        returns something other than a finite number >= 0 (the message names the epoch).

    Notes
    -----
    The rate holds for the whole epoch. At each epoch's end, ``logs["lr"]`` is set to it when
    the loop did not put it there already (callbacks after this one, as CSVLogger, see it).
    A rate of 0.0 is allowed (a cosine's end, a warm-up's start), as the optimizer's own
    schedules allow it.
    """

    declared_arguments = {"verbose": VERBOSE, "monitor": LOG_NAME}  # and schedule, by kind

    def __init__(self, schedule, verbose=0, monitor="loss"):
        if callable(getattr(schedule, "learning_rate", None)):
            self._rate = self._from_object
        elif callable(schedule):
            self._rate = self._from_function
        else:
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) "
                            f"-> lr, or a schedule of tinyml.optim.schedules; got {schedule!r}")
        self.schedule = schedule
        checked = self._checked(verbose=verbose, monitor=monitor)
        self.verbose = checked["verbose"]
        self.monitor = Monitor("LearningRateScheduler", checked["monitor"])
        self._last_logs = None

    def on_train_begin(self, logs=None):
        optimizer = self.learner.optimizer
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"LearningRateScheduler sets optimizer.lr, which "
                            f"{type(optimizer).__name__} does not have")
        if getattr(optimizer, "scheduler", None) is not None:
            raise ValueError(f"LearningRateScheduler: the optimizer already has a scheduler "
                             f"({type(optimizer.scheduler).__name__}), which sets lr before every "
                             f"update and would undo this callback's; use one of the two "
                             f"(optimizer.scheduler = None, or leave out the callback)")
        self.monitor.reset()
        self._last_logs = None

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.learner.optimizer
        lr = _checked_rate(self._rate(epoch, float(optimizer.lr)), epoch, self.schedule)
        _set_rate(optimizer, lr)
        if self.verbose:
            say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:.6g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.setdefault("lr", float(self.learner.optimizer.lr))
            self._last_logs = dict(logs)

    def _from_function(self, epoch, lr):
        return self.schedule(epoch, lr)

    def _from_object(self, epoch, lr):
        loss = None if self._last_logs is None else self.monitor.value(self._last_logs)
        return self.schedule.learning_rate(epoch + 1, cur_loss=loss)


def _checked_rate(value, epoch, schedule):
    """`value` as a finite Python float >= 0, or an error naming the epoch and the schedule."""
    where = f"LearningRateScheduler: the schedule {schedule!r} returned {value!r} for epoch {epoch}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}; it must return the learning rate as a Python float")
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{where}; a learning rate must be a finite number >= 0")
    return value


def _set_rate(optimizer, lr):
    """``optimizer.lr = lr``; 0.0 too, through ``set_scheduled_lr`` (tinyml's lr setter refuses
    0.0 from a user, a typo, but a schedule may reach it)."""
    if lr == 0.0 and isinstance(optimizer, Optimizer):
        optimizer.set_scheduled_lr(lr)
    else:
        optimizer.lr = lr
