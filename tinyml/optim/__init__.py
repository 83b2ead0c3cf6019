"""Optimizers, one module per family: :class:`SGD` and its pure update :func:`sgd_update`."""

from .sgd import SGD, sgd_update

__all__ = ["SGD", "sgd_update"]
