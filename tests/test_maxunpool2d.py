"""MaxUnpool2D: ties routed where the pool sent its gradient, inside nets (keys, modes, records
unwinding in reverse, a gradient check through a small SegNet-like net), and its pool's errors
(its configurations against a scatter loop and PyTorch's max_unpool2d, refused shapes and the
rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest
import reference
from layer_families import UNPOOLS, distinct_input

import tinyml
from tinyml.layers import AvgPool2D, Conv2D, Linear, MaxPool2D, MaxUnpool2D, Pool2D, ReLU
from tinyml.testing import assert_close, check_layer


def pooled_pair(config, x=None):
    """(pool, unpool, host pool input) with the pool run once on that input."""
    n, c, h, w, size, stride = config
    pool = MaxPool2D("pool", (c, h, w), size, stride)
    unpool = MaxUnpool2D("unpool", pool)
    x = distinct_input((n, c, h, w)) if x is None else x
    pool.forward(tinyml.asarray(x))
    return pool, unpool, x


@pytest.mark.parametrize("config", UNPOOLS.values(), ids=list(UNPOOLS))
def test_ties_go_where_the_pool_sent_its_gradient(backend, config):
    """Unpooling is the pool's backward map: the same first maximum of each window."""
    n, c, h, w, _, _ = config
    tied = np.random.default_rng(2).integers(0, 3, (n, c, h, w)).astype(np.float64)
    pool, unpool, _ = pooled_pair(config, tied)
    z = tinyml.asarray(np.random.default_rng(3).standard_normal((n, c, pool.out_h, pool.out_w)))
    assert_close(unpool.forward(z), tinyml.to_numpy(pool.backward(z)), backend=backend)


def test_windows_that_share_a_maximum_add_their_values(backend):
    """The documented difference from PyTorch, which keeps one of them."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the maximum of all four 2x2 windows
    _, unpool, _ = pooled_pair((1, 1, 3, 3, 2, 1), x)
    y = unpool.forward(tinyml.asarray(np.array([[[[1.0, 2.0], [3.0, 4.0]]]])))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    assert_close(y, expected, backend=backend)


# a Pool2D in max mode as its pool: tests/layer_specs.py


# ---------------------------------------------------------------------------- inside a net
def segnet():
    """conv -> pool -> conv -> unpool -> conv: an encoder/decoder in a plain Net."""
    pool = MaxPool2D("pool", (2, 6, 6), 2, 2)
    return tinyml.Net([Conv2D("enc", (1, 6, 6), 2, 3, 3, 1, 1), pool,
                       Conv2D("mid", (2, 3, 3), 2, 3, 3, 1, "same"), ReLU("relu"),
                       MaxUnpool2D("unpool", pool), Conv2D("dec", (2, 6, 6), 1, 3, 3, 1, 1)])


def test_gradients_through_a_segnet_like_net(backend):
    tinyml.seed(0)
    check_layer(segnet(), np.random.default_rng(0).standard_normal((2, 1, 6, 6)), mode="random")


def test_keys_list_the_pool_once_and_nothing_for_the_unpool():
    net = segnet()
    assert list(net.state_dict()) == ["enc.weight", "enc.bias", "mid.weight", "mid.bias",
                                      "dec.weight", "dec.bias"]
    assert list(net.named_layers()) == ["enc", "pool", "mid", "relu", "unpool", "dec"]
    assert net["unpool"].named_children() == {} and net["unpool"].pool is net["pool"]


def test_net_modes_reach_both_and_the_unpool_alone_leaves_the_pool_be():
    net = segnet()
    pool, unpool = net["pool"], net["unpool"]
    net.eval()
    assert not pool.training and not unpool.training
    net.train()
    unpool.eval()
    assert pool.training and not unpool.training
    pool.forward(tinyml.asarray(distinct_input((2, 2, 6, 6))))
    unpool.clear_records()
    assert pool.pending_records == 1


def test_eval_and_no_grad_unpool_at_the_latest_maxima(backend):
    tinyml.seed(0)
    net, x = segnet(), tinyml.asarray(np.random.default_rng(0).standard_normal((2, 1, 6, 6)))
    trained = tinyml.to_numpy(net.forward(x))
    net.eval()
    assert_close(net.forward(x), trained, backend=backend)
    net.train()
    with tinyml.no_grad():
        assert_close(net.forward(x), trained, backend=backend)


def test_records_unwind_in_reverse_with_the_positions_of_their_own_forward(backend):
    """Two forwards of [pool, unpool] before two backwards: each backward gathers at the
    maxima of its own forward, though the pool's latest is the second by then."""
    pool = MaxPool2D("pool", (1, 4, 4), 2, 2)
    net = tinyml.Net([pool, MaxUnpool2D("unpool", pool)])
    first, second = distinct_input((2, 1, 4, 4), 0), distinct_input((2, 1, 4, 4), 1)
    for x in (first, second):
        net.forward(tinyml.asarray(x))
    g = np.random.default_rng(2).standard_normal((2, 1, 4, 4))
    for x in (second, first):
        y, _ = reference.max_pool2d(x, 2, 2, 2)
        routed_back = reference.max_pool2d_backward(
            x, reference.max_unpool2d_backward(g, x, 2, 2, 2), 2, 2, 2)
        assert_close(net.backward(tinyml.asarray(g)), routed_back, backend=backend)
    assert pool.pending_records == 0 and net["unpool"].pending_records == 0


