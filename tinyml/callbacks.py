"""tinyml.callbacks: what happens around the training loop (see tinyml.train.callbacks)."""

from .train.callbacks import Callback, CallbackList, EpochPrinter, LayerHooks
from .train.history import History
from .train.nan import TerminateOnNaN
from .train.progress import ProgressBar

__all__ = ["Callback", "CallbackList", "EpochPrinter", "History", "LayerHooks", "ProgressBar",
           "TerminateOnNaN"]
