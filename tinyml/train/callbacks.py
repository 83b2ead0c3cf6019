"""The old home of the callbacks' base: they are :mod:`tinyml.callbacks` now, one file each.

Kept so that ``from tinyml.train.callbacks import Callback`` (and ``tinyml.train.callbacks.X``)
still works; new code imports from :mod:`tinyml.callbacks`.
"""

from ..callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    EpochPrinter,
    History,
    LayerHooks,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    TensorBoard,
    TerminateOnNaN,
)
from ..callbacks.progress_layout import format_logs

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
    "format_logs",
]
