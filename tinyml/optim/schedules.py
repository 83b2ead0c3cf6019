r"""Learning-rate schedules: ``learning_rate(step, cur_loss=None) -> float``.

numpy-ml's four (:class:`ConstantScheduler`, :class:`ExponentialScheduler`,
:class:`KingScheduler`, :class:`NoamScheduler`) and three that PyTorch users reach for
(:class:`StepScheduler`, :class:`CosineScheduler`, :class:`ReduceOnPlateau`).

The step
--------
`step` is the number of the update about to happen, counting from 1: an optimizer asks for
``learning_rate(1)`` before its first update, ``learning_rate(2)`` before its second, and so on.
Each formula below is written in that `step` :math:`t`, and what a schedule names happens at
that very step: Noam's peak and the end of Cosine's warm-up are at ``step == warmup_steps``,
Cosine reaches ``min_lr`` at ``step == total_steps``, and a staircase drops at ``step ==
stage_length``. ``step == 0`` (before any update) is allowed and gives the formula's value
there, as each class says. Compared with PyTorch: ``learning_rate(t)`` equals the rate its
counterpart (``StepLR``, ``CosineAnnealingLR``, ``ExponentialLR`` for a smooth exponential
with ``stage_length=1``) holds after `t` calls of its ``step()``. The usual PyTorch loop
(``optimizer.step(); scheduler.step()``) runs its update t at the rate after t - 1 calls,
which is ``learning_rate(t - 1)`` here.

The loss
--------
:class:`KingScheduler` and :class:`ReduceOnPlateau` are driven by the loss, so they are
stateful: each call with a `cur_loss` is one report that they remember (feed them one loss per
epoch, or per update for King), and a call with ``cur_loss=None`` only reads the current rate,
changing nothing. The other schedules are pure functions of `step` and ignore `cur_loss`.
Every schedule has ``state_dict()`` / ``load_state_dict()`` (plain Python numbers and lists;
empty but the type for the pure ones), so a checkpoint resumes exactly.

Every value returned is a Python float >= 0.
"""

import math
import numbers
import sys
from collections.abc import Mapping

from ..core.params import Flag, Integer, ListOf, Optional, Real, check_arguments

__all__ = [
    "ConstantScheduler",
    "CosineScheduler",
    "ExponentialScheduler",
    "KingScheduler",
    "NoamScheduler",
    "ReduceOnPlateau",
    "Scheduler",
    "StepScheduler",
]


