"""ModelCheckpoint: save the net (or the whole training state) as it trains (Keras' callback)."""

import os
import string

from ..core.params import AnyOf, Flag, Integer, OneOf
from ..io import check_save_path
from .base import Callback
from .monitoring import LOG_NAME, MODE, VERBOSE, Monitor, PathName, say


class ModelCheckpoint(Callback):
    """Save the net at each epoch's end, or only when `monitor` improved; or every N batches.

    Parameters
    ----------
    path : str or os.PathLike
        Where to save (``.npz``). May hold :meth:`str.format` fields: ``{epoch}`` (1-based,
        the epoch being saved), any epoch log (``{val_loss:.3f}``), and ``{batch}`` (1-based,
        with an int `save_freq`): ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``. A fixed name is
        overwritten at each save (atomically: a killed run leaves the previous file whole).
        The folder is checked at ``on_train_begin`` (it must exist and be writable), so a bad
        path fails before the first epoch rather than after it. A folder that holds fields
        itself (``"run/{epoch}/weights.npz"``) is created at each save; the folder above its
        first field must exist.
    monitor : str
        The epoch log that `save_best_only` compares. When the logs lack it, a
        RuntimeWarning lists the keys they hold (once per fit) and nothing is saved.
    save_best_only : bool
        Save only at the epochs where `monitor` improved on the best value so far (strictly;
        the first epoch with a value always does; NaN never does). False: save every epoch.
    mode : "auto", "min" or "max"
        "auto": "max" when the name contains "acc", "f1", "precision", "recall" or "auc",
        else "min".
    save_freq : "epoch" or int > 0
        "epoch": at each epoch's end. An int N: after every N-th batch (counted across
        epochs), formatted with ``{epoch}`` and ``{batch}`` only (batch logs are device
        arrays, not numbers), and without `save_best_only`.
    save_weights_only : bool
        True: ``net.save(path)``, the weights and the architecture (:func:`tinyml.load_net`
        reads it). False: ``learner.save_checkpoint(path)``, the full training state
        (weights, optimizer state, epoch, ...) to resume from; a Learner without that method
        is an error at ``on_train_begin``.
    verbose : 0 or 1
        1 prints a line at each save (and at each epoch that did not improve).

    Attributes
    ----------
    best : float
        The best monitored value so far (+inf or -inf before any).
    last_saved : str or None
        The path of the last file written.
    saved : list of str
        Every path written, in order (a fixed name repeats).

    Raises
    ------
    TypeError, ValueError
        At construction, for bad arguments, or a `path` whose fields cannot be formatted
        (``{val_loss:d}``), or name ``{batch}`` with ``save_freq="epoch"``.
    ValueError, TypeError
        At ``on_train_begin``: the folder is missing, not writable, `path` is a folder, or
        the Learner has no ``save_checkpoint`` for ``save_weights_only=False``.
    ValueError
        At a save: `path` names a field that the epoch logs lack (the message lists them).
    """

    rank_zero_only = True  # writes files: only rank 0 of a data-parallel run does

    declared_arguments = {"path": PathName("file", "weights.npz"), "monitor": LOG_NAME,
                          "save_best_only": Flag(), "mode": MODE,
                          "save_freq": AnyOf(OneOf("epoch"), Integer(1),
                                             spelled="'epoch' or an int number of batches"),
                          "save_weights_only": Flag(), "verbose": VERBOSE}

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 save_freq="epoch", save_weights_only=True, verbose=0):
        checked = self._checked(path=path, monitor=monitor, save_best_only=save_best_only,
                                mode=mode, save_freq=save_freq,
                                save_weights_only=save_weights_only, verbose=verbose)
        self.path, self.save_freq = checked["path"], checked["save_freq"]
        self.monitor = Monitor("ModelCheckpoint", checked["monitor"], checked["mode"])
        self.save_best_only = checked["save_best_only"]
        self.save_weights_only = checked["save_weights_only"]
        self.verbose = checked["verbose"]
        fields = _fields(self.path)
        if self.save_freq != "epoch":
            if self.save_best_only:
                raise ValueError("ModelCheckpoint: save_best_only compares an epoch log, which "
                                 "exists only at epoch ends; use save_freq='epoch' with it")
            extra = sorted(fields - {"epoch", "batch"})
            if extra:
                raise ValueError(f"ModelCheckpoint: with save_freq={save_freq} (batches) the "
                                 f"path may name only {{epoch}} and {{batch}}; it names "
                                 f"{extra}, which exist only in epoch logs")
        elif "batch" in fields:
            raise ValueError("ModelCheckpoint: the path names {batch}, which is only known "
                             "when saving every N batches (save_freq=N)")
        _try_format(self.path, fields)
        self.best = self.monitor.worst
        self.last_saved = None
        self.saved = []
        self._batches = 0
        self._epoch = 0

    # ---------------------------------------------------------------- events
    def on_train_begin(self, logs=None):
        if not self.save_weights_only and not callable(
                getattr(self.learner, "save_checkpoint", None)):
            raise TypeError(f"ModelCheckpoint(save_weights_only=False) saves the full training "
                            f"state with learner.save_checkpoint(path), which "
                            f"{type(self.learner).__name__} lacks; use save_weights_only=True "
                            f"(net.save) instead")
        _check_folder(self.path)
        self.monitor.reset()
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            path = _formatted(self.path, {"epoch": self._epoch + 1, "batch": batch + 1})
            self._save(path, f"Epoch {self._epoch + 1}, batch {batch + 1}: saving to {path}")

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq != "epoch":
            return
        logs = dict(logs or {})
        fields = {**logs, "epoch": epoch + 1}
        if not self.save_best_only:
            path = _formatted(self.path, fields)
            self._save(path, f"Epoch {epoch + 1}: saving model to {path}")
            return
        value = self.monitor.value(logs)
        if value is None:
            return
        name = self.monitor.name
        if self.monitor.improved(value, self.best):
            path = _formatted(self.path, fields)
            line = (f"Epoch {epoch + 1}: {name} improved from {self.best:.5f} to "
                    f"{value:.5f}, saving model to {path}")
            self.best = value
            self._save(path, line)
        elif self.verbose:
            say(f"Epoch {epoch + 1}: {name} did not improve from {self.best:.5f}")

    # ---------------------------------------------------------------- saving
    def _save(self, path, line):
        folder = os.path.dirname(path)
        if folder and _fields(os.path.dirname(self.path)):
            os.makedirs(folder, exist_ok=True)  # a folder named by the epoch's fields
        if self.save_weights_only:
            self.learner.net.save(path)
        else:
            self.learner.save_checkpoint(path)
        self.last_saved = path
        self.saved.append(path)
        if self.verbose:
            say(line)


