"""The options every optimizer takes as keywords: ``clip_norm``, ``decay_filter`` and
``scheduler`` (what each does is in :class:`tinyml.optim.Optimizer`'s docstring), and the loss
reports a scheduler reads."""

import math
import numbers

from ..backend import array_namespace
from ..core.params import Optional, Real
from .clip import clip_factor

_CLIP_NORM = Optional(Real(above=0.0))


class OptimizerOptions:
    """The part of :class:`~tinyml.optim.Optimizer` that keeps the three options; each
    setter validates."""

    @property
    def clip_norm(self):
        """None, or the largest global gradient norm: all gradients are scaled by one factor
        so that their joint L2 norm is at most this, as ``torch.nn.utils.clip_grad_norm_``."""
        return self._clip_norm

    @clip_norm.setter
    def clip_norm(self, value):
        self._clip_norm = _CLIP_NORM.check(self._name, "clip_norm", value, {})

    @property
    def decay_filter(self):
        """None (every parameter decays), or ``decay_filter(name, parameter) -> bool`` saying
        which parameters get weight decay."""
        return self._decay_filter

    @decay_filter.setter
    def decay_filter(self, value):
        if value is not None:
            if not callable(value):
                raise TypeError(f"{self._name}: decay_filter must be a function (name, "
                                f"parameter) -> bool, such as tinyml.optim."
                                f"no_decay_for_bias_and_norm; got {value!r}")
            if "weight_decay" not in self.hyperparameter_names:
                raise ValueError(f"{self._name}: decay_filter chooses which parameters get "
                                 f"weight decay, but {self._name} has no weight_decay; leave "
                                 "decay_filter out")
        self._decay_filter = value

    @property
    def scheduler(self):
        """None, or an object whose ``learning_rate(step, cur_loss)`` sets :attr:`lr` before
        each step (the classes of :mod:`tinyml.optim.schedules`)."""
        return self._scheduler

    @scheduler.setter
    def scheduler(self, value):
        if value is not None and not callable(getattr(value, "learning_rate", None)):
            raise TypeError(f"{self._name}: scheduler must have a method learning_rate(step, "
                            f"cur_loss=None) -> float, as the classes of tinyml.optim.schedules"
                            f"; got {value!r}")
        self._scheduler = value

    def report_loss(self, loss):
        """Hand `loss` (a Python number) to the scheduler as `cur_loss` at the next step.

        A training loop calls it once per epoch (:meth:`tinyml.Learner.fit` does, with the
        epoch's mean training loss), so schedules that watch the loss (ReduceOnPlateau, King)
        see it. A host number only: a device array here would make the loop wait for it.
        """
        if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
            raise TypeError(f"{self._name}.report_loss takes the loss as a Python number; got "
                            f"{type(loss).__name__}. Pass float(loss) once per epoch, not the "
                            "device array of every batch.")
        self.reported_loss = self._unseen_loss = float(loss)

    def _scheduled_lr(self, step):
        """The scheduler's lr for update number `step` (1-based), checked: a float >= 0."""
        loss, self._unseen_loss = self._unseen_loss, None  # each report reaches it once
        value = self._scheduler.learning_rate(step, cur_loss=loss)
        where = (f"{self._name}: the scheduler {type(self._scheduler).__name__} returned "
                 f"{value!r} for step {step}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where}; learning_rate(step, cur_loss) must return a Python float "
                            "(a device array would make every step wait for the device)")
        value = float(value)
        if not math.isfinite(value) or value < 0.0:
            raise ValueError(f"{where}; a learning rate must be a finite float >= 0. Check the "
                             "schedule's settings.")
        return value

    def _decays(self, ready):
        """The weight decay each ready parameter gets (None: the optimizer has none)."""
        if "weight_decay" not in self.hyperparameter_names:
            return [None] * len(ready)
        if self._decay_filter is None:
            return [self.weight_decay] * len(ready)
        decays = []
        for name, parameter, _, _ in ready:
            decide = self._decay_filter(name, parameter)
            if not isinstance(decide, bool):
                raise TypeError(f"{self._name}: decay_filter returned {decide!r} for parameter "
                                f"{name!r}; it must return True (decay it) or False (skip it)")
            decays.append(self.weight_decay if decide else 0.0)
        return decays

    def _clip_factor(self, ready):
        """min(1, clip_norm / (global norm + 1e-6)) as a 0-d array on the gradients' device."""
        grads = [parameter.grad for _, parameter, _, _ in ready]
        xp = array_namespace(*grads, names=lambda: [f"grad of {name!r}" for name, *_ in ready],
                             where=f"{self._name} (clip_norm)")
        return clip_factor(grads, self._clip_norm, xp=xp)

