"""``act_fn=``: an activation given by name (``"relu"``) or as a layer, for layers that end in
one (FullyConnected, Add, SparseEvolution, ...).

Activation layers register here under a lowercase name; ``make_activation`` builds the layer a
name stands for, named after its owner so its keys and messages say whose it is.
"""

from ..core import Layer
from ..core.params import Rule
from .elementwise import (
    ELU,
    GELU,
    SELU,
    Affine,
    Exponential,
    HardSigmoid,
    Identity,
    LeakyReLU,
    ReLu,
    Sigmoid,
    SoftPlus,
    Tanh,
)
from .softmax import LogSoftmax, Softmax

ACTIVATIONS = {
    "relu": ReLu,
    "sigmoid": Sigmoid,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "softplus": SoftPlus,
    "hard_sigmoid": HardSigmoid,
    "exponential": Exponential,
    "identity": Identity,
    "affine": Affine,
}


def register_activation(name, layer_class):
    """Make ``act_fn=name`` build ``layer_class(name)``; returns the class (usable as a
    decorator's target)."""
    if not isinstance(name, str) or name != name.lower() or not name:
        raise ValueError(f"an activation's name must be a non-empty lowercase string; got "
                         f"{name!r}")
    if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
        raise TypeError(f"register_activation takes a Layer class; got {layer_class!r}")
    ACTIVATIONS[name] = layer_class
    return layer_class


class Activation(Rule):
    """``act_fn=``: None, an activation layer, or a name from ``ACTIVATIONS`` (any case)."""

    def check(self, owner, argument, value, known):
        if value is None or isinstance(value, Layer) or \
                isinstance(value, str) and value.lower() in ACTIVATIONS:
            return value
        raise ValueError(f"{owner}: unknown {argument} {value!r}; choose one of "
                         f"{', '.join(sorted(ACTIVATIONS))}, pass an activation layer, or None")

    def bad_values(self, known):
        return [("swish", ValueError, ["unknown {argument} 'swish'", "choose one of"]),
                (3, ValueError, ["unknown {argument} 3", "pass an activation layer"])]

    def example(self, known):
        return None


#: the rule of every ``act_fn`` argument
ACT_FN = Activation()


def make_activation(act_fn, owner):
    """The activation layer `act_fn` stands for, or None for ``act_fn=None``.

    Parameters
    ----------
    act_fn : None, str or Layer
        A name from ``ACTIVATIONS`` (built as ``"{owner.name}_{act_fn}"``), or a layer,
        used as given.
    owner : Layer
        The layer the activation belongs to, for its name and for error messages.

    Raises
    ------
    ValueError
        From :data:`ACT_FN`: a name not registered, or a value that is no name, layer or None.
    """
    act_fn = ACT_FN.check(owner.describe(), "act_fn", act_fn, {})
    if act_fn is None or isinstance(act_fn, Layer):
        return act_fn
    return ACTIVATIONS[act_fn.lower()](f"{owner.name}_{act_fn.lower()}")
