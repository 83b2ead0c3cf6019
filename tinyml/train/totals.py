"""Running sums of a pass's loss and correct count, kept on the device until the end."""

from ..metrics import correct_count


class RunningTotals:
    """Sums of per-batch loss * batch size (and correct predictions) as device 0-d arrays.

    ``add`` never reads the device; ``means`` reads it once, for the whole pass.
    """

    def __init__(self, classify):
        self.classify = classify
        self.count = 0
        self.loss = None
        self.correct = None

    def add(self, outputs, loss, labels):
        size = labels.shape[0]
        self.count += size
        batch_loss = loss * size
        self.loss = batch_loss if self.loss is None else self.loss + batch_loss
        if self.classify:
            correct = correct_count(outputs, labels)
            self.correct = correct if self.correct is None else self.correct + correct

    def means(self):
        """{"loss": float, "accuracy": float (classification only)}: one wait for the device."""
        row = {"loss": float(self.loss) / self.count}
        if self.classify:
            row["accuracy"] = float(self.correct) / self.count
        return row
