"""What ``fit`` shows while it trains: a live bar on a terminal, one line per epoch elsewhere.

``verbose=1`` gives :class:`ProgressBar` when standard output is a terminal and
:class:`~tinyml.train.callbacks.EpochPrinter` (one line per epoch) when it is not (a CI log, a
file, a pipe); ``verbose=2`` always gives the line per epoch; ``verbose=0`` shows nothing.
Neither reads the device: they show what the loop read at its logging interval
(``on_progress``) and the epoch's logs.
"""

import sys

from tqdm import tqdm

from .callbacks import Callback, EpochPrinter, format_logs


def progress_callbacks(verbose, stream=None):
    """The display callbacks for Keras' `verbose` (0, 1 or 2) on `stream` (stdout)."""
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0 (silent), 1 (a progress bar on a terminal, else "
                         f"a line per epoch) or 2 (a line per epoch); got {verbose!r}")
    stream = sys.stdout if stream is None else stream
    if verbose == 0:
        return []
    if verbose == 1 and _is_terminal(stream):
        return [ProgressBar(stream)]
    return [EpochPrinter()]


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressBar(Callback):
    """One tqdm bar per epoch: steps done, steps/s, ETA, and the running loss and accuracy.

    The bar advances every batch (host work only); the loss and accuracy it shows are those
    the loop last read, every ``log_every`` steps. At the epoch's end the bar stays, with the
    epoch's logs (validation included).
    """

    def __init__(self, stream=None):
        self.stream = sys.stdout if stream is None else stream
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params["epochs"]
        width = len(str(epochs))
        self.bar = tqdm(total=self.params.get("steps"), desc=f"epoch {epoch + 1:>{width}}/{epochs}",
                        unit="step", file=self.stream, leave=True, dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_progress(self, batch, logs=None):
        shown = {key: logs[key] for key in ("loss", "accuracy") if key in logs}
        self.bar.set_postfix_str(format_logs(shown), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.set_postfix_str(format_logs(logs or {}), refresh=False)
        self._close()

    def on_train_end(self, logs=None):
        self._close()  # an epoch cut short (Ctrl-C, a callback) still ends its bar

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
