"""act_fn (tinyml/layers/act_fn.py): activations by name, or as layers; every elementwise one
by name, with its defaults."""

import math

import numpy as np
import pointwise_reference as R
import pytest

import tinyml
from tinyml.layers import (
    ELU,
    GELU,
    SELU,
    Affine,
    Exponential,
    HardSigmoid,
    Identity,
    LeakyReLU,
    Linear,
    ReLu,
    Sigmoid,
    SoftPlus,
    Tanh,
)
from tinyml.layers.act_fn import ACTIVATIONS, make_activation, register_activation
from tinyml.testing import assert_close


def test_a_name_builds_its_layer_named_after_the_owner(backend):
    owner = Linear("fc", 2, 2)
    act = make_activation("ReLU", owner)
    assert isinstance(act, ReLu) and act.name == "fc_relu"
    assert make_activation(None, owner) is None
    given = Sigmoid("mine")
    assert make_activation(given, owner) is given


def test_an_unknown_name_lists_the_known_ones(backend):
    known = ", ".join(sorted(ACTIVATIONS))
    with pytest.raises(ValueError, match=rf"Linear 'fc': unknown act_fn 'swish'; choose one of "
                                         rf"{known}, pass an activation layer, or None"):
        make_activation("swish", Linear("fc", 2, 2))


def test_register_activation(monkeypatch):
    monkeypatch.setitem(ACTIVATIONS, "placeholder", ReLu)
    assert isinstance(make_activation("placeholder", ReLu("owner")), ReLu)
    with pytest.raises(ValueError, match="lowercase"):
        register_activation("Tanh", ReLu)
    with pytest.raises(TypeError, match="takes a Layer class"):
        register_activation("tanh", print)


# ---------------------------------------------------------------- each by name
NAMES = {  # name -> (class, its f with the default options)
    "tanh": (Tanh, R.tanh), "leaky_relu": (LeakyReLU, R.leaky_relu(0.3)),
    "elu": (ELU, R.elu(1.0)), "selu": (SELU, R.elu(R.SELU_ALPHA, R.SELU_SCALE)),
    "gelu": (GELU, R.gelu), "softplus": (SoftPlus, R.softplus),
    "hard_sigmoid": (HardSigmoid, R.hard_sigmoid), "exponential": (Exponential, math.exp),
    "identity": (Identity, R.affine(1.0, 0.0)), "affine": (Affine, R.affine(1.0, 0.0)),
}
X = np.array([[-6.0, -2.5, -1e-9, 0.0, 1e-9, 0.6629, 2.5, 12.0]])


@pytest.mark.parametrize("name", NAMES)
def test_act_fn_builds_each_by_name_with_its_defaults(backend, name):
    cls, f = NAMES[name]
    assert ACTIVATIONS[name] is cls
    act = make_activation(name.upper(), ReLu("owner"))
    assert type(act) is cls and act.name == f"owner_{name}"
    assert_close(act.forward(tinyml.asarray(X)), R.elementwise(f)(X), backend=backend)
