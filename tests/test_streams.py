"""Random streams: keyed by seed, device and process rank; use_seed leaves the caller's alone."""

import importlib.util

import numpy as np
import pytest

import tinyml
from tinyml.backend import Backend, current_streams, make_backend, to_numpy
from tinyml.backend._random import HostRandom
from tinyml.backend.adapters.cupy import device_seed

NUMPY64 = make_backend("numpy", dtype="float64")


def draws(backend=NUMPY64, size=5):
    return to_numpy(backend.uniform((size,)))


def test_rank_0_is_the_stream_tinyml_always_drew():
    tinyml.seed(3)
    expected = np.random.default_rng(3).random(5)
    np.testing.assert_array_equal(draws(), expected)
    tinyml.seed(3, rank=0)
    np.testing.assert_array_equal(draws(), expected)


def test_another_rank_draws_its_own_stream_from_the_seed_sequence():
    tinyml.seed(3, rank=1)
    one = draws()
    tinyml.seed(3, rank=1)
    np.testing.assert_array_equal(draws(), one)
    spawned = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(1, 0)))
    np.testing.assert_array_equal(one, spawned.random(5))
    assert not np.array_equal(one, np.random.default_rng(3).random(5))


def test_rank_none_keeps_the_current_rank():
    tinyml.seed(3, rank=2)
    tinyml.seed(4)
    assert (current_streams().seed, current_streams().rank) == (4, 2)
    kept = draws()
    tinyml.seed(4, rank=2)
    np.testing.assert_array_equal(kept, draws())


@pytest.mark.parametrize(("rank", "error", "match"), [
    (-1, ValueError, "rank must be a non-negative int .*got -1. Ranks count from 0"),
    (1.5, TypeError, "rank must be a non-negative int .* or None to keep the current one"),
    (True, TypeError, "rank must be a non-negative int"),
])
def test_bad_ranks_say_what_a_rank_is(rank, error, match):
    before = current_streams()
    with pytest.raises(error, match=match):
        tinyml.seed(0, rank=rank)
    with pytest.raises(error, match=match), tinyml.use_seed(0, rank=rank):
        pass  # pragma: no cover - the block is never entered
    assert current_streams() is before


def test_use_seed_puts_the_callers_streams_back_exactly():
    tinyml.seed(3)
    first = draws()
    with tinyml.use_seed(0):
        inside = draws()
        inside_more = draws()
    second = draws()
    tinyml.seed(3)
    np.testing.assert_array_equal(first, draws())
    np.testing.assert_array_equal(second, draws())  # nothing in the block advanced them
    tinyml.seed(0)
    np.testing.assert_array_equal(np.concatenate([inside, inside_more]), draws(size=10))


def test_use_seed_restores_on_error_and_nests():
    tinyml.seed(3)
    outer = current_streams()
    with pytest.raises(KeyError):
        with tinyml.use_seed(1):
            with tinyml.use_seed(2):
                assert current_streams().seed == 2
            assert current_streams().seed == 1
            raise KeyError("boom")
    assert current_streams() is outer


@pytest.mark.parametrize(("name", "device"), [("array_api_strict", "device1"),
                                              ("array_api_strict", "device2"),
                                              ("torch", "cpu")])
def test_every_host_backend_draws_the_numbers_numpy_draws(name, device):
    if name == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (optional backend)")
    other = make_backend(name, device=device, dtype="float64")
    tinyml.seed(11)
    expected = to_numpy(NUMPY64.normal((5,)))
    tinyml.seed(11)
    np.testing.assert_array_equal(to_numpy(other.normal((5,))), expected)


def test_a_second_gpu_draws_its_own_stream():
    """Keyed by device: torch's cuda:1 draws apart from cuda:0, which draws what the host does.
    (Only the host permutation is drawn, so no GPU is needed.)"""
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as xp

    def on(device):
        return Backend("torch", xp, torch.device(device), "float64", HostRandom)

    tinyml.seed(5)
    orders = {device: on(device).permutation(20) for device in ("cpu", "cuda:0", "cuda:1")}
    np.testing.assert_array_equal(orders["cpu"], np.random.default_rng(5).permutation(20))
    np.testing.assert_array_equal(orders["cuda:0"], orders["cpu"])
    spawned = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(0, 1)))
    np.testing.assert_array_equal(orders["cuda:1"], spawned.permutation(20))


def test_cupy_seeds_gpu_0_at_rank_0_with_the_seed_itself():
    """What cupy.random.RandomState gets (checked without a GPU): the seed on GPU 0 at rank 0,
    as before ranks; 64 derived bits for other devices, ranks, and seeds too big for it."""
    assert device_seed(np.random.SeedSequence(7)) == 7
    others = {device_seed(np.random.SeedSequence(7, spawn_key=key)) for key in ((0, 1), (1, 0))}
    others.add(device_seed(np.random.SeedSequence(2**70)))
    assert len(others) == 3 and 7 not in others
    assert all(0 <= value < 2**64 for value in others)
