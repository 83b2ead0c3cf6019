"""Running sums of a pass's loss and correct count, kept on the device until the end."""

import time

from ..backend import read_floats
from ..metrics import correct_count, make_metric

LOG_SECONDS = 0.25
"""How often ``fit`` reads the device for progress and the NaN check when ``log_every`` is
None: a few times a second, whatever the speed of a step."""


class RunningTotals:
    """Sums of per-batch loss * batch size (and correct predictions) as device 0-d arrays.

    ``add`` never reads the device; ``means`` reads it once, for the whole pass.
    """

    def __init__(self, classify, metrics=()):
        self.classify = classify
        self.metrics = [make_metric(name) for name in metrics] if classify else []
        self.count = 0
        self.batches = 0
        self.loss = None
        self.correct = None

    def add(self, outputs, loss, labels):
        size = labels.shape[0]
        self.count += size
        self.batches += 1
        batch_loss = loss * size
        self.loss = batch_loss if self.loss is None else self.loss + batch_loss
        if self.classify:
            correct = correct_count(outputs, labels)
            self.correct = correct if self.correct is None else self.correct + correct
            for metric in self.metrics:
                metric.update(outputs, labels)

    def sums(self):
        """The device sums so far: [loss sum] or [loss sum, correct count]; [] before any."""
        if self.loss is None:
            return []
        return [self.loss, self.correct] if self.classify else [self.loss]

    def means(self, sums=None, *, metrics=True, across=None):
        """{"loss": float, "accuracy": float (classification only)}: one wait for the device,
        none when `sums` already holds :meth:`sums` read to the host.

        `across`, a :class:`tinyml.distributed.Communicator`, makes them the means over the
        samples of every process (each process calls it, once per pass)."""
        loss, *correct = read_floats(self.sums()) if sums is None else sums
        count = self.count
        if across is not None:
            loss, *correct, count = across.sum_values([loss, *correct, count])
        row = {"loss": loss / count}
        if self.classify:
            row["accuracy"] = correct[0] / count
        if metrics:  # one read each: once per pass, not at every progress read
            for metric in self.metrics:
                if across is not None:
                    metric.merge_processes(across)
                row[metric.name] = metric.result()
        return row


class ProgressLog:
    """The losses of the steps since the last read, kept on the device until the logging
    interval comes: every `every` steps, or (every=None) once ``LOG_SECONDS`` have passed.

    ``read`` copies them and the running totals to the host in one wait for the device.
    """

    def __init__(self, every=None):
        self.every = every
        self._losses, self._steps, self._batches = [], [], []
        self._last_read = time.perf_counter()

    def add(self, loss, step, batch):
        self._losses.append(loss)
        self._steps.append(step)
        self._batches.append(batch)

    def due(self):
        if self.every is None:
            return time.perf_counter() - self._last_read >= LOG_SECONDS
        return len(self._losses) >= self.every

    def read(self, totals):
        """The ``on_progress`` logs: these steps' losses and the pass's running means."""
        sums = totals.sums()
        values = read_floats([*self._losses, *sums])
        losses, means = values[:len(self._losses)], values[len(self._losses):]
        logs = {"losses": losses, "steps": self._steps, "batches": self._batches,
                "batches_done": totals.batches, "sums": means}
        if means:
            logs.update(totals.means(means, metrics=False))
        self._losses, self._steps, self._batches = [], [], []
        self._last_read = time.perf_counter()
        return logs
