"""Checked serialization: ``state_dict`` (host copies of plain values) and
``load_state_dict`` (everything checked before anything changes)."""

import copy
import numbers
from collections.abc import Mapping

from ..backend import array_namespace, host_copy, is_floating, is_integral

STATE_DICT_KEYS = ("type", "step", "lr", "hyperparameters", "state")


class OptimizerSaving:
    """The part of :class:`~tinyml.optim.Optimizer` that saves and loads its state."""

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
            checked = self._checked_hyperparameters(settings)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: the saved hyperparameters do not hold: {error}") from None
        required = self._with(checked).expected_state_keys()
        per_parameter = state_dict["state"]
        if not isinstance(per_parameter, Mapping):
            raise TypeError(f"{where}: 'state' must map parameter names to dicts; got "
                            f"{type(per_parameter).__name__}")
        state = {str(name): self._loaded_state(where, name, entry, required)
                 for name, entry in per_parameter.items()}
        for name, value in checked.items():
            setattr(self, name, value)
        if scheduled_zero:
            self._lr = 0.0
        self.step_count = step
        self.state = state
        self._placed = {}
        self._loaded = tuple(state)

    def _with(self, hyperparameters):
        """A shallow copy of this optimizer with other (checked) hyperparameters."""
        other = copy.copy(self)
        for name, value in hyperparameters.items():
            setattr(other, name, value)
        return other

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
