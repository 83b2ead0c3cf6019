"""Parameters, buffers and sub-layers found recursively; a Net inside a Net; dotted keys."""

import numpy as np
import pytest

import tinyml
from tinyml import Buffer, Layer, Net, Parameter
from tinyml.layers import Linear, ReLu, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


class Shift(Layer):
    """y = x - mean, with `mean` a buffer: saved and moved, never trained."""

    def __init__(self, name, features):
        super().__init__(name)
        self.mean = Buffer(tinyml.asarray(np.arange(features, dtype=np.float64)))
        self.seen = Buffer(tinyml.asarray(np.zeros(1, dtype=np.int64)))

    def forward(self, input):
        self._remember(output_shape=input.shape)
        return input - self.mean.data

    def backward(self, in_gradient, *, input_gradient=True):
        self._recall(in_gradient)
        return in_gradient if input_gradient else None


class Pair(Layer):
    """Holds sub-layers in a list and parameters in a list and a dict: all must be found."""

    def __init__(self, name):
        super().__init__(name)
        self.parts = [Linear("first", 3, 3), Linear("second", 3, 3)]
        self.scales = [Parameter(tinyml.asarray(np.ones(3))), Parameter(tinyml.asarray(np.ones(3)))]
        self.extra = {"offset": Parameter(tinyml.asarray(np.zeros(3)))}
        self._hidden = Parameter(tinyml.asarray(np.zeros(3)))  # private: never found


def test_a_buffer_is_state_but_not_a_parameter(backend):
    shift = Shift("shift", 4)
    assert list(shift.named_buffers()) == ["mean", "seen"]
    assert shift.parameters() == []
    shift.unfreeze()
    assert shift.parameters() == [], "unfreeze must not turn a buffer into a parameter"
    assert list(shift.state_dict()) == ["mean", "seen"]
    assert shift.mean.name == "mean"


def test_discovery_walks_lists_dicts_and_sub_layers_in_definition_order(backend):
    pair = Pair("pair")
    assert list(pair.named_parameters()) == [
        "first.weight", "first.bias", "second.weight", "second.bias", "scales.0", "scales.1",
        "extra.offset"]
    assert list(pair.named_children()) == ["first", "second"]
    assert list(Net([pair, ReLu("relu")]).named_layers()) == ["pair", "pair.first",
                                                              "pair.second", "relu"]


def nested_net():
    block = Net([Linear("fc", 4, 4), ReLu("relu")], name="block")
    return Net([Shift("shift", 4), block, Linear("head", 4, 3), Softmax("softmax")])


def test_nested_keys_are_dotted_paths(backend):
    net = nested_net()
    assert list(net.state_dict()) == ["block.fc.weight", "block.fc.bias", "head.weight",
                                      "head.bias", "shift.mean", "shift.seen"]
    assert list(net.named_buffers()) == ["shift.mean", "shift.seen"]
    assert "shift.mean" not in net.named_parameters()


def test_a_nested_net_trains_and_round_trips_through_save_and_load(backend, tmp_path):
    net = nested_net()
    x = RNG.standard_normal((12, 4))
    y = RNG.integers(0, 3, 12)
    before = {k: tinyml.to_numpy(v).copy() for k, v in net.state_dict().items()}
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.5), batch_size=4)
    learner.fit(x, y, epochs=3, verbose=0)
    after = {k: tinyml.to_numpy(v).copy() for k, v in net.state_dict().items()}
    assert not np.allclose(before["block.fc.weight"], after["block.fc.weight"]), \
        "the inner net's weights must train"
    np.testing.assert_array_equal(before["shift.mean"], after["shift.mean"])  # never optimized
    net.save(tmp_path / "nested.npz", config=False)  # Shift is not registered: weights only
    twin = nested_net()
    twin.load(tmp_path / "nested.npz")
    for key, value in after.items():
        assert_close(twin.state_dict()[key], value, backend=backend, rtol=0, atol=0,
                     err_msg=key)
    probe = tinyml.asarray(x[:5])
    assert_close(twin.forward(probe), tinyml.to_numpy(net.forward(probe)), backend=backend)


