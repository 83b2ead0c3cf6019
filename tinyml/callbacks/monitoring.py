"""What EarlyStopping and ModelCheckpoint share: a watched epoch-log value, and what is better.

Also the rules of the arguments the callbacks of :mod:`tinyml.callbacks` share.
"""

import math
import numbers
import os
import warnings

from ..core.params import AnyOf, Flag, OneOf, Real, Rule
from ..distributed import current_communicator

MODES = ("auto", "min", "max")
HIGHER_IS_BETTER = ("acc", "f1", "precision", "recall", "auc")
"""Parts of a log name that make mode "auto" mean "max" (``accuracy``, ``val_f1``, ...)."""


class Monitor:
    r"""One epoch-log value (``"val_loss"``) and the direction in which it improves.

    A value :math:`v` improves on the reference :math:`r` (the best so far) when

    .. math::
        v < r - \delta \quad (\text{mode "min"}) \qquad
        v > r + \delta \quad (\text{mode "max"})

    with :math:`\delta` = `min_delta`, as Keras. NaN never improves, and anything finite
    improves on no reference (None) and on the starting :attr:`worst` (:math:`\pm\infty`).

    Parameters
    ----------
    owner : str
        The callback's name, for messages.
    name : str
        The log key.
    mode : "auto", "min" or "max"
        "auto" is "max" when `name` contains one of ``HIGHER_IS_BETTER`` ("acc", "f1",
        "precision", "recall", "auc"), else "min".
    min_delta : float >= 0
    """

    def __init__(self, owner, name, mode="auto", min_delta=0.0):
        # checked by the callback's declaration (LOG_NAME, MODE, MIN_DELTA)
        self.owner = owner
        self.name = name
        self.mode = _resolved_mode(name, mode)
        self.min_delta = min_delta
        self._warned = False

    @property
    def worst(self):
        """The starting best: +inf for "min", -inf for "max"."""
        return math.inf if self.mode == "min" else -math.inf

    def improved(self, value, reference):
        """True when `value` beats `reference` by more than `min_delta` (never for NaN)."""
        if math.isnan(value):
            return False
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def value(self, logs):
        """The monitored value in `logs` as a float, or None (with a RuntimeWarning, once
        until :meth:`reset`) when the logs do not hold it."""
        logs = logs or {}
        if self.name not in logs:
            if not self._warned:
                self._warned = True
                available = ", ".join(logs) or "none"
                warnings.warn(f"{self.owner}: monitor {self.name!r} is not in the epoch logs "
                              f"(available: {available}), so it is not checked. Monitor one "
                              f"of those, or pass validation_data to fit for the val_ ones.",
                              RuntimeWarning, stacklevel=3)
            return None
        value = logs[self.name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{self.owner}: the epoch log {self.name!r} must be a Python "
                            f"number; got {type(value).__name__}")
        return float(value)

    def reset(self):
        """Warn again about a missing value (each fit starts here)."""
        self._warned = False


def _resolved_mode(name, mode):
    if mode != "auto":
        return mode
    lowered = name.lower()
    return "max" if any(part in lowered for part in HIGHER_IS_BETTER) else "min"


class LogName(Rule):
    """The name of an epoch log (``"val_loss"``): a non-empty str."""

    def check(self, owner, argument, value, known):
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"{owner}: {argument} must be the name of an epoch log, such as "
                            f"'val_loss' or 'accuracy'; got {value!r}")
        return value

    def bad_values(self, known):
        return [(value, TypeError, ["must be the name of an epoch log", f"got {value!r}"])
                for value in ("", 3, None)]

    def example(self, known):
        return "loss"


class PathName(Rule):
    """A file or folder name: a non-empty str or os.PathLike (bytes are decoded); comes back
    as a str. `kind` is "file" or "folder", `example` a name the message suggests."""

    def __init__(self, kind, example):
        self.kind, self.example_name = kind, example

    def check(self, owner, argument, value, known):
        try:
            path = os.fspath(value)
        except TypeError:
            raise TypeError(f"{owner}: {argument} must be a {self.kind} name (str or "
                            f"os.PathLike), such as {self.example_name!r}; got {value!r}"
                            ) from None
        path = path if isinstance(path, str) else os.fsdecode(path)
        if not path.strip():
            raise ValueError(f"{owner}: {argument} needs a {self.kind} name, such as "
                             f"{self.example_name!r}; got {path!r}")
        return path

    def bad_values(self, known):
        return [(3, TypeError, [f"must be a {self.kind} name", "got 3"]),
                (None, TypeError, [f"must be a {self.kind} name", "got None"]),
                ("", ValueError, [f"needs a {self.kind} name", "got ''"]),
                (" ", ValueError, [f"needs a {self.kind} name", "got ' '"])]

    def example(self, known):
        return self.example_name


#: the rules the callbacks' declarations share
LOG_NAME = LogName()
MODE = OneOf(*MODES)
MIN_DELTA = Real(at_least=0.0)
VERBOSE = AnyOf(OneOf(0, 1), Flag(), spelled="0 (silent) or 1 (print a line when it acts)",
                specific=False)


def say(line):
    """Print a callback's verbose line now (a redirected log shows it as it happens); in a
    data-parallel fit, on rank 0 only."""
    comm = current_communicator()
    if comm is None or comm.rank == 0:
        print(line, flush=True)
