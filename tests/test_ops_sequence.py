"""The sequence layers' backend operations: concat_steps (a backward through time's rows, in
a reused buffer), bag_scatter_add (a pooled embedding's backward) and the NumPy scatter-add on
flat indices, each against its portable path on every backend."""

import numpy as np
import pytest
from ops_paths import check_both, run_both

import tinyml
from tinyml.backend import ops, to_numpy
from tinyml.backend.ops import _registry, bag_scatter_add, concat_steps, scatter_add
from tinyml.backend.ops.steps import free_buffers

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """Natives by default, also in a run under TINYML_PORTABLE_OPS=1."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


def steps(backend, count, rows, trailing, dtype=np.float64):
    hosts = [RNG.standard_normal((rows, *trailing)).astype(dtype) for _ in range(count)]
    return hosts, [backend.asarray(each) for each in hosts]


# ---------------------------------------------------------------------------- concat_steps
@pytest.mark.parametrize(("count", "rows", "trailing"),
                         [(1, 3, (4,)), (28, 5, (12,)), (3, 2, (2, 3))])
def test_concat_steps_is_concat_on_both_paths(backend, count, rows, trailing):
    hosts, arrays = steps(backend, count, rows, trailing)
    native, portable = run_both(backend, concat_steps, *arrays, tag="test")
    expected = np.concatenate(hosts, axis=0)
    np.testing.assert_array_equal(to_numpy(native), expected)  # a copy: bit for bit
    np.testing.assert_array_equal(to_numpy(portable), expected)


def test_concat_steps_keeps_float32(backend32):
    hosts, arrays = steps(backend32, 4, 3, (5,), np.float32)
    native, portable = run_both(backend32, concat_steps, *arrays, tag="test")
    for out in (native, portable):
        assert to_numpy(out).dtype == np.float32
        np.testing.assert_array_equal(to_numpy(out), np.concatenate(hosts))


def test_concat_steps_of_another_tag_leaves_a_result_alone(backend):
    """Two live results need two tags: one call does not write into the other's buffer."""
    hosts_a, arrays_a = steps(backend, 3, 4, (6,))
    hosts_b, arrays_b = steps(backend, 3, 4, (6,))
    first = concat_steps(*arrays_a, tag="a")
    concat_steps(*arrays_b, tag="b")
    np.testing.assert_array_equal(to_numpy(first), np.concatenate(hosts_a))


def test_concat_steps_buffer_grows_and_shrinks(backend):
    """A call larger than the last grows its buffer; a smaller one uses its start; both exact."""
    free_buffers()
    for count in (2, 7, 3, 9):
        hosts, arrays = steps(backend, count, 4, (5,))
        check_both(backend, np.concatenate(hosts), concat_steps, *arrays, tag="grow")


def test_concat_steps_native_reuses_its_buffer():
    """The point of the native: the same tag gives the same memory, call after call."""
    _, arrays = steps(tinyml.backend.make_backend("numpy"), 4, 3, (5,))
    first = concat_steps(*arrays, tag="reuse")
    second = concat_steps(*arrays[::-1], tag="reuse")
    assert np.shares_memory(first, second)


@pytest.mark.parametrize(("arrays", "tag", "error", "match"), [
    ([], "t", TypeError, "expects an array as its first argument"),
    ([np.ones((2, 3)), np.ones((2, 4))], "t", ValueError, "same trailing shape"),
    ([np.ones((2, 3)), np.ones((2, 3), dtype=np.float32)], "t", ValueError, "and dtype"),
    ([np.ones((2, 3))], 3, TypeError, "tag must be a str"),
])
def test_concat_steps_refuses_bad_input(arrays, tag, error, match):
    with pytest.raises(error, match=match):
        concat_steps(*arrays, tag=tag)


def test_concat_steps_is_registered():
    assert ops.OPERATIONS["concat_steps"] is concat_steps


# ---------------------------------------------------------------------------- scatter_add
def two_dimensional_add_at(indices, values, num_rows):
    """NumPy's add.at with row indices: what the native computed before it went flat."""
    out = np.zeros((num_rows, *values.shape[1:]), dtype=values.dtype)
    np.add.at(out, indices, values)
    return out