def test_buffers_load_all_or_nothing_and_keep_their_dtype(backend):
    net = nested_net()
    state = {k: tinyml.to_numpy(v).copy() for k, v in net.state_dict().items()}
    state["shift.mean"] = state["shift.mean"] + 1.0
    state["shift.seen"] = np.array([7.0])  # floats into an integer buffer: cast to its dtype
    net.load_state_dict(state)
    assert_close(net["shift"].mean.data, np.arange(4) + 1.0, backend=backend)
    assert_close(net["shift"].seen.data, np.array([7]), backend=backend)
    bad = dict(state, **{"shift.mean": np.zeros(5)})
    with pytest.raises(ValueError, match=r"changed nothing.*shift\.mean: checkpoint \(5,\)"):
        net.load_state_dict(bad)
    strings = dict(state, **{"shift.mean": np.array(["a", "b", "c", "d"])})
    with pytest.raises(ValueError, match=r"changed nothing.*not real numbers: shift\.mean"):
        net.load_state_dict(strings)
    assert_close(net["shift"].mean.data, np.arange(4) + 1.0, backend=backend)


@pytest.mark.parametrize("bad_key", ["head.bias", "shift.seen"])  # last parameter, last buffer
@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array(["a"])], ids=["complex", "string"])
def test_a_non_numeric_array_in_a_later_key_leaves_every_earlier_key_unchanged(backend, bad_key,
                                                                                bad):
    net = nested_net()
    before = {k: tinyml.to_numpy(v).copy() for k, v in net.state_dict().items()}
    state = {k: v + 1 for k, v in before.items()}  # every key loadable and different...
    shape = before[bad_key].shape
    state[bad_key] = np.resize(bad, shape)  # ...but one, of the right shape, late in the order
    assert list(state).index(bad_key) > 0
    with pytest.raises(ValueError, match=rf"changed nothing.*not real numbers: "
                                         rf"{bad_key.replace('.', '[.]')}: dtype kind"):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        assert_close(value, before[key], backend=backend, rtol=0, atol=0, err_msg=key)


def test_to_moves_buffers_and_casts_only_floating_ones(backend):
    net = nested_net()
    net.to(backend, dtype="float32")
    assert net["shift"].mean.data.dtype == backend.xp.float32
    assert backend.xp.isdtype(net["shift"].seen.data.dtype, "integral")
    assert net["block"]["fc"].weight.data.dtype == backend.xp.float32


def test_the_optimizer_never_touches_buffers(backend):
    shift = Shift("shift", 4)
    SGD(lr=1.0).step(Net([shift]).named_parameters())
    assert_close(shift.mean.data, np.arange(4.0), backend=backend)


def test_modes_and_freezing_recurse(backend):
    net = nested_net()
    net.eval()
    assert not net["block"]["fc"].training and not net["block"].training
    net.train()
    assert net["block"]["relu"].training
    net["block"].freeze()
    assert [p.trainable for p in net.parameters()] == [False, False, True, True]
    net.zero_grad()
    assert all(not np.any(tinyml.to_numpy(p.grad)) for p in net.parameters())


def test_a_nested_net_needs_a_name():
    with pytest.raises(ValueError, match=r"a Net inside another Net needs a name"):
        Net([Net([ReLu("relu")])])


def test_a_layer_holding_a_nameless_net_is_refused():
    class Holder(Layer):
        def __init__(self):
            super().__init__("holder")
            self.inner = Net([ReLu("relu")])

    with pytest.raises(ValueError, match=r"holds a Net without a name under 'inner'"):
        Holder().named_parameters()


def test_two_sub_layers_with_one_name_are_refused(backend):
    class Twins(Layer):
        def __init__(self):
            super().__init__("twins")
            self.a = Linear("same", 2, 2)
            self.b = Linear("same", 2, 2)

    with pytest.raises(ValueError, match=r"two different parameters are both keyed "
                                         r"'same.weight'"):
        Twins().state_dict()


def test_a_shared_layer_is_listed_once(backend):
    shared = Linear("shared", 3, 3)

    class Tied(Layer):
        def __init__(self):
            super().__init__("tied")
            self.encoder = shared
            self.again = [shared]

    assert list(Tied().named_parameters()) == ["shared.weight", "shared.bias"]


def test_summary_expands_nested_nets_and_counts_buffers(backend):
    lines = []
    nested_net().summary(input_shape=(4,), print_fn=lines.append)
    table = lines[0]
    assert "block.fc (Linear)" in table and "block.relu (ReLu)" in table
    assert "Total params: 35 (trainable: 35)" in table
    assert "Buffers: 5 values (not trained)" in table
