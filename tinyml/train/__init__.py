"""Training: the Learner's loop, which emits events, and the callbacks that listen to it."""

from . import callbacks
from .learner import Learner

__all__ = ["Learner", "callbacks"]
