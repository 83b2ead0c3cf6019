"""AvgPool2D, Pool2D (max or average) and GlobalAvgPool2D: check_layer against window loops,
forward and gradients against PyTorch, random configurations, and every documented error
(MaxPool2D: test_maxpool2d.py; float32 and the rest of the contract: test_layer_contract.py)."""

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinyml
from tinyml.layers import AvgPool2D, GlobalAvgPool2D, MaxPool2D, Pool2D
from tinyml.testing import assert_close, check_layer

# (N, C, H, W, size, stride)
CONFIGS = {
    "2x2-stride2": (2, 2, 4, 4, 2, 2),
    "batch1-overlapping": (1, 3, 5, 5, 3, 1),
    "nonsquare-overlapping-remainder": (2, 1, 5, 7, (2, 3), 2),
    "stride-larger-than-window": (1, 2, 7, 7, 2, 3),
    "1x1": (1, 1, 3, 4, 1, 1),
}


def sizes(size):
    return (size, size) if isinstance(size, int) else size


def host(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------- AvgPool2D
@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_avg_check_layer(backend, config):
    n, c, h, w, size, stride = config
    kh, kw = sizes(size)
    check_layer(AvgPool2D("pool", (c, h, w), size, stride), host((n, c, h, w)),
                reference=lambda x, params: reference.avg_pool2d(x, kh, kw, stride))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       extra=st.tuples(st.integers(0, 4), st.integers(0, 4)), seed=st.integers(0, 2**16))
def test_avg_random_configs(backend, kh, kw, stride, extra, seed):
    h, w = kh + extra[0], kw + extra[1]
    x = host((2, 2, h, w), seed)
    layer = AvgPool2D("pool", (2, h, w), (kh, kw), stride)
    want = reference.avg_pool2d(x, kh, kw, stride)
    assert layer.output_shape((None, 2, h, w)) == (None, 2, *want.shape[2:])
    y = layer.forward(tinyml.asarray(x))
    assert_close(y, want, backend=backend)
    g = host(want.shape, seed + 1)
    assert_close(layer.backward(tinyml.asarray(g)),
                 reference.avg_pool2d_backward(x.shape, g, kh, kw, stride), backend=backend)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_avg_matches_torch(backend, config):
    torch = pytest.importorskip("torch")
    n, c, h, w, size, stride = config
    x = host((n, c, h, w), seed=4)
    layer = AvgPool2D("pool", (c, h, w), size, stride)
    y = layer.forward(tinyml.asarray(x))
    g = host(tuple(y.shape), seed=5)
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(xt, sizes(size), stride)
    yt.backward(torch.tensor(g))
    assert_close(y, yt.detach().numpy(), backend=backend)
    assert_close(dx, xt.grad.numpy(), backend=backend)


def test_avg_runs_on_both_paths_of_the_window_operations(backend):
    """im2col and col2im_matmul carry it: natives and the portable path agree."""
    layer = AvgPool2D("pool", (2, 5, 6), (2, 3), 2)
    x, g = host((2, 2, 5, 6)), host((2, 2, 2, 2), 1)
    native = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    native_dx = tinyml.to_numpy(layer.backward(tinyml.asarray(g)))
    with tinyml.backend.portable_ops():
        assert_close(layer.forward(tinyml.asarray(x)), native, backend=backend)
        assert_close(layer.backward(tinyml.asarray(g)), native_dx, backend=backend)


# ---------------------------------------------------------------------------- Pool2D
@pytest.mark.parametrize(("mode", "same_as"), [("max", MaxPool2D), ("average", AvgPool2D)])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_pool2d_computes_what_its_mode_names(backend, config, mode, same_as):
    n, c, h, w, size, stride = config
    x = host((n, c, h, w))
    pool, twin = Pool2D("pool", (c, h, w), size, stride, mode=mode), same_as("twin", (c, h, w),
                                                                               size, stride)
    y, y_twin = pool.forward(tinyml.asarray(x)), twin.forward(tinyml.asarray(x))
    assert_close(y, tinyml.to_numpy(y_twin), backend=backend)
    g = tinyml.asarray(host(tuple(y.shape), 1))
    assert_close(pool.backward(g), tinyml.to_numpy(twin.backward(g)), backend=backend)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool2d_check_layer(backend, mode):
    kh, kw, stride = 3, 2, 2
    reference_of = {"max": lambda x, p: reference.max_pool2d(x, kh, kw, stride)[0],
                    "average": lambda x, p: reference.avg_pool2d(x, kh, kw, stride)}
    x = np.random.default_rng(0).permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) * 0.05
    check_layer(Pool2D("pool", (2, 6, 5), (kh, kw), stride, mode=mode), x,
                reference=reference_of[mode])


