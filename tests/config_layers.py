"""Small layers of a user's own, for the tests of configs, summaries and load_net: one with a
parameter, one that refers to another layer of the net, a container, and helpers that run the
layers of the table in tests/layer_specs.py."""

import numpy as np
from layer_specs import LAYERS
from test_layer_contract import case_input

import tinyml
from tinyml import Layer, Parameter
from tinyml.layers import MaxPool2D, MaxUnpool2D


@tinyml.register_layer
class Scale(Layer):
    """y = x * scale + offset, with `scale` a parameter of `width` values."""

    def __init__(self, name, width, *, offset=0.0):
        super().__init__(name)
        self.offset = offset
        self.scale = Parameter(1.0 + tinyml.get_backend().uniform((width,)))

    def forward(self, input):
        self._remember(input, output_shape=input.shape)
        return input * self.scale.data + self.offset

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self._recall(in_gradient)
        self.scale.grad += xp.sum(in_gradient * input, axis=0)
        return in_gradient * self.scale.data if input_gradient else None


@tinyml.register_layer
class ScaleLike(Layer):
    """y = x * like.scale: uses the parameter of another layer of the net (`like`), which it
    does not hold (a private attribute), as MaxUnpool2D uses its pool."""

    def __init__(self, name, like):
        super().__init__(name)
        self._like = like

    def forward(self, input):
        self._remember(input, output_shape=input.shape)
        return input * self._like.scale.data

    def backward(self, in_gradient, *, input_gradient=True):
        self._recall(in_gradient)
        return in_gradient * self._like.scale.data if input_gradient else None


@tinyml.register_layer
class Pair(Layer):
    """A container: its `layers` (a list) in a row."""

    def __init__(self, name, layers):
        super().__init__(name)
        self.layers = layers  # the list itself, so a test may add to it later

    def forward(self, input):
        for layer in self.layers:
            input = layer.forward(input)
        return input


def on_backend(x):
    """Host input (an array, or a list of them for layers that take several) on the backend."""
    return [tinyml.asarray(item) for item in x] if isinstance(x, list) else tinyml.asarray(x)


def to_host(y):
    """Host copies of an output: an array, or a list or tuple of them (an LSTM cell's)."""
    if isinstance(y, (list, tuple)):
        return type(y)(tinyml.to_numpy(item) for item in y)
    return tinyml.to_numpy(y)


def contract_input(kind):
    """A sample input for LAYERS[kind], as the contract tests build it, on the backend."""
    return on_backend(case_input(kind))


# The layers of the contract table that cannot stand alone in a net of their own, because they
# use another layer of the net (MaxUnpool2D needs its pool's last forward), map to a function
# () -> (a net that holds one, an input for it on the backend). The others need nothing here.
def _unpool_net():
    """MaxUnpool2D needs its pool in the same net, before it: pool then unpool."""
    pool = MaxPool2D("pool", (1, 4, 4), 2, 2)
    net = tinyml.Net([pool, MaxUnpool2D("unpool", pool)])
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    return net, tinyml.asarray(x)


def _cell_net(kind):
    """A recurrent cell stands alone in a net from the zero state: forward(x) is one step."""
    def make():
        x = np.random.default_rng(0).standard_normal(LAYERS[kind].shape.args[0])
        return tinyml.Net([LAYERS[kind].make()]), tinyml.asarray(x)
    return make



def _self_attention_net():
    """DotProductAttention's case takes q, k and v; a Net passes one array, which it takes as
    self-attention (q = k = v)."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    return tinyml.Net([LAYERS["DotProductAttention"].make()]), tinyml.asarray(x)


NETS = {"MaxUnpool2D": _unpool_net, "DotProductAttention": _self_attention_net,
        **{kind: _cell_net(kind) for kind in ("RNNCell", "LSTMCell", "GRUCell")}}


def net_around(kind):
    """(net, input on the backend): by default a net of LAYERS[kind] alone, with its sample."""
    if kind in NETS:
        return NETS[kind]()
    return tinyml.Net([LAYERS[kind].make()]), contract_input(kind)


def host_state(layer):
    return {key: tinyml.to_numpy(value).copy() for key, value in layer.state_dict().items()}


def assert_same_state(actual, expected):
    assert list(actual) == list(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(actual[key], value, err_msg=key)
