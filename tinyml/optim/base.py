"""Optimizer: the part every optimizer shares.

A subclass declares its hyperparameters and one update of one parameter; the base walks the
parameters, skips frozen ones, keeps each parameter's state next to it (and moves it when the
parameter moves), counts steps, validates hyperparameters, and saves and loads the state. It
also owns the three options every optimizer takes as keywords: ``clip_norm`` (global gradient
clipping), ``decay_filter`` (which parameters get weight decay) and ``scheduler`` (the learning
rate per step).

Writing an optimizer::

    class SGD(Optimizer):
        hyperparameter_names = ("lr", "momentum", "nesterov", "weight_decay")
        state_keys = ("momentum_buffer",)

        def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
            super().__init__(lr)                  # validates lr; empty state, step_count 0
            self.momentum = self._real("momentum", momentum, low=0.0, high=1.0)
            ...

        def update(self, data, grad, state, *, xp, weight_decay):  # in place, one parameter
            ...                                   # the pure function of arrays does the math

``init_state(data, *, xp)`` may return the arrays to start from (Adam's zeros); by default a
parameter's state starts as ``{"step": 0}`` and ``update`` adds what it keeps. An optimizer
with a ``"weight_decay"`` hyperparameter receives ``weight_decay=`` in ``update``: its own
value, or 0.0 for a parameter that ``decay_filter`` exempts; others are called without it.
"""

import math
import numbers
from collections.abc import Mapping

from ..backend import (
    array_namespace,
    backend_of,
    device_of,
    host_copy,
    is_floating,
    is_integral,
    namespace_name,
    resolve_backend,
)
from .clip import clip_factor

STATE_DICT_KEYS = ("type", "step", "lr", "hyperparameters", "state")


