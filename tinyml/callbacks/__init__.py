"""``tinyml.callbacks``: what happens around the training loop, as in Keras.

``Learner.fit`` emits five events to each callback, in this order::

    on_train_begin(logs)
        on_epoch_begin(epoch, logs)
            on_batch_end(batch, logs)      once per batch
            on_progress(batch, logs)       at the logging interval, and once at the epoch's end
        on_epoch_end(epoch, logs)
    on_train_end(logs)

``epoch`` counts the learner's epochs from 0 over the whole run (a resumed run goes on from the
checkpoint's), ``batch`` the batches of the epoch from 0. Batch logs hold DEVICE arrays
(``logs["loss"]`` is the batch's 0-d mean loss on the net's device, ``logs["outputs"]`` the
batch's outputs) plus ``logs["size"]``, the batch's sample count, and ``logs["step"]``, the
run's step number (from 1): reading one (``float(logs["loss"])``) makes the host wait for the
device, so a callback that reads should do so every few steps, not every batch.

``on_progress`` gets what the loop read from the device at its logging interval (a few times
a second by default, ``fit(log_every=...)``), as host values: ``losses`` (a list of floats,
one per step since the last progress event), ``steps`` (their run step numbers, from 1),
``batches`` (their batch numbers in the epoch), ``loss`` and ``accuracy`` (the epoch's running
means so far) and ``batches_done``. Epoch logs hold Python floats (``loss``, ``accuracy``,
``val_loss``, ..., ``lr``, ``epoch_time``), read once per epoch. A callback stops training
with ``self.learner.stop_training = True``: the loop stops after the current batch, and still
ends the epoch and the training with their events.

The callbacks, one module each (the loop itself is :mod:`tinyml.train`, which imports these;
nothing here imports the loop):

- :class:`Callback`: the base class; :class:`CallbackList` calls an event on each callback
  (``base``).
- ``fit`` puts four first, in this order: :class:`LayerHooks` (calls each layer's
  ``on_epoch_end(epoch)``), :class:`History` (what ``fit`` returns), :class:`TerminateOnNaN`
  (stop at a NaN loss, always on) and the display, :class:`ProgressBar` or
  :class:`EpochPrinter` (what ``verbose`` shows: ``progress``, laid out by
  ``progress_layout``).
- :class:`EarlyStopping`: stop when a watched log stops improving; optionally end at the
  best epoch's weights.
- :class:`ModelCheckpoint`: save the net (or the full training state, in the checkpoint format
  of :mod:`tinyml.train.checkpoint`) each epoch, or only when a watched log improved.
- :class:`LearningRateScheduler`: set the optimizer's learning rate at each epoch's start.
- :class:`CSVLogger`: one CSV row of epoch logs per epoch.
- :class:`TensorBoard`: scalars and weight histograms for TensorBoard (needs tensorboardX).

EarlyStopping, ModelCheckpoint and LearningRateScheduler watch a log through ``monitoring``'s
``Monitor``.
"""

from .base import Callback, CallbackList, LayerHooks
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lr_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .progress import EpochPrinter, ProgressBar
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "EpochPrinter",
    "History",
    "LayerHooks",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "TensorBoard",
    "TerminateOnNaN",
]