def test_max_and_average_pools_are_pool2ds():
    assert issubclass(MaxPool2D, Pool2D) and issubclass(AvgPool2D, Pool2D)
    assert MaxPool2D("p", (1, 4, 4), 2, 2).mode == "max"
    assert AvgPool2D("p", (1, 4, 4), 2, 2).mode == "average"
    assert Pool2D("p", (1, 4, 4), 2, 2).mode == "max"  # the default


# ---------------------------------------------------------------------------- GlobalAvgPool2D
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 2, 1, 6)])
def test_global_check_layer(backend, shape):
    check_layer(GlobalAvgPool2D("gap"), host(shape),
                reference=lambda x, params: reference.global_avg_pool2d(x))


def test_global_takes_any_image_size(backend):
    layer = GlobalAvgPool2D("gap")
    for shape in [(2, 3, 4, 4), (2, 5, 7, 3)]:
        x = host(shape)
        assert_close(layer.forward(tinyml.asarray(x)), reference.global_avg_pool2d(x),
                     backend=backend)
    assert layer.output_shape((None, 3, 8, 8)) == (None, 3)
    assert layer.declared_input_shape() is None


def test_global_matches_torch(backend):
    torch = pytest.importorskip("torch")
    x, g = host((2, 3, 4, 5)), host((2, 3), 1)
    layer = GlobalAvgPool2D("gap")
    y = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, 1).flatten(1)
    yt.backward(torch.tensor(g))
    assert_close(y, yt.detach().numpy(), backend=backend)
    assert_close(dx, xt.grad.numpy(), backend=backend)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (2, 3, 4, 4, 1)])
def test_global_wrong_input_shape(backend, shape):
    layer = GlobalAvgPool2D("gap")
    with pytest.raises(ValueError, match=r"GlobalAvgPool2D 'gap' expects input of shape "
                                         r"\(batch, C, H, W\); got .*It pools images; reshape "
                                         r"the input to NCHW first\."):
        layer.forward(tinyml.asarray(np.zeros(shape)))


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [AvgPool2D, Pool2D])
@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (((2, 4, 4), 0, 2), ValueError, r"size must be >= 1; got 0"),
        (((2, 4, 4), 2.5, 2), TypeError, r"size must be an int; got 2\.5"),
        (((2, 4, 4), (2, 2, 2), 2), TypeError, r"size must be an int or an \(h, w\) pair"),
        (((2, 4, 4), 2, 0), ValueError, r"stride must be >= 1; got 0"),
        (((2, 4, 4), 2, "2"), TypeError, r"stride must be an int; got '2'"),
        (((2, 4, 4), (5, 2), 1), ValueError, r"window \(5, 2\) is larger than the input \(4, 4\)"),
        (((4, 4), 2, 2), TypeError, r"input_dim must be \(C, H, W\)"),
        (((0, 4, 4), 2, 2), ValueError, r"input_dim must be >= 1; got 0"),
    ],
)
def test_bad_constructor_arguments(make, args, error, match):
    with pytest.raises(error, match=rf"{make.__name__} 'pool': {match}"):
        make("pool", *args)


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("min", ValueError, r"Pool2D 'pool': mode must be 'max' or 'average'; got 'min'\.$"),
        ("avg", ValueError, r"mode must be 'max' or 'average'; got 'avg'\. Use mode='average'\."),
        ("mean", ValueError, r"got 'mean'\. Use mode='average'\."),
        (None, TypeError, r"Pool2D 'pool': mode must be 'max' or 'average'; got None"),
    ],
)
def test_bad_mode(mode, error, match):
    with pytest.raises(error, match=match):
        Pool2D("pool", (1, 4, 4), 2, 2, mode=mode)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool2d_wrong_input_shape(backend, mode):
    layer = Pool2D("pool", (2, 4, 4), 2, 2, mode=mode)
    with pytest.raises(ValueError, match=r"Pool2D 'pool' expects input of shape "
                                         r"\(batch, 2, 4, 4\); got \(2, 2, 4, 5\)"):
        layer.forward(tinyml.asarray(np.zeros((2, 2, 4, 5))))
