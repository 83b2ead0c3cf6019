"""Dropout: zero random activations while training."""

import numbers

from ..backend import backend_of
from ..core import Layer


class Dropout(Layer):
    r"""Inverted dropout: drop each value with probability ``probability`` while training.

    Parameters
    ----------
    name : str
    probability : float in [0, 1)
        The probability of DROPPING a value (not of keeping it).

    Notes
    -----
    Training, with a fresh mask :math:`m_k \sim \mathrm{Bernoulli}(1 - p)` drawn on the input's
    device from the backend's seeded generator:

    .. math:: y = x \odot m / (1 - p), \qquad \partial L/\partial x = g \odot m / (1 - p)

    Scaling by 1/(1 - p) keeps the expected activation unchanged, so evaluation (``eval()``)
    is the identity: :math:`y = x`, :math:`\partial L/\partial x = g`.
    """

    def __init__(self, name, probability):
        super().__init__(name)
        if isinstance(probability, bool) or not isinstance(probability, numbers.Real):
            raise TypeError(f"{self.describe()}: probability must be a float; got "
                            f"{probability!r}")
        if not 0.0 <= probability < 1.0:
            raise ValueError(f"{self.describe()}: probability (of dropping) must be in [0, 1); "
                             f"got {probability}")
        self.probability = float(probability)

    def forward(self, input):
        xp = self._input_namespace(input)
        if not self.training or self.probability == 0.0:
            self._remember(None, output_shape=input.shape)
            return input
        draws = backend_of(input).uniform(input.shape, dtype=input.dtype)
        mask = xp.astype(draws >= self.probability, input.dtype) * (1.0 / (1.0 - self.probability))
        self._remember(mask, output_shape=input.shape)
        return input * mask

    def backward(self, in_gradient, *, input_gradient=True):
        _, mask = self._recall(in_gradient)
        if not input_gradient:
            return None
        return in_gradient if mask is None else in_gradient * mask
