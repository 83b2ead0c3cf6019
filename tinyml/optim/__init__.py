"""Optimizers: the shared base (state per parameter, ``state_dict``) and one module per family.

- :class:`Optimizer` (``base.py``): what every optimizer shares.
- :class:`SGD` and its pure update :func:`sgd_update` (``sgd.py``).
- :mod:`schedules`: learning-rate schedules, ``learning_rate(step, cur_loss=None) -> float``.
"""

from . import schedules
from .base import Optimizer
from .sgd import SGD, sgd_update

__all__ = ["SGD", "Optimizer", "schedules", "sgd_update"]