@pytest.mark.parametrize("row_shape", [(), (7,), (2, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_flat_scatter_add_matches_row_add_at_bit_for_bit(row_shape, dtype):
    """The flat indices add in the same order as row indices: the same bits, any dtype."""
    indices = RNG.integers(-12, 12, size=300)  # negative ones count from the end, as NumPy's
    values = (RNG.standard_normal((300, *row_shape)) * 100).astype(dtype)
    got = scatter_add(indices, values, 12)
    assert got.dtype == values.dtype and got.shape == (12, *row_shape)
    np.testing.assert_array_equal(got, two_dimensional_add_at(indices, values, 12))


@pytest.mark.parametrize("index", [12, -13])
def test_flat_scatter_add_refuses_a_row_outside_as_numpy_does(index):
    indices = np.array([0, index, 3])
    with pytest.raises(IndexError):
        scatter_add(indices, np.ones((3, 4)), 12)


def test_scatter_add_of_an_embedding_backward_on_both_paths(backend):
    """An embedding's shape (vocabulary 1000, 2048 positions, dim 64): native and portable
    agree to rounding."""
    indices = RNG.integers(0, 1000, size=2048)
    values = RNG.standard_normal((2048, 64))
    check_both(backend, two_dimensional_add_at(indices, values, 1000), scatter_add,
               backend.asarray(indices), tinyml.asarray(values), 1000)


# ---------------------------------------------------------------------------- bag_scatter_add
def loop_bags(indices, values, num_rows):
    out = np.zeros((num_rows, values.shape[1]))
    for n, bag in enumerate(indices):
        for index in bag:
            out[index] += values[n]
    return out


@pytest.mark.parametrize("num_rows", [7, 40, 300])  # T D = 40: counts and GEMM up to 40
def test_bag_scatter_add_on_both_paths(backend, num_rows):
    indices = RNG.integers(0, num_rows, size=(9, 5))
    indices[2] = indices[2, 0]  # a bag holding one index five times
    values = RNG.standard_normal((9, 8))
    check_both(backend, loop_bags(indices, values, num_rows), bag_scatter_add,
               backend.asarray(indices), tinyml.asarray(values), num_rows)


def test_bag_scatter_add_keeps_float32(backend32):
    indices = RNG.integers(0, 6, size=(4, 3))
    values = RNG.standard_normal((4, 5)).astype(np.float32)
    native, portable = run_both(backend32, bag_scatter_add, backend32.asarray(indices),
                                tinyml.asarray(values), 6)
    for out in (native, portable):
        assert to_numpy(out).dtype == np.float32
        np.testing.assert_allclose(to_numpy(out), loop_bags(indices, values, 6), rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize(("indices", "values", "num_rows", "error", "match"), [
    (np.zeros((2, 3)), np.ones((2, 4)), 5, TypeError, "integer indices"),
    (np.zeros(6, dtype=np.int64), np.ones((2, 4)), 5, ValueError, r"indices \(N, T\)"),
    (np.zeros((3, 3), dtype=np.int64), np.ones((2, 4)), 5, ValueError, "one row per bag"),
    (np.zeros((2, 3), dtype=np.int64), np.ones((2, 4)), 0, ValueError, "positive int"),
])
def test_bag_scatter_add_refuses_bad_input(indices, values, num_rows, error, match):
    with pytest.raises(error, match=match):
        bag_scatter_add(indices, values, num_rows)


# ---------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("pool", ["sum", "mean"])
@pytest.mark.parametrize("vocab", [5, 500])  # T D = 12: counts and GEMM on NumPy, then rows
def test_pooled_embedding_gradient_on_both_ways(backend, pool, vocab):
    """The pooled backward gives each index the sum of its samples' gradients (/ T for mean),
    however many times a sample holds it, whichever way it is computed."""
    from tinyml.layers import Embedding

    ids = RNG.integers(0, vocab, size=(6, 3))
    ids[0] = ids[0, 0]  # one sample holding one index three times
    g = RNG.standard_normal((6, 4))
    layer = Embedding("e", vocab, 4, pool=pool)
    layer.forward(backend.asarray(ids))
    assert layer.backward(tinyml.asarray(g)) is None
    expected = np.zeros((vocab, 4))
    for n, row in enumerate(ids):
        for index in row:
            expected[index] += g[n] / (3 if pool == "mean" else 1)
    np.testing.assert_allclose(to_numpy(layer.weight.grad), expected, rtol=1e-12, atol=1e-12)
