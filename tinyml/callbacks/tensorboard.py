"""TensorBoard: epoch scalars and weight histograms as TensorBoard event files (tensorboardX)."""

import numbers
import os

from ..backend import extra_install, to_numpy
from ..core.params import Flag, Integer
from .base import Callback
from .monitoring import PathName

INSTALL_HINT = extra_install("tensorboard", "tensorboardX")


class TensorBoard(Callback):
    """Write each epoch's logs and, every `histogram_freq` epochs, every parameter's histogram,
    for ``tensorboard --logdir LOG_DIR``. Needs tensorboardX (not TensorFlow).

    The layout is Keras': two runs under `log_dir`, ``train/`` and ``validation/``, with the
    same tags, so TensorBoard draws the training and validation curves of a metric on one
    chart. Each number in the epoch logs becomes a scalar at step `epoch` (0-based):

    - ``val_<name>`` goes to ``validation/`` as ``epoch_<name>`` (``val_loss`` ->
      ``epoch_loss``);
    - every other key goes to ``train/`` as ``epoch_<name>`` (``loss`` -> ``epoch_loss``,
      ``lr`` -> ``epoch_lr``), except that a key already starting with ``epoch_`` keeps its
      name (``epoch_time``).

    Histograms go to ``train/``, one per parameter, tagged by its dotted name with ``/``
    (``fc1.weight`` -> ``fc1/weight``, so TensorBoard groups them by layer), at the end of
    epochs 0, f, 2f, ... for f = `histogram_freq`. Each is one host copy of the parameter at
    that epoch's end: the only device read this callback makes besides the logs' floats.
    Files are flushed at each epoch's end and closed at ``on_train_end``.

    Parameters
    ----------
    log_dir : str or os.PathLike
        Created when missing.
    histogram_freq : int >= 0
        0 writes no histograms.
    write_graph : bool
        tinyml nets have no traced graph; True writes the net's summary table
        (:meth:`tinyml.Net.summary`) as text (TensorBoard's Text tab, tag ``model/summary``)
        at ``on_train_begin``.

    Raises
    ------
    ImportError
        At construction, when tensorboardX is not installed (the message says what to
        install).
    TypeError, ValueError
        At construction, for a bad argument.
    """

    rank_zero_only = True  # writes files: only rank 0 of a data-parallel run does

    declared_arguments = {"log_dir": PathName("folder", "logs"), "histogram_freq": Integer(0),
                          "write_graph": Flag()}

    def __init__(self, log_dir="logs", histogram_freq=1, write_graph=False):
        self._summary_writer = _summary_writer_class()
        checked = self._checked(log_dir=log_dir, histogram_freq=histogram_freq,
                                write_graph=write_graph)
        self.log_dir, self.histogram_freq = checked["log_dir"], checked["histogram_freq"]
        self.write_graph = checked["write_graph"]
        self._writers = {}

    def on_train_begin(self, logs=None):
        if os.path.exists(self.log_dir) and not os.path.isdir(self.log_dir):
            raise ValueError(f"TensorBoard: log_dir {self.log_dir} is a file; name a folder")
        if self.write_graph:
            lines = []
            self.learner.net.summary(print_fn=lines.append)
            table = "\n".join("    " + line for line in "\n".join(lines).splitlines())
            self._writer("train").add_text("model/summary", table, 0)  # indented: markdown code

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                continue
            run, tag = scalar_tag(key)
            self._writer(run).add_scalar(tag, float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, parameter in self.learner.net.named_parameters().items():
                writer.add_histogram(name.replace(".", "/"), to_numpy(parameter.data), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _writer(self, run):
        """The SummaryWriter of `run` ("train" or "validation"), opened on first use."""
        writer = self._writers.get(run)
        if writer is None:
            writer = self._summary_writer(logdir=os.path.join(self.log_dir, run))
            self._writers[run] = writer
        return writer


def scalar_tag(key):
    """(run, tag) of epoch log `key`: ``"val_loss"`` -> ``("validation", "epoch_loss")``,
    ``"loss"`` -> ``("train", "epoch_loss")``, ``"epoch_time"`` -> ``("train", "epoch_time")``.
    """
    if key.startswith("val_"):
        return "validation", "epoch_" + key[len("val_"):]
    return "train", key if key.startswith("epoch_") else "epoch_" + key


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError(f"tinyml.callbacks.TensorBoard writes event files with tensorboardX, "
                          f"which is not installed ({error}). Install it: {INSTALL_HINT}") from None
    return SummaryWriter