# -------------------------------------------------------------------- the path template
def _fields(template):
    """The names the format fields of `template` use: {"epoch", "val_loss"}."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"ModelCheckpoint: path {template!r} is not a valid format string "
                         f"({error}); double the braces that are not fields: '{{{{' and "
                         f"'}}}}'") from None
    names = set()
    for _, field, _, _ in parsed:
        if field is None:
            continue
        base = field.split(".")[0].split("[")[0]
        if not base or base.isdigit():
            raise ValueError(f"ModelCheckpoint: path {template!r} has a positional field "
                             f"{{{field}}}; name it, as {{epoch}} or {{val_loss:.3f}}")
        names.add(base)
    return names


def _try_format(template, fields):
    """Format `template` once with stand-ins (epoch, batch: 1; logs: 0.0) so that a spec that
    cannot fit (``{val_loss:d}``) fails now, not after the first epoch."""
    stand_ins = {name: 1 if name in ("epoch", "batch") else 0.0 for name in fields}
    try:
        template.format(**stand_ins)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise ValueError(f"ModelCheckpoint: path {template!r} cannot be formatted ({error}); "
                         f"{{epoch}} and {{batch}} are ints, epoch logs are floats") from None


def _formatted(template, fields):
    try:
        return template.format(**fields)
    except KeyError as error:
        available = ", ".join(sorted(fields))
        raise ValueError(f"ModelCheckpoint: path {template!r} names {{{error.args[0]}}}, which "
                         f"the epoch logs lack (available: {available}). Pass validation_data "
                         f"to fit for the val_ logs, or name another.") from None


def _check_folder(template):
    """The folder of `template` (or, when it holds fields, the folder above the first field)
    exists and is writable, and a fixed `template` is not a folder."""
    if not _fields(template) and os.path.isdir(template):
        raise ValueError(f"ModelCheckpoint: path {template} is a folder; name a file in it, "
                         f"such as {os.path.join(template, 'weights.npz')}")
    folder = os.path.dirname(os.path.abspath(template))
    if _fields(folder):
        folder = os.path.dirname(folder[:folder.index("{")])
    if not os.path.isdir(folder):
        raise ValueError(f"ModelCheckpoint: the folder {folder} (of path {template}) does not "
                         f"exist; create it first (os.makedirs) or save elsewhere")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"ModelCheckpoint: the folder {folder} (of path {template}) is not "
                         f"writable; save elsewhere")
    if not _fields(template):  # what the first save would refuse, refused before training
        try:
            check_save_path(template)
        except OSError as error:
            raise ValueError(f"ModelCheckpoint: {error.strerror or error}") from None
        except ValueError as error:
            raise ValueError(f"ModelCheckpoint: {error}") from None
