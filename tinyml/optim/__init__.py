"""Optimizers: the shared base (state per parameter, ``state_dict``) and one module per family.

- :class:`Optimizer` (``base.py``): what every optimizer shares, including the keyword options
  ``clip_norm`` (:func:`clip_factor`, ``clip.py``), ``decay_filter``
  (:func:`no_decay_for_bias_and_norm`, ``decay.py``) and ``scheduler``.
- :class:`SGD` and its pure update :func:`sgd_update` (``sgd.py``).
- :class:`Adam`, :class:`AdamW` and :func:`adam_update` (``adam.py``).
- :class:`RMSProp` and :func:`rmsprop_update` (``rmsprop.py``).
- :class:`AdaGrad` and :func:`adagrad_update` (``adagrad.py``).

- :func:`clip_grad_norm` (``clip.py``): torch's ``clip_grad_norm_`` for a loop of your own,
  gradients scaled in place, the total norm returned on the device.

- :mod:`schedules`: learning-rate schedules, ``learning_rate(step, cur_loss=None) -> float``.

Each formula is PyTorch's optimizer of the same name, written in its update's docstring.
"""

from . import schedules
from .adagrad import AdaGrad, adagrad_update
from .adam import Adam, AdamW, adam_update
from .base import Optimizer
from .clip import clip_factor, clip_grad_norm, total_norm
from .decay import no_decay_for_bias_and_norm
from .rmsprop import RMSProp, rmsprop_update
from .sgd import SGD, sgd_update

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSProp",
    "adagrad_update",
    "adam_update",
    "clip_factor",
    "clip_grad_norm",
    "no_decay_for_bias_and_norm",
    "rmsprop_update",
    "schedules",
    "sgd_update",
    "total_norm",
]
