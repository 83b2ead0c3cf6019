"""hyperparameters, net.config() and Net.from_config: every layer of the contract table, nested
nets, references between layers, registered classes of a user's own, and every error."""

import json

import numpy as np
import pytest
from config_layers import Pair, Scale, ScaleLike, assert_same_state, host_state
from test_layer_contract import LAYERS, exported_layer_classes

import tinyml
from tinyml import Layer, Net
from tinyml.core import registered_layers
from tinyml.layers import Dropout, Flatten, Linear, MaxPool2D, ReLu, Softmax


def json_round_trip(value):
    return json.loads(json.dumps(value))


# ---------------------------------------------------------------- every layer of the table
def test_every_exported_layer_class_is_registered():
    registered = registered_layers()
    for name, cls in exported_layer_classes().items():
        assert registered.get(name) is cls, f"{name} is exported but a config cannot name it"
    assert registered["Net"] is Net


@pytest.mark.parametrize("kind", LAYERS)
def test_hyperparameters_are_json_and_a_config_rebuilds_an_equal_layer(backend, kind):
    layer = LAYERS[kind].make()
    hyperparameters = layer.hyperparameters
    assert json_round_trip(hyperparameters) == hyperparameters
    assert hyperparameters["name"] == "layer"
    config = Net([layer]).config()
    assert json_round_trip(config) == config
    rebuilt = Net.from_config(json_round_trip(config))
    assert type(rebuilt[0]) is type(layer)
    assert rebuilt.config() == config
    assert rebuilt[0].hyperparameters == hyperparameters
    shapes = {key: tuple(value.shape) for key, value in layer.state_dict().items()}
    assert {key: tuple(value.shape) for key, value in rebuilt[0].state_dict().items()} == shapes


@pytest.mark.parametrize("kind", LAYERS)
def test_a_layer_config_rebuilds_the_layer_alone(backend, kind):
    layer = LAYERS[kind].make()
    rebuilt = Layer.from_config(json_round_trip(layer.config()))
    assert type(rebuilt) is type(layer) and rebuilt.config() == layer.config()
    assert type(LAYERS[kind].make()).from_config(layer.config()).name == "layer"


# ---------------------------------------------------------------- what hyperparameters hold
def test_hyperparameters_are_the_outermost_call_with_defaults():
    assert Linear("fc", 4, 3).hyperparameters == {"name": "fc", "input_dim": 4,
                                                  "output_dim": 3, "init": "he_uniform"}
    assert Softmax().hyperparameters == {"name": "softmax", "axis": 1}  # _AlongAxis's not
    assert Flatten("flat").hyperparameters == {"name": "flat"}  # no constructor of its own
    assert MaxPool2D("pool", (1, 4, 4), 2, 2).hyperparameters["input_dim"] == [1, 4, 4]

    class Wide(Linear):  # calls its parent with other arguments: its own call counts
        def __init__(self, name):
            super().__init__(name, 4, 8, init="zeros")

    class Quiet(Softmax):  # no constructor: the inherited one records
        pass

    assert Wide("w").hyperparameters == {"name": "w"}
    assert Quiet("q", axis=0).hyperparameters == {"name": "q", "axis": 0}


def test_numbers_of_other_libraries_become_plain_json():
    layer = Linear("fc", np.int64(4), np.int32(3))
    dropout = Dropout("drop", np.float64(0.25))
    assert json.dumps(layer.hyperparameters) and type(layer.hyperparameters["input_dim"]) is int
    assert type(dropout.hyperparameters["probability"]) is float


def test_a_registered_initializer_function_is_written_by_name():
    layer = Linear("fc", 4, 3, init=tinyml.init.orthogonal)
    assert layer.hyperparameters["init"] == "orthogonal"
    assert Net.from_config(Net([layer]).config())["fc"].hyperparameters["init"] == "orthogonal"


@tinyml.register_layer
class Keeps(Layer):
    def __init__(self, name, shape=(1, 2), nested=((1, 2),), empty=(), options=None):
        super().__init__(name)
        self.got = (shape, nested, empty, options)


