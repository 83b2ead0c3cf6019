"""act_fn: activations by name, or as layers."""

import pytest

from tinyml.layers import Linear, ReLu, Sigmoid
from tinyml.layers.act_fn import ACTIVATIONS, make_activation, register_activation


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
