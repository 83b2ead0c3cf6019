"""``tinyml.callbacks``: the training loop's callbacks (they live in :mod:`tinyml.train`).

- :class:`Callback`: the base class (the events are listed in :mod:`tinyml.train.callbacks`).
- :class:`History`: what ``fit`` returns; :class:`TerminateOnNaN`: stop at a NaN loss (always
  on); :class:`ProgressBar` and :class:`EpochPrinter`: what ``verbose`` shows.
- :class:`EarlyStopping`: stop when a watched log stops improving; optionally end at the
  best epoch's weights.
- :class:`ModelCheckpoint`: save the net (or the full training state) each epoch, or only
  when a watched log improved.
- :class:`LearningRateScheduler`: set the optimizer's learning rate at each epoch's start.
- :class:`CSVLogger`: one CSV row of epoch logs per epoch.
- :class:`TensorBoard`: scalars and weight histograms for TensorBoard (needs tensorboardX).
"""

from .train.callbacks import Callback, CallbackList, EpochPrinter, LayerHooks
from .train.checkpointing import ModelCheckpoint
from .train.csv_logger import CSVLogger
from .train.early_stopping import EarlyStopping
from .train.history import History
from .train.nan import TerminateOnNaN
from .train.progress import ProgressBar
from .train.schedule_callback import LearningRateScheduler
from .train.tensorboard import TensorBoard

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
