"""Dropout: zero random activations while training."""


from ..backend import backend_of
from ..core import Layer
from ..core.params import Real


def drop_probability(argument):
    """The rule of a probability of DROPPING, in [0, 1) (Dropout's probability, attention's
    dropout)."""
    return Real(at_least=0.0, below=1.0, label=f"{argument} (of dropping)")


def dropout_multiplier(shape, like, probability, xp):
    """m / (1 - p) of `shape`, with m ~ Bernoulli(1 - p) drawn on the device of array `like`
    from the backend's seeded streams, in its dtype: what inverted dropout multiplies by."""
    draws = backend_of(like).uniform(shape, dtype=like.dtype)
    return xp.astype(draws >= probability, like.dtype) * (1.0 / (1.0 - probability))


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

    declared_arguments = {"probability": drop_probability("probability")}

    def __init__(self, name, probability):
        super().__init__(name, probability=probability)

    def forward(self, input):
        xp = self._input_namespace(input)
        if not self.training or self.probability == 0.0:
            self.save_for_backward(None, output_shape=input.shape)
            return input
        mask = dropout_multiplier(input.shape, input, self.probability, xp)
        self.save_for_backward(mask, output_shape=input.shape)
        return input * mask

    def backward(self, in_gradient, *, input_gradient=True):
        _, mask = self.saved(in_gradient)
        if not input_gradient:
            return None
        return in_gradient if mask is None else in_gradient * mask
