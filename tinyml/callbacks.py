"""``tinyml.callbacks``: the training loop's callbacks (they live in :mod:`tinyml.train`)."""

from .train.callbacks import Callback, CallbackList, EpochPrinter, History, LayerHooks

__all__ = ["Callback", "CallbackList", "EpochPrinter", "History", "LayerHooks"]
