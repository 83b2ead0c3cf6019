"""CSVLogger: one row of epoch logs per epoch in a CSV file, written as training goes."""

import csv
import os
import warnings

from ..core.params import Flag, Rule
from .base import Callback
from .monitoring import PathName


class Separator(Rule):
    """A CSV separator: one character, not a quote or a line break."""

    def check(self, owner, argument, value, known):
        if not isinstance(value, str) or len(value) != 1 or value in "\r\n\"":
            raise ValueError(f"{owner}: {argument} must be one character (not a quote or a "
                             f"line break), such as ',' or '\\t'; got {value!r}")
        return value

    def bad_values(self, known):
        return [(value, ValueError, ["must be one character", f"got {value!r}"])
                for value in (";;", "", '"', "\n", 1)]

    def example(self, known):
        return ","


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (Keras' ``CSVLogger``).

    The first column is ``epoch`` (0-based, as Keras), then the first epoch's log keys in the
    order the loop gives them (``loss, accuracy, val_loss, val_accuracy, ...``). That header
    stays: a key missing at a later epoch leaves its cell empty, and a key that appears later
    is not written (a RuntimeWarning names it, once per fit). Each row is flushed as it is
    written, so a killed run keeps every finished epoch. The file is opened at
    ``on_train_begin`` and closed at ``on_train_end``.

    Parameters
    ----------
    path : str or os.PathLike
    separator : str
        One character between cells.
    append : bool
        False: start a new file (an old one is replaced). True: add rows to an existing file;
        when it has a header, its columns are kept (no second header), so runs that resume
        line up; an empty or missing file starts with a header.

    Raises
    ------
    TypeError, ValueError
        At construction, for a bad argument; ValueError at ``on_train_begin`` when the folder
        does not exist or `path` is a folder.
    """

    rank_zero_only = True  # writes files: only rank 0 of a data-parallel run does

    declared_arguments = {"path": PathName("file", "log.csv"), "separator": Separator(),
                          "append": Flag()}

    def __init__(self, path, separator=",", append=False):
        checked = self._checked(path=path, separator=separator, append=append)
        self.path, self.separator = checked["path"], checked["separator"]
        self.append = checked["append"]
        self.columns = None
        self._file = None
        self._writer = None
        self._warned = set()

    def on_train_begin(self, logs=None):
        self._check_folder()
        self.columns = self._existing_columns() if self.append else None
        self._file = open(self.path, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self._warned = set()

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:  # an epoch from a loop that skipped on_train_begin
            self.on_train_begin()
        logs = logs or {}
        if self.columns is None:
            self.columns = ["epoch", *(key for key in logs if key != "epoch")]
            self._writer.writerow(self.columns)
        self._warn_about_new(logs)
        row = {**logs, "epoch": epoch}
        self._writer.writerow([_cell(row.get(column, "")) for column in self.columns])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None

    def _warn_about_new(self, logs):
        new = [key for key in logs if key not in self.columns and key not in self._warned]
        if new:
            self._warned.update(new)
            warnings.warn(f"CSVLogger: the epoch logs now hold {new}, which the header of "
                          f"{self.path} ({self.separator.join(self.columns)}) lacks; they are "
                          f"not written", RuntimeWarning, stacklevel=2)

    def _existing_columns(self):
        """The header of the file being appended to, or None (no file, or an empty one)."""
        if not os.path.isfile(self.path):
            return None
        with open(self.path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle, delimiter=self.separator), None)
        return header or None

    def _check_folder(self):
        if os.path.isdir(self.path):
            raise ValueError(f"CSVLogger: path {self.path} is a folder; name a file in it, "
                             f"such as {os.path.join(self.path, 'log.csv')}")
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ValueError(f"CSVLogger: the folder {folder} (of path {self.path}) does not "
                             f"exist; create it first or log elsewhere")


def _cell(value):
    """A float as repr writes it (every digit back on reading); anything else as str."""
    return repr(value) if isinstance(value, float) else value