@tinyml.register_layer
class Variadic(Layer):
    def __init__(self, name, *sizes, scale=1.0, **options):
        super().__init__(name)
        self.got = (sizes, scale, options)


@tinyml.register_layer
class TwoLayer(Net):
    def __init__(self, hidden, *, name="mlp"):
        super().__init__([Linear("fc1", 4, hidden), ReLu("relu"), Linear("fc2", hidden, 2)],
                         name=name)


@tinyml.register_layer
class Fixed(Layer):
    def __init__(self, name, values):
        super().__init__(name)


@tinyml.register_layer
class Options(Layer):
    def __init__(self, name, options):
        super().__init__(name)


class MyLinear(Layer):  # a user's class with a built-in's name
    pass


MyLinear.__name__ = "Linear"


class Unknown(Layer):  # never registered
    def __init__(self, name, width):
        super().__init__(name)


def test_lists_of_plain_values_come_back_as_tuples_and_others_as_lists():
    layer = Keeps("keep", options={"pad": (0, 1), "mode": "max"})
    assert layer.hyperparameters == {"name": "keep", "shape": [1, 2], "nested": [[1, 2]],
                                     "empty": [], "options": {"pad": [0, 1], "mode": "max"}}
    rebuilt = Layer.from_config(json_round_trip(layer.config()))
    assert rebuilt.got == ((1, 2), [(1, 2)], [], {"pad": (0, 1), "mode": "max"})


def test_variadic_constructors_are_rebuilt():
    layer = Variadic("v", 3, 4, scale=2.0, mode="fast")
    assert layer.hyperparameters == {"name": "v", "sizes": [3, 4], "scale": 2.0,
                                     "options": {"mode": "fast"}}
    assert Layer.from_config(layer.config()).got == ((3, 4), 2.0, {"mode": "fast"})


# ---------------------------------------------------------------- nets, nesting, references
def nested_net():
    block = Net([Linear("fc", 6, 6), ReLu("relu"), Dropout("drop", 0.25)], name="block")
    return Net([Flatten("flat"), Linear("fc1", 12, 6), block, Linear("head", 6, 2),
                Softmax("softmax")])


def test_a_nested_net_config_rebuilds_names_keys_and_hyperparameters(backend):
    net = nested_net()
    config = net.config()
    assert config["class"] == "Net" and config["name"] is None and config["version"] == 1
    block = config["hyperparameters"]["layers"][2]
    assert block["class"] == "Net" and block["name"] == "block"
    assert block["hyperparameters"]["layers"][2]["hyperparameters"]["probability"] == 0.25
    rebuilt = Net.from_config(json_round_trip(config))
    assert list(rebuilt.state_dict()) == list(net.state_dict())
    assert rebuilt["block"]["drop"].probability == 0.25
    assert rebuilt.config() == config


def test_a_named_top_level_net_keeps_its_name():
    net = Net([Linear("fc", 2, 2)], name="model")
    assert Net.from_config(net.config()).name == "model"


def test_layers_added_after_construction_are_in_the_config():
    net = Net([Linear("fc1", 4, 3)])
    net.add(ReLu("relu")).add(Linear("fc2", 3, 2))
    names = [layer["name"] for layer in net.config()["hyperparameters"]["layers"]]
    assert names == ["fc1", "relu", "fc2"]


def test_a_net_subclass_with_its_own_constructor_is_rebuilt_by_it():
    config = TwoLayer(5).config()
    assert config["hyperparameters"] == {"hidden": 5, "name": "mlp"}
    rebuilt = Net.from_config(config)
    assert type(rebuilt) is TwoLayer and rebuilt["fc1"].output_dim == 5


def test_a_layer_met_again_is_a_reference_resolved_to_the_same_layer(backend):
    source = Scale("source", 3)
    net = Net([Net([source], name="block"), ScaleLike("like", source)])
    config = json_round_trip(net.config())
    like = config["hyperparameters"]["layers"][1]
    assert like["hyperparameters"]["like"] == {"ref": "block.source"}
    rebuilt = Net.from_config(config)
    assert rebuilt[1]._like is rebuilt["block"]["source"]


