"""Training: the Learner's loop, which emits events, and the callbacks that listen to it."""

from . import callbacks
from .learner import Learner
from .rbm import train_rbm

__all__ = ["Learner", "callbacks", "train_rbm"]
