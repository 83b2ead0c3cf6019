"""What EarlyStopping and ModelCheckpoint share: a watched epoch-log value, and what is better.

Also the argument checks the callbacks of :mod:`tinyml.callbacks` share.
"""

import math
import numbers
import warnings

from ..core.params import Optional, Real
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
        self.owner = owner
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{owner}: monitor must be the name of an epoch log, such as "
                            f"'val_loss' or 'accuracy'; got {name!r}")
        if mode not in MODES:
            raise ValueError(f"{owner}: mode must be one of {MODES}; got {mode!r}")
        self.name = name
        self.mode = _resolved_mode(name, mode)
        self.min_delta = check_real(owner, "min_delta", min_delta, low=0.0)
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


def check_real(owner, name, value, *, low=None, allow_none=False):
    """`value` as a finite Python float >= `low`, or a clear error naming `owner` and `name`
    (the :class:`~tinyml.core.params.Real` rule)."""
    rule = Real(at_least=low)
    return (Optional(rule) if allow_none else rule).check(owner, name, value, {})


def check_verbose(owner, verbose):
    """`verbose` as 0 or 1 (True and False are taken too)."""
    if verbose not in (0, 1) or not isinstance(verbose, (int, bool)):
        raise ValueError(f"{owner}: verbose must be 0 (silent) or 1 (print a line when it "
                         f"acts); got {verbose!r}")
    return int(verbose)


def say(line):
    """Print a callback's verbose line now (a redirected log shows it as it happens); in a
    data-parallel fit, on rank 0 only."""
    comm = current_communicator()
    if comm is None or comm.rank == 0:
        print(line, flush=True)