def test_a_training_step_without_the_input_gradient(backend):
    tinyml.seed(0)
    net = segnet()
    net.forward(tinyml.asarray(np.random.default_rng(0).standard_normal((2, 1, 6, 6))))
    assert net.backward(tinyml.asarray(np.ones((2, 1, 6, 6))), input_gradient=False) is None
    assert np.abs(tinyml.to_numpy(net["enc"].weight.grad)).max() > 0


def test_summary_shows_the_unpooled_shape():
    lines = []
    segnet().summary(print_fn=lines.append)
    assert "unpool (MaxUnpool2D)  (None, 2, 6, 6)" in lines[0]


def test_shape_declarations():
    pool = MaxPool2D("pool", (3, 5, 7), 2, 2)
    unpool = MaxUnpool2D("unpool", pool)
    assert unpool.declared_input_shape() == (None, 3, 2, 3)
    assert unpool.output_shape((4, 3, 2, 3)) == (4, 3, 5, 7)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("pool", "got"),
    [
        (AvgPool2D("avg", (1, 4, 4), 2, 2), "AvgPool2D 'avg'"),
        (Pool2D("avg", (1, 4, 4), 2, 2, mode="average"), "Pool2D 'avg'"),
        (Linear("fc", 2, 2), "Linear 'fc'"),
        ("pool", "str"),
    ],
)
def test_the_pool_must_be_a_max_pool(pool, got):
    with pytest.raises(TypeError, match=rf"MaxUnpool2D 'unpool': pool must be the MaxPool2D "
                                        rf"whose maxima it unpools at; got {got}\. Pass the "
                                        rf"MaxPool2D layer of the same net\."):
        MaxUnpool2D("unpool", pool)


def test_the_pool_must_run_first(backend):
    pool = MaxPool2D("pool", (1, 4, 4), 2, 2)
    pool.forward(tinyml.asarray(distinct_input((2, 1, 4, 4))))  # before the unpool existed
    unpool = MaxUnpool2D("unpool", pool)
    with pytest.raises(RuntimeError, match=r"MaxUnpool2D 'unpool': its pool MaxPool2D 'pool' "
                                           r"has not run forward since the unpool was built.*"
                                           r"put it before the unpool in the net"):
        unpool.forward(tinyml.asarray(np.ones((2, 1, 2, 2))))
    assert unpool.pending_records == 0


def test_the_batch_must_be_the_pools(backend):
    _, unpool, _ = pooled_pair((2, 1, 4, 4, 2, 2))
    with pytest.raises(ValueError, match=r"MaxUnpool2D 'unpool': got a batch of 3, but the "
                                         r"latest forward of MaxPool2D 'pool' pooled a batch "
                                         r"of 2; run the pool on the same batch first\."):
        unpool.forward(tinyml.asarray(np.ones((3, 1, 2, 2))))


def test_a_pool_on_another_backend_or_device_is_refused():
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        _, unpool, _ = pooled_pair((2, 1, 4, 4, 2, 2))
    with pytest.raises(TypeError, match=r"MaxUnpool2D 'unpool': .*the latest input of "
                                        r"MaxPool2D 'pool' lives on array_api_strict"):
        unpool.forward(np.ones((2, 1, 2, 2)))
    with tinyml.use_backend("array_api_strict", dtype="float64"):
        elsewhere = tinyml.asarray(np.ones((2, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"MaxUnpool2D 'unpool': .*device1"):
        unpool.forward(elsewhere)