class Optimizer:
    r"""Base class: per-parameter state keyed by parameter name, a step count, ``state_dict``.

    Attributes
    ----------
    lr : float
        The learning rate; settable between steps (validated), used from the next step on.
    step_count : int
        How many times :meth:`step` has run.
    state : dict
        ``{parameter name: {"step": int, key: array, ...}}``: how many updates the parameter
        has had, and the arrays in :attr:`state_keys` on the parameter's backend, device and
        dtype. Created on a parameter's first update; frozen parameters get none.

    Options (keyword-only on every optimizer; settable later, validated)
    --------------------------------------------------------------------
    clip_norm : float > 0 or None
        Before each update, scale all the trainable parameters' gradients by one factor so
        that their global L2 norm is at most `clip_norm`, as
        ``torch.nn.utils.clip_grad_norm_(parameters, clip_norm)``:

        .. math::
            n = \sqrt{\textstyle\sum_p \lVert g_p \rVert_2^2}, \qquad
            g_p \leftarrow g_p \cdot \min\!\left(1, \frac{c}{n + 10^{-6}}\right)

        The factor is a 0-d array computed on the device and multiplied in; nothing is read
        back. Unlike PyTorch, ``parameter.grad`` is NOT changed in place: the update uses a
        scaled copy, so the gradients a callback sees after the step are the unclipped ones.
        A NaN or inf norm gives NaN gradients, as in PyTorch (which does not check by default).
    decay_filter : callable ``(name, parameter) -> bool`` or None
        Which parameters get weight decay: True decays the parameter, False updates it with
        ``weight_decay=0``. None decays all of them. :func:`no_decay_for_bias_and_norm` is the
        usual choice (no decay for biases and normalization weights). Called for every
        trainable parameter at every step, before any parameter is updated; only optimizers
        with a ``weight_decay`` hyperparameter accept it.
    scheduler : object with ``learning_rate(step, cur_loss=None) -> float``, or None
        Before each step the optimizer sets ``lr = scheduler.learning_rate(step,
        cur_loss=...)``, where `step` is 1-BASED: the number of updates made once this one is
        done (1 at the first step, ``step_count + 1`` in general; the same count as each
        parameter's ``state["step"]`` and Adam's bias correction). `cur_loss` is the value
        given to :meth:`report_loss`, passed at the first step after each report and None at
        the others, so a schedule that counts reports (ReduceOnPlateau, King) counts epochs,
        not steps. A schedule may return 0.0 (the end of a
        cosine, the start of a warm-up); a value set by hand on ``lr`` is overridden at the next
        step.

    The three options are not part of :meth:`state_dict`: build the resumed optimizer with the
    same ones (the step count it loads keeps a schedule where it was).

    Subclasses set :attr:`hyperparameter_names` (the constructor's keyword arguments, ``"lr"``
    first) and :attr:`state_keys`, and implement :meth:`update`. Every state array has its
    parameter's shape.
    """

    hyperparameter_names = ("lr",)
    state_keys = ()

    def __init__(self, lr, *, clip_norm=None, decay_filter=None, scheduler=None):
        self.lr = lr
        self.clip_norm = clip_norm
        self.decay_filter = decay_filter
        self.scheduler = scheduler
        self.step_count = 0
        self.state = {}
        self.reported_loss = None  # the last report_loss value
        self._unseen_loss = None  # ... until the scheduler has been handed it once
        self._placed = {}  # name -> (data, grad, xp) as last checked: the per-step fast path
        self._loaded = ()  # names load_state_dict brought, checked against the next step's

    # ---------------------------------------------------------------- hyperparameters
    @property
    def lr(self):
        """The learning rate, a float > 0, settable between steps (a scheduler sets it before
        each step)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = self._real("lr", value, low=0.0, low_open=True)

    def set_scheduled_lr(self, value):
        """Set the lr to a schedule's value: a float >= 0. Unlike ``lr = value``, 0.0 is
        allowed (the end of a cosine, the start of a warm-up), which set by hand is a typo."""
        self._lr = self._real("lr", value, low=0.0)

    @property
    def clip_norm(self):
        """None, or the largest global gradient norm: all gradients are scaled by one factor
        so that their joint L2 norm is at most this, as ``torch.nn.utils.clip_grad_norm_``."""
        return self._clip_norm

    @clip_norm.setter
    def clip_norm(self, value):
        self._clip_norm = None if value is None else \
            self._real("clip_norm", value, low=0.0, low_open=True)

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

    @property
    def hyperparameters(self):
        """{name: value} of the hyperparameters, in :attr:`hyperparameter_names` order."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def _real(self, name, value, *, low, high=None, low_open=False):
        """`value` as a Python float in bounds, or an error naming this class and `name`.

        Python floats only: a 0-d float64 array would silently upcast float32 parameters on
        NumPy and is an error on array_api_strict.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{self._name}: {name} must be a Python number; got {value!r}")
        value = float(value)
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or (high is not None and value >= high):
            bounds = f"{'>' if low_open else '>='} {low}"
            bounds += "" if high is None else f" and < {high}"
            raise ValueError(f"{self._name}: invalid {name} {value}; it must be {bounds}")
        return value

    def _reals(self, name, value, *, length, low, high=None):
        """`value` (a sequence, or a 1-d host array as an ``.npz`` gives back) as a tuple of
        `length` Python floats each in [low, high), or an error naming this class and `name`."""
        try:
            items = tuple(value)
        except TypeError:
            items = None
        if items is None or len(items) != length or isinstance(value, str):
            raise TypeError(f"{self._name}: {name} must be a tuple of {length} Python numbers; "
                            f"got {value!r}")
        return tuple(self._real(f"{name}[{index}]", item, low=low, high=high)
                     for index, item in enumerate(items))

    def _flag(self, name, value):
        """`value` if it is True or False, else a TypeError naming this class and `name`."""
        if not isinstance(value, bool):
            raise TypeError(f"{self._name}: {name} must be True or False; got {value!r}")
        return value

    @property
    def _name(self):
        return type(self).__name__

    # ---------------------------------------------------------------- what subclasses write
    def init_state(self, data, *, xp):
        """The arrays a parameter's state starts with (made with `xp` next to `data`)."""
        return {}

    def expected_state_keys(self):
        """The keys (besides "step") that a parameter's state holds after an update, with these
        hyperparameters (Adam's amsgrad adds one); :meth:`load_state_dict` requires exactly
        these. Default: all of :attr:`state_keys`."""
        return self.state_keys

    def update(self, data, grad, state, *, xp, weight_decay=None):
        """Update one parameter's `data` in place from `grad`, keeping arrays in `state`.

        ``state["step"]`` already counts this update (1 on the first). `grad` is
        ``parameter.grad``, or a scaled copy of it under ``clip_norm``: never write into it.
        `weight_decay` is passed only to optimizers that have that hyperparameter.
        """
        raise NotImplementedError(f"{self._name} must implement update(data, grad, state, xp=)")

    # ---------------------------------------------------------------- stepping
    def step(self, parameters):
        """Update every trainable parameter from its ``grad``; frozen ones are skipped.

        Parameters
        ----------
        parameters : mapping or iterable
            ``{name: Parameter}`` as ``net.named_parameters()`` gives (the names key the
            state), or Parameters, keyed then by their ``name``.

        A parameter that moved (``net.to(...)``: another library, device or dtype) since its
        state was made takes its state along here. Nothing is updated unless every parameter
        can be: the scheduler's lr, the decay filter's answers and the clipping factor are all
        settled first.
        """
        named = self._named(parameters)
        if self._loaded:
            self._check_loaded(named)
        ready = []
        for name, parameter in named.items():
            trainable = getattr(parameter, "trainable", None)
            if trainable is None:
                raise TypeError(self._not_a_parameter(parameter, name))
            if trainable:
                ready.append((name, parameter, *self._place(name, parameter)))
        if self._scheduler is not None:
            self._lr = self._scheduled_lr(self.step_count + 1)
        decays = self._decays(ready)
        factor = self._clip_factor(ready) if self._clip_norm is not None and ready else None
        for (_, parameter, state, xp), weight_decay in zip(ready, decays, strict=True):
            state["step"] += 1
            grad = parameter.grad if factor is None else parameter.grad * factor
            if weight_decay is None:
                self.update(parameter.data, grad, state, xp=xp)
            else:
                self.update(parameter.data, grad, state, xp=xp, weight_decay=weight_decay)
        self.step_count += 1

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

    def _named(self, parameters):
        if isinstance(parameters, Mapping):
            return parameters
        if hasattr(parameters, "trainable"):
            raise TypeError(f"{self._name}.step takes several parameters; got one "
                            f"({parameters!r}). Pass [parameter] or net.named_parameters().")
        named = {}
        for parameter in parameters:
            name = getattr(parameter, "name", None)
            if name is None:
                raise TypeError(self._not_a_parameter(parameter))
            if name in named:
                raise ValueError(
                    f"{self._name}.step: two parameters are both named {name!r}, and names key "
                    "the optimizer state. Pass net.named_parameters() (a dict of unique names) "
                    "instead of a list of parameters."
                )
            named[name] = parameter
        return named

    def _not_a_parameter(self, value, name=None):
        label = "" if name is None else f" for {name!r}"
        return (f"{self._name}.step expects Parameters (with data, grad, trainable, name); "
                f"got {type(value).__name__}{label}. Pass net.named_parameters().")

    def _place(self, name, parameter):
        """(state, xp) of `parameter`, its state beside its data; cheap when nothing changed."""
        data, grad = parameter.data, parameter.grad
        seen = self._placed.get(name)
        if seen is not None and seen[0] is data and seen[1] is grad:
            return self.state[name], seen[2]
        xp = array_namespace(data, grad, names=["data", "grad"],
                             where=f"{self._name} on parameter '{name}'")
        state = self.state.get(name)
        if state is None:
            state = {"step": 0, **self.init_state(data, xp=xp)}
        else:
            state = {key: value if key == "step" else self._beside(value, data, name, key)
                     for key, value in state.items()}
        self.state[name] = state
        self._placed[name] = (data, grad, xp)
        return state, xp

    def _beside(self, value, data, name, key):
        """State array `value` on `data`'s library, device and (floating) dtype."""
        if tuple(value.shape) != tuple(data.shape):
            raise ValueError(
                f"{self._name}: state {key!r} of parameter {name!r} has shape "
                f"{tuple(value.shape)} but the parameter has {tuple(data.shape)}. The loaded "
                "state comes from another net: load the optimizer state saved with these weights."
            )
        same = namespace_name(value) == namespace_name(data) and \
            device_of(value) == device_of(data) and \
            (value.dtype == data.dtype or not is_floating(value))
        return value if same else backend_of(data).asarray(value)

    def _check_loaded(self, named):
        unknown = sorted(name for name in self._loaded if name not in named)
        if unknown:
            raise ValueError(
                f"{self._name}.step: the state loaded with load_state_dict has entries for "
                f"parameters this step did not get: {unknown}; it got {sorted(named)}. Load the "
                "state saved from an optimizer of this net, and pass net.named_parameters()."
            )
        self._loaded = ()

    # ---------------------------------------------------------------- moving
    def to(self, backend, *, device=None, dtype=None):
        """Move every state array to `backend` (a name or Backend); returns self.

        Optional: at the next step the state follows its parameter wherever it is.
        """
        target = resolve_backend(backend, device=device, dtype=dtype)
        self.state = {
            name: {key: value if key == "step" else target.asarray(value)
                   for key, value in state.items()}
            for name, state in self.state.items()
        }
        self._placed = {}
        return self

    # ---------------------------------------------------------------- saving
    def state_dict(self):
        """A host copy of everything a resume needs.

        Returns
        -------
        dict
            ``{"type": "SGD", "step": int (step_count), "lr": float,
            "hyperparameters": {name: float or bool, all but lr},
            "state": {parameter name: {"step": int, key: host NumPy array copy}}}``.
            Only strings, Python numbers and NumPy arrays of numbers, so a checkpoint can
            flatten it into an ``.npz`` without pickle (keys such as
            ``"state/fc1.weight/momentum_buffer"``; 0-d arrays come back fine).
        """
        others = {k: v for k, v in self.hyperparameters.items() if k != "lr"}
        return {
            "type": self._name,
            "step": self.step_count,
            "lr": self.lr,
            "hyperparameters": others,
            "state": {
                name: {key: value if key == "step" else host_copy(value)
                       for key, value in state.items()}
                for name, state in self.state.items()
            },
        }

    def load_state_dict(self, state_dict):
        """Take over what :meth:`state_dict` returned (from any backend, or an ``.npz``).

        Everything is checked before anything changes. The hyperparameters (lr too) become the
        saved ones; the arrays move next to each parameter at the next step. The options
        (``clip_norm``, ``decay_filter``, ``scheduler``) stay this optimizer's. A saved lr of
        0.0 (a schedule's value) loads only into an optimizer with a scheduler.

        Raises
        ------
        TypeError
            Not a mapping, or a value of the wrong kind (an array that is not numeric).
        ValueError
            Missing or unknown keys, another optimizer's type, a bad step count or
            hyperparameter.
        """
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where} takes the dict that state_dict() returns; got "
                            f"{type(state_dict).__name__}")
        _check_keys(where, "the state dict", state_dict, STATE_DICT_KEYS, STATE_DICT_KEYS)
        kind = _scalar(state_dict["type"])
        if kind != self._name:
            raise ValueError(f"{where}: the state is from {kind!r}, not {self._name!r}; load it "
                             f"into a {kind} (or build this optimizer afresh)")
        step = _count(where, "step", state_dict["step"])
        hyperparameters = state_dict["hyperparameters"]
        names = self.hyperparameter_names[1:]
        _check_keys(where, "hyperparameters", hyperparameters, names, names)
        lr = _scalar(state_dict["lr"])
        scheduled_zero = lr == 0.0 and not isinstance(lr, bool)  # where a schedule ended
        if scheduled_zero and self._scheduler is None:
            raise ValueError(f"{where}: the saved lr is 0.0, a schedule's value; build this "
                             f"{self._name} with scheduler=... (the one it was saved with) to "
                             "load it")
        settings = {"lr": 1.0 if scheduled_zero else lr}  # 1.0: a stand-in while checking
        settings.update({name: _scalar(hyperparameters[name]) for name in names})
        try:
            checked = type(self)(**settings)  # validates them all, cross-checks included
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: the saved hyperparameters do not hold: {error}") from None
        required = checked.expected_state_keys()
        per_parameter = state_dict["state"]
        if not isinstance(per_parameter, Mapping):
            raise TypeError(f"{where}: 'state' must map parameter names to dicts; got "
                            f"{type(per_parameter).__name__}")
        state = {str(name): self._loaded_state(where, name, entry, required)
                 for name, entry in per_parameter.items()}
        for name in self.hyperparameter_names:
            setattr(self, name, getattr(checked, name))
        if scheduled_zero:
            self._lr = 0.0
        self.step_count = step
        self.state = state
        self._placed = {}
        self._loaded = tuple(state)

    def _loaded_state(self, where, name, entry, required):
        label = f"state[{name!r}]"
        if not isinstance(entry, Mapping):
            raise TypeError(f"{where}: {label} must be a dict; got {type(entry).__name__}")
        expected = ("step", *required)
        _check_keys(where, label, entry, expected, expected)
        loaded = {"step": _count(where, f"{label}['step']", entry["step"])}
        for key, value in entry.items():
            if key == "step":
                continue
            try:
                array_namespace(value)
                numeric = is_floating(value) or is_integral(value)
            except TypeError:
                numeric = False
            if not numeric:
                raise TypeError(f"{where}: {label}[{key!r}] must be an array of numbers; got "
                                f"{type(value).__name__} {getattr(value, 'dtype', '')}".rstrip())
            loaded[key] = host_copy(value)
        return loaded

    def __repr__(self):
        settings = [f"{name}={value}" for name, value in self.hyperparameters.items()]
        settings += [f"{name}={value!r}" for name, value in (
            ("clip_norm", self._clip_norm), ("decay_filter", self._decay_filter),
            ("scheduler", self._scheduler)) if value is not None]
        return f"{self._name}({', '.join(settings)})"


def _check_keys(where, what, mapping, known, required):
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{where}: {what} must be a dict; got {type(mapping).__name__}")
    problems = [f"{label} keys {keys}" for label, keys in (
        ("missing", [key for key in required if key not in mapping]),
        ("unknown", [key for key in mapping if key not in known]),
    ) if keys]
    if problems:
        raise ValueError(f"{where}: {what} has {' and '.join(problems)}; expected "
                         f"{list(known)}. Pass what state_dict() returned.")


def _scalar(value):
    """A Python scalar from a 0-d host array (what an ``.npz`` gives back) or a scalar. A pair
    such as Adam's betas comes back as a 1-d array, which the optimizer's own check takes."""
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        return value.item()
    return value


def _count(where, what, value):
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{where}: {what} must be an int >= 0; got {value!r}")
    return int(value)
