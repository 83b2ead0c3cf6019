"""Weight initialisers, drawn from the backend's seeded generator.

Each takes the weight's shape and its fans and returns an array on the backend:

========================  ==========================================
``glorot_uniform``        U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
``glorot_normal``         N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
``he_uniform``            U(-a, a),  a = sqrt(6 / fan_in)
``he_normal``             N(0, s^2), s = sqrt(2 / fan_in)
========================  ==========================================

Glorot (Xavier) keeps the variance of activations and gradients equal across a linear layer;
He doubles it to make up for the half that a ReLU zeroes.
"""

import math

from .backend import get_backend


def glorot_uniform(shape, fan_in, fan_out, backend=None):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return (backend or get_backend()).uniform(shape, -limit, limit)


def glorot_normal(shape, fan_in, fan_out, backend=None):
    return (backend or get_backend()).normal(shape, 0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(shape, fan_in, fan_out, backend=None):
    limit = math.sqrt(6.0 / fan_in)
    return (backend or get_backend()).uniform(shape, -limit, limit)


def he_normal(shape, fan_in, fan_out, backend=None):
    return (backend or get_backend()).normal(shape, 0.0, math.sqrt(2.0 / fan_in))


INITIALIZERS = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}


def get_initializer(init):
    """The initialiser called `init`, or `init` itself when it is callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown initializer {init!r}; choose one of {', '.join(INITIALIZERS)} "
            "or pass a function (shape, fan_in, fan_out) -> array"
        ) from None