class Scheduler:
    """Base class: hyperparameters, ``repr``, argument checks, ``state_dict``.

    A subclass declares its constructor's arguments in :attr:`declared_arguments` (``{name:
    rule}`` with the rules of :mod:`tinyml.core.params`, in signature order) and passes them to
    this constructor by keyword, which checks them and sets them as attributes;
    :attr:`hyperparameter_names` follows from the declaration. A stateful schedule declares
    the attributes that change as it runs in :attr:`declared_state` (checked the same way by
    :meth:`load_state_dict`; :attr:`state_names` follows), and overrides
    ``_check_together`` and ``_checked_state`` for rules across several values.
    Every subclass implements :meth:`learning_rate`.
    """

    declared_arguments = {}
    declared_state = {}
    hyperparameter_names = ()
    state_names = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.hyperparameter_names = tuple(cls.declared_arguments)
        cls.state_names = tuple(cls.declared_state)

    def __init__(self, **arguments):
        checked = check_arguments(self._name, self.declared_arguments, arguments)
        self._check_together(checked)
        for name, value in checked.items():
            setattr(self, name, value)

    def _check_together(self, arguments):
        """Raise where checked `arguments` do not go together; none by default."""

    def learning_rate(self, step, cur_loss=None):
        """The learning rate (a Python float >= 0) for update number `step` (from 1)."""
        raise NotImplementedError(f"{self._name} must implement learning_rate(step, cur_loss)")

    @property
    def hyperparameters(self):
        """{name: value} of the constructor's arguments, in signature order."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.hyperparameters.items())
        return f"{self._name}({arguments})"

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """``{"type": class name, <state>: plain Python numbers and lists}``."""
        state = {"type": self._name}
        for name in self.state_names:
            value = getattr(self, name)
            state[name] = list(value) if isinstance(value, list) else value
        return state

    def load_state_dict(self, state):
        """Resume from what :meth:`state_dict` gave; nothing changes unless all of it loads.

        Raises TypeError when `state` is not a mapping and ValueError when it belongs to
        another schedule, lacks or adds keys, or holds values this schedule cannot have.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"{self._name}.load_state_dict expects the dict state_dict() "
                            f"returned; got {type(state).__name__}")
        if state.get("type") != self._name:
            raise ValueError(f"{self._name}.load_state_dict: this state is of "
                             f"{state.get('type')!r}, not {self._name!r}")
        expected = {"type", *self.state_names}
        if set(state) != expected:
            missing = sorted(expected - set(state))
            unexpected = sorted(set(state) - expected)
            raise ValueError(f"{self._name}.load_state_dict: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        for name, value in self._checked_state(state).items():
            setattr(self, name, value)

    def _checked_state(self, state):
        """{attribute: value} from `state`, each checked by :attr:`declared_state`; raises
        ValueError/TypeError. A subclass adds the checks across values."""
        return check_arguments(f"{self._name}.load_state_dict", self.declared_state, state)

    # ---------------------------------------------------------------- checks
    @property
    def _name(self):
        return type(self).__name__

    def _step(self, step):
        """`step` as an int >= 0, or an error saying what a step is."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise TypeError(f"{self._name}.learning_rate: step must be an int, the number of "
                            f"the update about to happen (from 1); got {step!r}")
        if step < 0:
            raise ValueError(f"{self._name}.learning_rate: step must be >= 0 (updates count "
                             f"from 1); got {step}")
        return int(step)

    def _loss(self, cur_loss):
        """`cur_loss` as a finite Python float (None stays None)."""
        if cur_loss is None:
            return None
        if isinstance(cur_loss, bool) or not (
            isinstance(cur_loss, numbers.Real) or getattr(cur_loss, "shape", None) == ()
        ):
            raise TypeError(f"{self._name}.learning_rate: cur_loss must be a number (the loss "
                            f"to report) or None; got {type(cur_loss).__name__}")
        value = float(cur_loss)
        if not math.isfinite(value):
            raise ValueError(f"{self._name}.learning_rate: cur_loss is {value}; a schedule "
                             "cannot follow a diverged loss. Lower the learning rate or check "
                             "the data.")
        return value


class ConstantScheduler(Scheduler):
    r"""The same rate at every step: :math:`\eta_t = \eta`.

    Parameters
    ----------
    lr : float > 0
    """

    declared_arguments = {"lr": Real(above=0.0)}

    def __init__(self, lr):
        super().__init__(lr=lr)

    def learning_rate(self, step, cur_loss=None):
        """`lr`, whatever `step` (>= 0) and `cur_loss`."""
        self._step(step)
        return self.lr


class ExponentialScheduler(Scheduler):
    r"""Decay by `decay` every `stage_length` steps (numpy-ml's):

    .. math::
        \eta_t = \eta_0 \, d^{\,t / L} \quad\text{or, with staircase,}\quad
        \eta_t = \eta_0 \, d^{\,\lfloor t / L \rfloor}

    with :math:`\eta_0` = `initial_lr`, :math:`d` = `decay`, :math:`L` = `stage_length`.
    Step 0 gives :math:`\eta_0`; with staircase, steps 1 to L - 1 do too and step L is the
    first at :math:`\eta_0 d`.

    Parameters
    ----------
    initial_lr : float > 0
    stage_length : int >= 1
    staircase : bool
    decay : float in (0, 1]
    """

    declared_arguments = {
        "initial_lr": Real(above=0.0),
        "stage_length": Integer(1),
        "staircase": Flag(),
        "decay": Real(above=0.0, at_most=1.0),
    }

    def __init__(self, initial_lr, stage_length=500, staircase=False, decay=0.1):
        super().__init__(initial_lr=initial_lr, stage_length=stage_length, staircase=staircase,
                         decay=decay)

    def learning_rate(self, step, cur_loss=None):
        stage = self._step(step) / self.stage_length
        if self.staircase:
            stage = math.floor(stage)
        return self.initial_lr * self.decay**stage


class StepScheduler(Scheduler):
    r"""Multiply by `gamma` every `step_size` steps:
    :math:`\eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}`.

    Steps 0 to s - 1 run at :math:`\eta_0`; step s is the first at :math:`\eta_0 \gamma`
    (PyTorch's ``StepLR`` after `t` calls of its ``step()``).

    Parameters
    ----------
    initial_lr : float > 0
    step_size : int >= 1
    gamma : float in (0, 1]
    """

    declared_arguments = {
        "initial_lr": Real(above=0.0),
        "step_size": Integer(1),
        "gamma": Real(above=0.0, at_most=1.0),
    }

    def __init__(self, initial_lr, step_size, gamma=0.1):
        super().__init__(initial_lr=initial_lr, step_size=step_size, gamma=gamma)

    def learning_rate(self, step, cur_loss=None):
        return self.initial_lr * self.gamma ** (self._step(step) // self.step_size)


class NoamScheduler(Scheduler):
    r"""Linear warm-up, then inverse square-root decay (Vaswani et al. 2017; numpy-ml's):

    .. math::
        \eta_t = c \, D^{-1/2} \min\!\left(t^{-1/2},\; t \, w^{-3/2}\right)

    with :math:`c` = `scale_factor`, :math:`D` = `model_dim`, :math:`w` = `warmup_steps`. The
    two terms meet at :math:`t = w`, so the peak :math:`c\,(D w)^{-1/2}` is exactly at
    ``step == warmup_steps``. Step 0 gives 0.

    Parameters
    ----------
    model_dim : int >= 1
    scale_factor : float > 0
    warmup_steps : int >= 1
    """

    declared_arguments = {
        "model_dim": Integer(1),
        "scale_factor": Real(above=0.0),
        "warmup_steps": Integer(1),
    }

    def __init__(self, model_dim, scale_factor=1.0, warmup_steps=4000):
        super().__init__(model_dim=model_dim, scale_factor=scale_factor,
                         warmup_steps=warmup_steps)

    def learning_rate(self, step, cur_loss=None):
        step = self._step(step)
        # min(t^-1/2, t w^-3/2) is its second term up to t = w and its first after.
        warm = step * self.warmup_steps**-1.5 if step <= self.warmup_steps else step**-0.5
        return self.scale_factor * self.model_dim**-0.5 * warm


class CosineScheduler(Scheduler):
    r"""Optional linear warm-up, then a half cosine from `initial_lr` down to `min_lr`:

    .. math::
        \eta_t = \begin{cases}
            \eta_0 \, t / w & t \le w \quad (\text{only when } w > 0) \\
            \eta_{min} + \tfrac12 (\eta_0 - \eta_{min})
                \left(1 + \cos\!\left(\pi \, \frac{t - w}{T - w}\right)\right) & w < t < T \\
            \eta_{min} & t \ge T
        \end{cases}

    with :math:`\eta_0` = `initial_lr`, :math:`w` = `warmup_steps`, :math:`T` =
    `total_steps`. The warm-up reaches :math:`\eta_0` at ``step == warmup_steps`` (from 0 at
    step 0), the cosine reaches `min_lr` at ``step == total_steps``, and the rate stays there
    after. Without warm-up, step 0 gives :math:`\eta_0` and step t PyTorch's
    ``CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)`` after t calls of its ``step()``.

    Parameters
    ----------
    initial_lr : float > 0
    total_steps : int >= 1
    warmup_steps : int, 0 <= warmup_steps < total_steps, keyword-only
    min_lr : float, 0 <= min_lr <= initial_lr, keyword-only
    """

    declared_arguments = {
        "initial_lr": Real(above=0.0),
        "total_steps": Integer(1),
        "warmup_steps": Integer(0),
        "min_lr": Real(at_least=0.0, at_most="initial_lr"),
    }

    def __init__(self, initial_lr, total_steps, *, warmup_steps=0, min_lr=0.0):
        super().__init__(initial_lr=initial_lr, total_steps=total_steps,
                         warmup_steps=warmup_steps, min_lr=min_lr)

    def _check_together(self, arguments):
        warmup, total = arguments["warmup_steps"], arguments["total_steps"]
        if warmup >= total:
            raise ValueError(f"{self._name}: warmup_steps ({warmup}) must be less than "
                             f"total_steps ({total}), which include it")

    def learning_rate(self, step, cur_loss=None):
        step, warmup = self._step(step), self.warmup_steps
        if warmup and step <= warmup:
            return self.initial_lr * step / warmup
        if step >= self.total_steps:
            return self.min_lr
        progress = (step - warmup) / (self.total_steps - warmup)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_lr + (self.initial_lr - self.min_lr) * cosine


class ReduceOnPlateau(Scheduler):
    r"""Multiply the rate by `factor` when the reported loss stops improving (PyTorch's
    ``ReduceLROnPlateau`` in mode ``"min"``, relative threshold, no cooldown, no ``eps``).

    Stateful: each call with a `cur_loss` is one report (typically the epoch's validation
    loss); ``cur_loss=None`` reads the current rate and changes nothing; `step` is ignored.
    A report :math:`L` improves on the best so far :math:`L^*` when

    .. math:: L < L^* (1 - \text{threshold})

    (the first report always does). After an improvement the count of bad reports restarts at
    0; otherwise it grows by one, and when it exceeds `patience` (the `patience` + 1-th bad
    report in a row) the rate becomes :math:`\max(\eta \cdot \text{factor}, \eta_{min})` and
    the count restarts. The returned rate is the one after this report.

    Parameters
    ----------
    initial_lr : float > 0
    factor : float in (0, 1)
    patience : int >= 0
        Bad reports tolerated before a reduction.
    threshold : float >= 0, keyword-only
        Relative improvement that counts (PyTorch's default 1e-4).
    min_lr : float, 0 <= min_lr <= initial_lr, keyword-only
        The rate is never reduced below it.

    Attributes
    ----------
    current_lr : float
    best : float or None
        The best loss reported so far (None before any report).
    num_bad : int
        Reports in a row without improvement, since the last improvement or reduction.
    """

    declared_arguments = {
        "initial_lr": Real(above=0.0),
        "factor": Real(above=0.0, below=1.0),
        "patience": Integer(0),
        "threshold": Real(at_least=0.0),
        "min_lr": Real(at_least=0.0, at_most="initial_lr"),
    }
    declared_state = {"current_lr": Real(above=0.0), "best": Optional(Real()),
                      "num_bad": Integer(0)}

    def __init__(self, initial_lr, factor=0.1, patience=10, *, threshold=1e-4, min_lr=0.0):
        super().__init__(initial_lr=initial_lr, factor=factor, patience=patience,
                         threshold=threshold, min_lr=min_lr)
        self.current_lr = self.initial_lr
        self.best = None
        self.num_bad = 0

    def learning_rate(self, step, cur_loss=None):
        self._step(step)
        loss = self._loss(cur_loss)
        if loss is None:
            return self.current_lr
        if self.best is None or loss < self.best * (1.0 - self.threshold):
            self.best, self.num_bad = loss, 0
        else:
            self.num_bad += 1
            if self.num_bad > self.patience:
                self.current_lr = max(self.current_lr * self.factor, self.min_lr)
                self.num_bad = 0
        return self.current_lr

    def _checked_state(self, state):
        checked = super()._checked_state(state)
        if checked["num_bad"] > self.patience:
            raise ValueError(f"{self._name}.load_state_dict: num_bad {checked['num_bad']} "
                             f"exceeds this schedule's patience {self.patience}")
        return checked


class KingScheduler(Scheduler):
    r"""Davis King's (dlib's) schedule, as numpy-ml describes it: shrink the rate by `decay`
    when the loss has stopped going down over the last `patience` + 1 reports.

    Stateful: each call with a `cur_loss` is one report (one per update is the usual use);
    ``cur_loss=None`` reads the current rate and changes nothing; `step` is ignored. The
    schedule keeps the last :math:`n = \text{patience} + 1` reported losses
    :math:`y_1 \dots y_n` (their positions :math:`x_k = k`) and, once it holds :math:`n`,
    fits a line by least squares and asks how likely its slope is negative:

    .. math::
        \hat b = \frac{\sum_k (x_k - \bar x)(y_k - \bar y)}{S_{xx}},\quad
        S_{xx} = \sum_k (x_k - \bar x)^2,\quad
        \hat\sigma^2 = \frac{\sum_k (y_k - \hat a - \hat b x_k)^2}{n - 2},\quad
        P(b < 0) = \Phi\!\left(\frac{-\hat b}{\sqrt{\hat\sigma^2 / S_{xx} + \epsilon}}\right)

    (:math:`\Phi` the standard normal CDF, :math:`\epsilon` the float64 machine epsilon, as
    numpy-ml). The rate is multiplied by `decay` when :math:`P(b < 0) < 0.51` both for the
    :math:`n` losses and for them without their :math:`\lfloor n / 10 \rfloor` largest (the
    robust check, so a few bad minibatches' spikes do not hide a descent or fake a plateau).
    After a decay the history is emptied, as dlib does, so the next decay needs another
    `patience` + 1 reports. The returned rate is the one after this report.

    Where this differs from numpy-ml's code: it drops the top 10 % from the same window of
    :math:`n` losses (numpy-ml drops them from a 10 % longer history and then needs more than
    `patience` kept values, which a noisy loss never gives, so it never decayed); and it
    empties the history after a decay (numpy-ml's decays again at every report until the
    slope turns).

    Parameters
    ----------
    initial_lr : float > 0
    patience : int >= 2
        Reports without a decrease tolerated; the fit needs :math:`n \ge 3` losses.
    decay : float in (0, 1]

    Attributes
    ----------
    current_lr : float
    loss_history : list of float
        The reported losses since the last decay, at most `patience` + 1.
    """

    declared_arguments = {
        "initial_lr": Real(above=0.0),
        "patience": Integer(2),
        "decay": Real(above=0.0, at_most=1.0),
    }
    declared_state = {"current_lr": Real(above=0.0), "loss_history": ListOf(Real())}
    _p_threshold = 0.51  # decay when P(slope < 0) is below it, as numpy-ml and dlib

    def __init__(self, initial_lr, patience=1000, decay=0.99):
        super().__init__(initial_lr=initial_lr, patience=patience, decay=decay)
        self.current_lr = self.initial_lr
        self.loss_history = []

    def learning_rate(self, step, cur_loss=None):
        self._step(step)
        loss = self._loss(cur_loss)
        if loss is None:
            return self.current_lr
        window = self.patience + 1
        self.loss_history.append(loss)
        del self.loss_history[:-window]
        if len(self.loss_history) == window and self._stalled():
            self.current_lr *= self.decay
            self.loss_history = []
        return self.current_lr

    def _stalled(self):
        """P(slope < 0) < 0.51 for the history and for it without its top 10 %."""
        losses = self.loss_history
        if _p_decreasing(range(len(losses)), losses) >= self._p_threshold:
            return False
        ranked = sorted(range(len(losses)), key=lambda k: (losses[k], k))
        kept = sorted(ranked[: len(losses) - len(losses) // 10])
        return _p_decreasing(kept, [losses[k] for k in kept]) < self._p_threshold

    def _checked_state(self, state):
        checked = super()._checked_state(state)
        held = len(checked["loss_history"])
        if held > self.patience + 1:
            raise ValueError(f"{self._name}.load_state_dict: loss_history holds {held} "
                             f"losses; this schedule keeps at most patience + 1 = "
                             f"{self.patience + 1}")
        return checked


def _p_decreasing(xs, ys):
    r"""P(slope < 0) of the least-squares line through points (`xs`, `ys`), n >= 3 of them.

    :math:`\Phi(-\hat b / \sqrt{\hat\sigma^2 / S_{xx} + \epsilon})`, as in
    :class:`KingScheduler`.
    """
    points = list(zip(xs, ys, strict=True))
    n = len(points)
    x_mean = sum(x for x, _ in points) / n
    y_mean = sum(y for _, y in points) / n
    s_xx = sum((x - x_mean) ** 2 for x, _ in points)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in points) / s_xx
    intercept = y_mean - slope * x_mean
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points) / (n - 2)
    scale = math.sqrt(residual / s_xx + sys.float_info.epsilon)
    return 0.5 * (1.0 + math.erf(-slope / scale / math.sqrt(2.0)))
