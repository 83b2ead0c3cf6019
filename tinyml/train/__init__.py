"""Training: the Learner's loop, which emits events, and the callbacks that listen to it."""

from . import callbacks
from .checkpointing import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learner import Learner
from .rbm import train_rbm
from .schedule_callback import LearningRateScheduler
from .tensorboard import TensorBoard

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
