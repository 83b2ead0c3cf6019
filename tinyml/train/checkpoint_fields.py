"""A checkpoint's JSON member, every field checked before ``load_checkpoint`` changes
anything: the types, the ranges, the random streams, the history.

A file is a value: whatever is wrong in it (a negative epoch, a string where a count goes, a
damaged generator state) is a ValueError naming the file and the field, as a damaged weights
file is. What only the optimizer or its scheduler can judge (their own hyperparameters and
states) they check themselves, also before anything changes.
"""

import math
import numbers

from ..backend import Streams
from ..callbacks import History

FIELDS = ("format", "version", "epoch", "step", "optimizer", "scheduler", "streams", "history")
OPTIMIZER_FIELDS = ("type", "step", "lr", "hyperparameters", "parameter_steps",
                    "reported_loss", "unseen_loss")


class Checked:
    """The checkpoint's fields, each of the type and in the range a resume needs.

    Attributes: ``epoch``, ``step`` (ints >= 0), ``optimizer`` (the dict of
    ``OPTIMIZER_FIELDS``), ``scheduler`` (a dict or None), ``streams`` (a
    :class:`tinyml.backend.Streams` ready to install) and ``history`` (a History).
    """

    def __init__(self, meta, path):
        self.path = path
        self.keys(meta, "the checkpoint's description", FIELDS)
        self.epoch = self.count(meta["epoch"], "epoch")
        self.step = self.count(meta["step"], "step")
        self.optimizer = self.optimizer_fields(meta["optimizer"])
        scheduler = meta["scheduler"]
        if scheduler is not None and not isinstance(scheduler, dict):
            raise self.damaged("scheduler", "a dict (the scheduler's state_dict) or null",
                               scheduler)
        self.scheduler = scheduler
        try:
            self.streams = Streams.from_state(meta["streams"])
        except ValueError as error:
            raise ValueError(f"{path}: {error}. The file is damaged: resume from another "
                             "checkpoint.") from None
        self.history = self.history_fields(meta["history"])

    # ---------------------------------------------------------------- the parts
    def optimizer_fields(self, saved):
        self.keys(saved, "optimizer", OPTIMIZER_FIELDS)
        if not isinstance(saved["type"], str):
            raise self.damaged("optimizer.type", "the optimizer's class name", saved["type"])
        self.count(saved["step"], "optimizer.step")
        self.real(saved["lr"], "optimizer.lr")
        if not isinstance(saved["hyperparameters"], dict):
            raise self.damaged("optimizer.hyperparameters", "a dict", saved["hyperparameters"])
        steps = saved["parameter_steps"]
        if not isinstance(steps, dict):
            raise self.damaged("optimizer.parameter_steps", "a dict {parameter: step}", steps)
        for name, step in steps.items():
            self.count(step, f"optimizer.parameter_steps[{name!r}]")
        for field in ("reported_loss", "unseen_loss"):  # NaN too: an epoch's loss may be
            if saved[field] is not None:
                self.real(saved[field], f"optimizer.{field}", finite=False, negative=True)
        return saved

    def history_fields(self, saved):
        self.keys(saved, "history", ("values", "epoch"))
        values, epochs = saved["values"], saved["epoch"]
        if not isinstance(epochs, list):
            raise self.damaged("history.epoch", "a list of epoch numbers", epochs)
        for index, epoch in enumerate(epochs):
            if self.count(epoch, f"history.epoch[{index}]") >= self.epoch:
                raise self.damaged(f"history.epoch[{index}]", f"an epoch before the "
                                   f"{self.epoch} the checkpoint has done", epoch)
        if not isinstance(values, dict):
            raise self.damaged("history.values", "a dict {name: list of numbers}", values)
        for key, series in values.items():
            where = f"history.values[{key!r}]"
            if not isinstance(series, list) or len(series) > len(epochs):
                raise self.damaged(where, f"a list of at most {len(epochs)} numbers (one per "
                                   "epoch logged)", series)
            for value in series:
                self.real(value, where, finite=False, negative=True)
        history = History({key: list(series) for key, series in values.items()})
        history.epoch = list(epochs)
        return history

    # ---------------------------------------------------------------- one value
    def keys(self, mapping, what, expected):
        if not isinstance(mapping, dict):
            raise self.damaged(what, f"a dict with the keys {list(expected)}", mapping)
        problems = [f"{label} keys {keys}" for label, keys in (
            ("missing", [key for key in expected if key not in mapping]),
            ("unknown", [key for key in mapping if key not in expected])) if keys]
        if problems:
            raise ValueError(f"{self.path}: {what} has {' and '.join(problems)}; the file is "
                             "damaged or from another program: resume from another "
                             "checkpoint.")

    def count(self, value, what):
        if type(value) is not int or value < 0:
            raise self.damaged(what, "an int >= 0", value)
        return value

    def real(self, value, what, *, finite=True, negative=False):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if ok and finite:
            ok = math.isfinite(value)
        if ok and not negative:
            ok = value >= 0
        if not ok:
            wanted = "a " + ("finite " if finite else "") + "number" + \
                ("" if negative else " >= 0")
            raise self.damaged(what, wanted, value)
        return value

    def damaged(self, what, wanted, value):
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:80] + "..."
        return ValueError(f"{self.path}: the checkpoint's {what} must be {wanted}; got "
                          f"{shown}. The file is damaged or was not written by tinyml: resume "
                          "from another checkpoint.")
