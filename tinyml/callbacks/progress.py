"""What ``fit`` shows while it trains: a live line on a terminal, one line per epoch elsewhere.

``verbose=1`` gives :class:`ProgressBar` when standard output is a terminal and
:class:`EpochPrinter` (one line per epoch) when it is not (a CI log, a file, a pipe);
``verbose=2`` always gives the line per epoch; ``verbose=0`` shows nothing.
Neither reads the device: they show what the loop read at its logging interval
(``on_progress``) and the epoch's logs.
"""

import os
import sys
import time

from .base import Callback
from .progress_layout import epoch_lines, epoch_title, format_logs, live_line

DEFAULT_COLUMNS = 80  # a terminal that reports no size (0 columns), or a stream with none
REDRAW_SECONDS = 0.1  # the live line is redrawn at most this often (and at each read)
CLEAR_LINE = "\r\x1b[K"  # back to the line's start, then erase it (ANSI, every terminal)


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


def terminal_columns(stream):
    """The width of the terminal `stream` writes to, asked anew each time (it may be resized);
    ``DEFAULT_COLUMNS`` when it reports none (0 columns, or no file descriptor)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns if columns > 0 else DEFAULT_COLUMNS


class ProgressBar(Callback):
    """A live line per epoch, then the epoch's summary in its place, as Keras shows them.

    While an epoch runs, one line redrawn in place (at most every 0.1 s) shows the epoch,
    a bar, the steps done, the running loss and accuracy (as the loop last read them, every
    ``log_every`` steps), the ETA and the rate, as many of them as fit the terminal's width.
    When the epoch ends that line is replaced by the lines it leaves: the epoch, its steps,
    time and time per step, and every log (``val_loss``, ``val_accuracy``, ``lr``, ...), on
    one line if it fits the width, otherwise wrapped between items; nothing is cut.
    """

    def __init__(self, stream=None):
        self.stream = sys.stdout if stream is None else stream
        self._live = False
        self._running = {}
        self._done = 0
        self._started = self._drawn = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._title = epoch_title(epoch, self.params["epochs"])
        self._total = self.params.get("steps")
        self._running, self._done = {}, 0
        self._started = time.perf_counter()
        self._draw(force=True)

    def on_batch_end(self, batch, logs=None):
        self._done += 1
        self._draw(force=self._done == self._total)

    def on_progress(self, batch, logs=None):
        self._running = {key: logs[key] for key in ("loss", "accuracy") if key in logs}
        self._draw(force=True)

    def on_epoch_end(self, epoch, logs=None):
        lines = epoch_lines(self._title, self._done, self._total, logs or {},
                            terminal_columns(self.stream))
        self._write(CLEAR_LINE + "\n".join(lines) + "\n")
        self._live = False

    def on_train_end(self, logs=None):
        if self._live:  # an epoch cut short (Ctrl-C, a callback): keep its line, end it
            self._write("\n")
            self._live = False

    def _draw(self, force=False):
        now = time.perf_counter()
        if not force and now - self._drawn < REDRAW_SECONDS:
            return
        line = live_line(self._title, self._done, self._total, now - self._started,
                         self._running, terminal_columns(self.stream))
        self._write(CLEAR_LINE + line)
        self._live, self._drawn = True, now

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()


class EpochPrinter(Callback):
    """Prints one line per epoch: ``epoch  3/10  loss 0.1234  accuracy 0.9651  lr 0.05
    (0.41s)``."""

    def __init__(self, print_fn=None):
        self.print_fn = print_fn or _print_now

    def on_epoch_end(self, epoch, logs=None):
        epochs = self.params["epochs"]
        width = len(str(epochs))
        self.print_fn(f"epoch {epoch + 1:>{width}}/{epochs}  {format_logs(logs or {})}")


def _print_now(line):
    print(line, flush=True)  # a redirected log shows each epoch as it ends
