"""Training: the Learner's loop, which emits events to the callbacks of
:mod:`tinyml.callbacks` (the ones this package exported before they had a package of their
own are re-exported here, and ``tinyml.train.callbacks`` is kept as an alias module).

- ``learner``: :class:`tinyml.Learner`, the loop (epochs, batches, validation, events).
- ``fit_data``: what one ``fit`` call trains on (batching, validation split, one-sample
  batches); ``inputs``: the data's finiteness and the validation split.
- ``checks``: the Learner's arguments and the data, checked before any step (which loss needs
  which last layer is :mod:`tinyml.losses.last_layer`'s table).
- ``totals``: the running loss and accuracy, read from the device at the logging interval.
- ``interrupt``: Ctrl-C ends the step first; ``exclusive``: one fit at a time per Learner.
- ``checkpoint`` (with ``checkpoint_fields``): the training-checkpoint FILE format
  (``save_checkpoint`` / ``load_checkpoint``); the callback that writes one each epoch is
  :class:`tinyml.callbacks.ModelCheckpoint`.
- ``rbm``: ``train_rbm``, contrastive divergence for an RBM layer.
"""

from ..callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TensorBoard,
)
from . import callbacks
from .learner import Learner
from .rbm import train_rbm

__all__ = [
    "CSVLogger",
    "EarlyStopping",
    "Learner",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "TensorBoard",
    "callbacks",
    "train_rbm",
]
