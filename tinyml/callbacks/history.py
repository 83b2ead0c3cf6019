"""History: what ``fit`` returns and the Learner keeps, one list per logged quantity."""

from ..core import counted
from .base import Callback


class History(Callback, dict):
    """A dict of lists, one entry per epoch: ``history["loss"][-1]`` is the last epoch's loss.

    It is also the callback that fills itself (``fit`` puts it among the first), so a History
    is what Keras' ``History.history`` is, and ``history.history`` is the History itself.

    Keys: ``loss``; ``accuracy`` (and the Learner's other metrics) for class labels;
    ``val_loss``, ``val_accuracy``, ... with validation data; ``lr``, the optimizer's learning
    rate at the epoch's end; ``epoch_time``, the epoch's wall time in seconds, validation
    included. Every value is a Python float.

    Attributes
    ----------
    epoch : list of int
        The learner's epoch index (from 0, counted over the whole run, resumes included) of
        each entry.
    interrupted : bool
        True when Ctrl-C stopped the ``fit`` that returned it; the epoch it interrupted is not
        in it (only whole epochs are).
    stop_reason : str or None
        Why training stopped before its last epoch (a callback's message), or None.
    """

    def __init__(self, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self.epoch = []
        self.interrupted = False
        self.stop_reason = None

    @property
    def history(self):
        """The History itself, for Keras' ``model.fit(...).history[...]`` habit."""
        return self

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.setdefault(key, []).append(value)

    def extend(self, other):
        """Append `other`'s epochs (a History or a dict of lists) after this one's."""
        for key, values in other.items():
            self.setdefault(key, []).extend(values)
        self.epoch.extend(getattr(other, "epoch", ()))

    def __repr__(self):
        keys = ", ".join(self)
        return f"History({counted(len(self.epoch), 'epoch')}: {keys})"
