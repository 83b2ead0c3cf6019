"""load_net trusts the architecture stored in a file no further than the weights beside it
(issue 16, item 3): a config that asks for more than the file holds, or nests without end, is
a ValueError naming the file before anything large is allocated."""

import json
import warnings

import numpy as np
import pytest

import tinyml
from tinyml import Net, io
from tinyml.backend import AllocationRefused, allocation_budget
from tinyml.core.config import MAX_DEPTH
from tinyml.layers import BatchNorm1D, Linear, ReLu


def write(path, state, config):
    """A weights file holding `state` and the config `config` (a dict, or JSON text)."""
    text = config if isinstance(config, str) else json.dumps(config)
    arrays = {key: np.asarray(value) for key, value in state.items()}
    arrays[io.CONFIG_KEY] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


def small_file(tmp_path, change):
    """A real Linear(4, 3)'s weights, with its config changed by `change(hyperparameters)`."""
    net = Net([Linear("fc", 4, 3)])
    config = net.config()
    change(config["hyperparameters"]["layers"][0]["hyperparameters"])
    state = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    return write(tmp_path / "small.npz", state, config)


def test_a_1kb_file_asking_for_a_200000_square_linear_allocates_nothing(tmp_path):
    path = small_file(tmp_path, lambda h: h.update(input_dim=200_000, output_dim=200_000))
    assert path.stat().st_size < 2048
    with pytest.raises(ValueError, match=r"small\.npz.*shape \(200000, 200000\).*15 values"):
        tinyml.load_net(path)


def test_a_huge_buffer_is_refused_before_it_is_allocated(tmp_path):
    """BatchNorm1D makes its weight and running variance with ones(): claimed too."""
    net = Net([BatchNorm1D("bn", 3)])
    state = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    config = net.config()
    config["hyperparameters"]["layers"][0]["hyperparameters"]["num_features"] = 10**11
    path = write(tmp_path / "bn.npz", state, config)
    with pytest.raises(ValueError, match=r"bn\.npz.*shape \(100000000000,\)"):
        tinyml.load_net(path)


def test_more_layers_than_the_stored_weights_hold_are_refused(tmp_path):
    """Each array fits what is left, but there are more of them than the file stores."""
    net = Net([Linear("fc", 8, 8)])
    state = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    config = Net([Linear(f"fc{i}", 1, 1) for i in range(10)]).config()
    path = write(tmp_path / "many.npz", state, config)
    with pytest.raises(ValueError, match=r"many\.npz.*more than the 2 arrays of 72 values"):
        tinyml.load_net(path)


def test_a_config_of_the_wrong_types_is_a_value_error_naming_the_file(tmp_path):
    path = small_file(tmp_path, lambda h: h.update(input_dim="four"))
    with pytest.raises(ValueError, match=r"small\.npz: the architecture stored in it cannot "
                                         r"be built: .*input_dim"):
        tinyml.load_net(path)


def deep_config(levels):
    """JSON text of ReLu inside `levels` nested Nets, built as text (json.dumps recurses)."""
    text = '{"class": "ReLu", "name": "r", "hyperparameters": {"name": "r"}}'
    for i in range(levels):
        text = (f'{{"class": "Net", "name": "n{i}", "hyperparameters": {{"layers": [{text}], '
                f'"name": "n{i}"}}}}')
    return ('{"version": 1, "class": "Net", "name": null, "hyperparameters": {"layers": ['
            + text + '], "name": null}}')


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 300])
def test_deep_nesting_is_a_value_error_not_a_recursion_error(tmp_path, levels):
    path = write(tmp_path / "deep.npz", {}, deep_config(levels))
    with pytest.raises(ValueError, match=r"deep\.npz.*nests .* deep"):
        tinyml.load_net(path)


def nested(levels):
    """A Linear `levels` layers deep: inside levels - 2 named Nets, inside a top-level Net."""
    net = Net([Linear("fc", 2, 2)], name="n0")
    for i in range(1, levels - 1):
        net = Net([net], name=f"n{i}")
    return Net([net])


def test_a_net_nested_as_deep_as_a_config_goes_round_trips(tmp_path):
    net = nested(MAX_DEPTH)
    net.save(tmp_path / "net.npz")
    loaded = tinyml.load_net(tmp_path / "net.npz")
    assert loaded.config() == net.config()


def test_a_deeper_net_saves_its_weights_with_a_warning_and_loads_with_net_load(tmp_path):
    """Every save loads: too deep for a config, the net is saved weights only (as a net of
    an unregistered class is), never half-written nor refused by a RecursionError."""
    net = nested(MAX_DEPTH + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.save(tmp_path / "net.npz")
    assert any("weights only" in str(w.message) and "deep" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="holds weights only"):
        tinyml.load_net(tmp_path / "net.npz")
    nested(MAX_DEPTH + 1).load(tmp_path / "net.npz")


def test_the_budget_refuses_before_allocating_and_only_inside_its_block():
    backend = tinyml.backend.get_backend()
    with allocation_budget(10, 2):
        backend.zeros((2, 3))
        with pytest.raises(AllocationRefused, match=r"shape \(4, 3\)"):
            backend.normal((4, 3))
        tinyml.Parameter(backend.zeros((2, 3)))
        tinyml.Parameter(backend.zeros((4,)))
        with pytest.raises(AllocationRefused, match="more than the 2 arrays"):
            tinyml.Buffer(backend.zeros((0,)))
    assert backend.ones((50, 50)).shape == (50, 50)


def test_the_legitimate_nets_load_within_their_own_budget(tmp_path):
    tinyml.seed(0)
    net = Net([Linear("fc1", 4, 8), ReLu("relu"), BatchNorm1D("bn", 8), Linear("fc2", 8, 2)])
    net.save(tmp_path / "net.npz")
    loaded = tinyml.load_net(tmp_path / "net.npz")
    for key, value in net.state_dict().items():
        assert np.array_equal(tinyml.to_numpy(loaded.state_dict()[key]),
                              tinyml.to_numpy(value))