def test_a_layer_not_in_the_net_is_described_where_it_is_met():
    alone = ScaleLike("like", Scale("source", 3))
    like = alone.hyperparameters["like"]
    assert like["class"] == "Scale" and like["hyperparameters"]["width"] == 3
    rebuilt = Layer.from_config(alone.config())
    assert isinstance(rebuilt._like, Scale) and rebuilt._like.name == "source"


def test_a_container_of_layers_nests_their_configs(backend):
    pair = Pair("pair", [Scale("a", 2, offset=1.0), ReLu("relu")])
    net = Net([pair])
    rebuilt = Net.from_config(json_round_trip(net.config()))
    assert [type(layer) for layer in rebuilt["pair"].layers] == [Scale, ReLu]
    assert rebuilt["pair"].layers[0].offset == 1.0
    assert list(rebuilt.state_dict()) == ["pair.a.scale"]


def test_from_config_draws_fresh_weights_from_the_current_streams(backend):
    config = nested_net().config()
    tinyml.seed(3)
    first = host_state(Net.from_config(config))
    tinyml.seed(3)
    assert_same_state(host_state(Net.from_config(config)), first)
    tinyml.seed(4)
    assert not np.array_equal(host_state(Net.from_config(config))["fc1.weight"],
                              first["fc1.weight"])


# ---------------------------------------------------------------- the registry
def test_register_layer_refuses_what_it_cannot_register():
    with pytest.raises(TypeError, match="register_layer takes a Layer subclass; got <class 'int'>"):
        tinyml.register_layer(int)
    with pytest.raises(ValueError, match="must be a non-empty string; got ''"):
        tinyml.register_layer(Scale, name="")

    with pytest.raises(ValueError, match=r"'Linear' already names tinyml\.layers\.linear\.Linear; "
                                         r"register MyLinear under another name"):
        tinyml.register_layer(MyLinear)
    assert tinyml.register_layer(MyLinear, name="tests.Linear") is MyLinear
    assert tinyml.register_layer(Scale) is Scale  # again, the same: nothing changes
    assert type(Layer.from_config(MyLinear("mine").config())) is MyLinear
    assert MyLinear("mine").config()["class"] == "tests.Linear"


def test_an_unregistered_class_cannot_be_in_a_config_but_has_hyperparameters():
    layer = Unknown("mine", 3)
    assert layer.hyperparameters == {"name": "mine", "width": 3}
    with pytest.raises(TypeError, match=r"Unknown 'mine': its class .*Unknown is not registered.*"
                                        r"tinyml\.register_layer\(Unknown\)"):
        Net([layer]).config()


# ---------------------------------------------------------------- errors writing a config
def test_an_unregistered_init_function_is_an_error_at_config_time():
    layer = Linear("fc", 4, 3, init=lambda shape, fan_in, fan_out: tinyml.get_backend().zeros(
        shape))
    with pytest.raises(TypeError, match=r"Linear 'fc': hyperparameter 'init' is the function "
                                        r".*<lambda>, which a JSON config cannot hold\. Pass a "
                                        r"registered name .*INITIALIZERS\['my_init'\]"):
        _ = layer.hyperparameters
    with pytest.raises(TypeError, match="hyperparameter 'init' is the function"):
        Net([layer]).config()


def test_an_array_hyperparameter_is_an_error_naming_the_fix():
    with pytest.raises(TypeError, match=r"Fixed 'f': hyperparameter 'values' is a ndarray, which "
                                        r"a JSON config cannot hold.*_config_arguments"):
        _ = Fixed("f", np.ones(3)).hyperparameters


def test_dicts_need_string_keys_and_not_the_reserved_ones():
    with pytest.raises(TypeError, match=r"argument 'options' is a dict with keys that are not "
                                        r"strings \(\[1\]\)"):
        _ = Options("o", {1: 2}).hyperparameters
    with pytest.raises(TypeError, match="with the key 'class', which a config reserves"):
        _ = Options("o", {"class": "x"}).hyperparameters
    with pytest.raises(TypeError, match="with the key 'ref', which a config reserves"):
        _ = Options("o", {"ref": "x"}).hyperparameters


def test_a_layer_inside_its_own_argument_is_an_error():
    inner = []
    pair = Pair("pair", inner)
    inner.append(ScaleLike("like", pair))
    with pytest.raises(ValueError, match=r"ScaleLike 'like': argument 'like' is Pair 'pair', "
                                         r"which holds ScaleLike 'like'"):
        pair.config()


def test_a_reference_to_one_of_two_layers_at_one_path_is_an_error():
    second = Scale("twin", 2)
    net = Net([Pair("pair", [Scale("twin", 2), second]), ScaleLike("like", second)])
    with pytest.raises(ValueError, match=r"refers to Scale 'twin', but another layer sits at the "
                                         r"same path.*unique names"):
        net.config()


def test_a_nameless_net_as_an_argument_is_an_error():
    with pytest.raises(ValueError, match="argument 'layers' is a Net without a name"):
        _ = Pair("pair", [Net([Linear("fc", 2, 2)])]).hyperparameters


# ---------------------------------------------------------------- errors reading a config
def linear_config():
    return Net([Linear("fc", 4, 3)]).config()


def with_layer(change):
    config = linear_config()
    change(config["hyperparameters"]["layers"][0])
    return config


def test_an_unknown_class_names_the_known_ones_and_register_layer():
    config = with_layer(lambda layer: layer.update({"class": "Nope"}))
    with pytest.raises(ValueError, match=r"names the layer class 'Nope', which tinyml does not "
                                         r"know\. Known: .*Linear.*register_layer"):
        Net.from_config(config)


@pytest.mark.parametrize("change, message", [
    (lambda layer: layer.pop("name"), r"should be a layer config with the keys class, name and "
                                      r"hyperparameters; got the keys \['class', 'hyperpar"),
    (lambda layer: layer.update(hyperparameters=[4, 3]), "hyperparameters should be a dict"),
    (lambda layer: layer["hyperparameters"].update(width=2), r"Linear's constructor takes no "
                                                             r"argument width; it takes name, "),
    (lambda layer: layer["hyperparameters"].pop("name"), r"lacks Linear's required "
                                                        r"argument\(s\) name"),
    (lambda layer: layer.update(name="other"), r"the layer built is named 'fc', not 'other'"),
    (lambda layer: layer.update(name=3), "a nested layer config needs a string name; got 3"),
])
def test_a_malformed_layer_config_says_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        Net.from_config(with_layer(change))


def test_a_reference_to_a_layer_not_defined_before_it_is_an_error():
    source = Scale("source", 3)
    config = Net([source, ScaleLike("like", source)]).config()
    config["hyperparameters"]["layers"][1]["hyperparameters"]["like"] = {"ref": "nowhere"}
    with pytest.raises(ValueError, match=r"refers to the layer 'nowhere', which the config does "
                                         r"not define before it \(defined so far: \['source'\]\)"):
        Net.from_config(config)


def test_a_config_of_another_version_or_type_is_refused():
    with pytest.raises(TypeError, match="from_config takes the dict that config"):
        Net.from_config(json.dumps(linear_config()))
    with pytest.raises(ValueError, match="format version 2; this tinyml reads version 1"):
        Net.from_config({**linear_config(), "version": 2})
    with pytest.raises(ValueError, match=r"describes Linear 'fc', not a Net; build it with "
                                         r"tinyml\.Layer\.from_config"):
        Net.from_config(Linear("fc", 4, 3).config())


def test_a_constructor_refusing_a_value_says_so_itself():
    config = with_layer(lambda layer: layer["hyperparameters"].update(output_dim=0))
    with pytest.raises(ValueError, match="Linear 'fc': output_dim must be >= 1; got 0"):
        Net.from_config(config)
