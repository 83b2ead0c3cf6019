"""The convolution and max-pooling operations on both paths (native where registered, portable
forced), on every backend, against the direct-definition loops of reference.py; NumPy's natives
also cut into one-image chunks; a forward on one path with a backward on the other."""

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_paths import check_both, check_tuples, run_both

import tinyml
from tinyml.backend import portable_ops, to_numpy
from tinyml.backend.ops import (
    _registry,
    conv2d,
    conv2d_backward,
    conv_numpy,
    conv_transpose2d,
    conv_transpose2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _natives_on(monkeypatch):
    """Natives by default, also in a run under TINYML_PORTABLE_OPS=1."""
    monkeypatch.setattr(_registry, "_env", {"portable": False})


@pytest.fixture(params=["one chunk", "one image per chunk"])
def chunks(request, monkeypatch):
    """NumPy's natives with the whole batch in one chunk, and cut into one-image chunks."""
    if request.param == "one image per chunk":
        monkeypatch.setattr(conv_numpy, "CHUNK_BYTES", 1)
    return request.param


# (x shape, weight shape, stride, dilation, pads)
CONVOLUTIONS = {
    "3x3": ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1, (0, 0, 0, 0)),
    "pad2-lenet-like": ((3, 1, 6, 6), (2, 1, 5, 5), 1, 1, (2, 2, 2, 2)),
    "stride2-asymmetric-pads": ((2, 2, 6, 7), (3, 2, 3, 2), 2, 1, (1, 0, 2, 1)),
    "dilation2": ((2, 2, 7, 6), (2, 2, 3, 2), 1, 2, (1, 1, 0, 0)),
    "stride3-remainder": ((2, 1, 8, 7), (2, 1, 2, 3), 3, 1, (0, 0, 0, 0)),
    "1x1": ((2, 3, 4, 3), (2, 3, 1, 1), 1, 1, (0, 0, 0, 0)),
    "stride2-dilation2": ((1, 2, 9, 9), (2, 2, 3, 3), 2, 2, (1, 2, 1, 2)),
}


def convolution(name):
    x_shape, w_shape, stride, dilation, pads = CONVOLUTIONS[name]
    x, weight, bias = (RNG.standard_normal(x_shape), RNG.standard_normal(w_shape),
                       RNG.standard_normal(w_shape[0]))
    expected = reference.correlate2d(x, weight, bias, stride, pads, dilation)
    return x, weight, bias, expected, dict(stride=stride, dilation=dilation, pads=pads)


@pytest.mark.parametrize("name", CONVOLUTIONS)
def test_conv2d_both_paths(backend, chunks, name):
    x, weight, bias, expected, options = convolution(name)
    args = (tinyml.asarray(x), tinyml.asarray(weight))
    check_both(backend, expected, conv2d, *args, tinyml.asarray(bias), **options)
    check_both(backend, expected - bias.reshape(1, -1, 1, 1), conv2d, *args, None, **options)


@pytest.mark.parametrize("name", CONVOLUTIONS)
def test_conv2d_backward_both_paths(backend, chunks, name):
    x, weight, _, expected, options = convolution(name)
    g = RNG.standard_normal(expected.shape)
    want = reference.correlate2d_backward(x, weight, g, options["stride"], options["pads"],
                                          options["dilation"])
    args = (tinyml.asarray(g), tinyml.asarray(x), tinyml.asarray(weight))
    check_tuples(backend, want, conv2d_backward, *args, **options)
    check_tuples(backend, (*want[:2], None), conv2d_backward, *args, input_gradient=False,
                 **options)


def test_conv2d_takes_an_int_for_all_four_pads(backend, chunks):
    x, weight, bias = (RNG.standard_normal((2, 2, 5, 4)), RNG.standard_normal((3, 2, 3, 3)),
                       RNG.standard_normal(3))
    expected = reference.correlate2d(x, weight, bias, 1, (1, 1, 1, 1), 1)
    args = [tinyml.asarray(a) for a in (x, weight, bias)]
    check_both(backend, expected, conv2d, *args, stride=1, dilation=1, pads=1)
    g = RNG.standard_normal(expected.shape)
    want = reference.correlate2d_backward(x, weight, g, 1, (1, 1, 1, 1), 1)
    check_tuples(backend, want, conv2d_backward, tinyml.asarray(g), *args[:2], stride=1,
                 dilation=1, pads=1)


# (x shape, weight shape (C, F, kh, kw), stride, dilation, padding)
TRANSPOSED = {
    "k4-stride2-pad1": ((2, 3, 3, 3), (3, 2, 4, 4), 2, 1, 1),
    "k3-stride1": ((1, 2, 4, 5), (2, 3, 3, 3), 1, 1, 0),
    "dilation2-stride3": ((2, 1, 3, 2), (1, 2, 2, 3), 3, 2, 0),
    "stride-above-kernel": ((1, 2, 3, 3), (2, 1, 2, 2), 3, 1, 0),
    "1x1-stride2-one-column": ((1, 1, 2, 1), (1, 1, 1, 1), 2, 1, 0),
}


@pytest.mark.parametrize("name", TRANSPOSED)
def test_conv_transpose2d_both_paths(backend, chunks, name):
    x_shape, w_shape, stride, dilation, padding = TRANSPOSED[name]
    x, weight, bias = (RNG.standard_normal(x_shape), RNG.standard_normal(w_shape),
                       RNG.standard_normal(w_shape[1]))
    options = dict(stride=stride, dilation=dilation, padding=padding)
    expected = reference.conv_transpose2d(x, weight, bias, stride, padding, dilation)
    check_both(backend, expected, conv_transpose2d, tinyml.asarray(x), tinyml.asarray(weight),
               tinyml.asarray(bias), **options)
    g = RNG.standard_normal(expected.shape)
    want = reference.conv_transpose2d_backward(x, weight, g, stride, padding, dilation)
    args = (tinyml.asarray(g), tinyml.asarray(x), tinyml.asarray(weight))
    check_tuples(backend, want, conv_transpose2d_backward, *args, **options)
    check_tuples(backend, (*want[:2], None), conv_transpose2d_backward, *args,
                 input_gradient=False, **options)


def test_convolutions_keep_float32(backend32, chunks):
    x, weight, bias, expected, options = convolution("stride2-asymmetric-pads")
    args = [tinyml.asarray(a) for a in (x, weight, bias)]
    y = conv2d(*args, **options)
    assert_close(y, expected, backend=backend32)
    g = tinyml.asarray(RNG.standard_normal(expected.shape))
    want = reference.correlate2d_backward(x, weight, to_numpy(g).astype(np.float64),
                                          options["stride"], options["pads"],
                                          options["dilation"])
    for got, wanted in zip(conv2d_backward(g, args[0], args[1], **options), want, strict=True):
        assert_close(got, wanted, backend=backend32)


# ---------------------------------------------------------------------------- max pooling
POOLS = {  # (x shape, size, stride)
    "2x2-tiled": ((2, 3, 6, 6), (2, 2), 2),
    "2x2-remainder": ((2, 2, 7, 5), (2, 2), 2),
    "3x3-overlapping": ((1, 2, 7, 6), (3, 3), 2),
    "3x2-stride1": ((2, 1, 5, 6), (3, 2), 1),
    "2x2-stride3-gaps": ((1, 2, 8, 7), (2, 2), 3),
    "1x1": ((1, 2, 3, 3), (1, 1), 1),
}


@pytest.mark.parametrize("name", POOLS)
@pytest.mark.parametrize("ties", ["ties", "distinct"])
def test_max_pool2d_both_paths(backend, name, ties):
    """Integer values make ties in most windows: the first maximum in row-major order takes
    the gradient, on every path."""
    shape, size, stride = POOLS[name]
    x = (RNG.integers(0, 3, shape).astype(np.float64) if ties == "ties"
         else RNG.standard_normal(shape))
    y, _ = reference.max_pool2d(x, *size, stride)
    g = RNG.standard_normal(y.shape)
    data = tinyml.asarray(x)
    check_both(backend, y, max_pool2d, data, size, stride=stride)
    (pooled, routing), (portable_pooled, portable_routing) = run_both(
        backend, max_pool2d_forward, data, size, stride=stride)
    assert portable_routing is None
    assert_close(pooled, y, backend=backend)
    assert_close(portable_pooled, y, backend=backend)
    expected = reference.max_pool2d_backward(x, g, *size, stride)
    for forward_routing in (routing, None):  # a backward after either path's forward
        check_both(backend, expected, max_pool2d_backward, tinyml.asarray(g), data, pooled,
                   forward_routing, size, stride=stride)


def test_max_pool2d_keeps_float32(backend32):
    x = RNG.standard_normal((2, 3, 4, 4))
    y, routing = max_pool2d_forward(tinyml.asarray(x), (2, 2), stride=2)
    assert_close(y, reference.max_pool2d(x, 2, 2, 2)[0], backend=backend32)
    g = RNG.standard_normal((2, 3, 2, 2))
    dx = max_pool2d_backward(tinyml.asarray(g), tinyml.asarray(x), y, routing, (2, 2), stride=2)
    assert_close(dx, reference.max_pool2d_backward(x, g, 2, 2, 2), backend=backend32)


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [(lambda x, w: conv2d(x, w[:, :1, ...], None, stride=1, dilation=1, pads=0), ValueError,
      r"conv2d expects x \(N, C, H, W\), weight \(F, C, kh, kw\) and bias \(F,\) or None whose "
      r"kernel \(stride 1, dilation 1, pads \(0, 0, 0, 0\)\) fits the padded image; got shapes "
      r"\(1, 2, 5, 5\), \(3, 1, 3, 3\) and None"),
     (lambda x, w: conv2d(x, w, x[0, 0, 0, :2], stride=1, dilation=1, pads=(0,) * 4),
      ValueError, r"got shapes \(1, 2, 5, 5\), \(3, 2, 3, 3\) and \(2,\)"),
     (lambda x, w: conv2d(x, w, None, stride=1, dilation=3, pads=(0,) * 4), ValueError,
      r"conv2d expects .* \(stride 1, dilation 3, pads \(0, 0, 0, 0\)\) fits the padded image"),
     (lambda x, w: conv2d_backward(x[:, :1, ...], x, w, stride=1, dilation=1, pads=(0,) * 4),
      ValueError, r"conv2d_backward expects g of shape \(1, 3, 3, 3\), the forward's output; "
      r"got \(1, 1, 5, 5\)"),
     (lambda x, w: conv_transpose2d(x, w, None, stride=1, dilation=1, padding=0), ValueError,
      r"conv_transpose2d expects x \(N, C, H, W\), weight \(C, F, kh, kw\) and bias \(F,\) or "
      r"None whose kernel \(stride 1, dilation 1, padding 0\) fits the padded image; got shapes "
      r"\(1, 2, 5, 5\), \(3, 2, 3, 3\) and None"),
     (lambda x, w: conv_transpose2d_backward(x, x, w[:2, ...], stride=1, dilation=1, padding=0),
      ValueError, r"conv_transpose2d_backward expects g of shape \(1, 2, 7, 7\)"),
     (lambda x, w: max_pool2d(x, (6, 2), stride=1), ValueError,
      r"pooling over \(6, 2\) windows expects an image \(N, C, H, W\) at least that large; got "
      r"shape \(1, 2, 5, 5\)"),
     (lambda x, w: max_pool2d_forward(x, (2, 6), stride=1), ValueError,
      r"pooling over \(2, 6\) windows expects an image"),
     (lambda x, w: max_pool2d_backward(x, x, x, None, (2, 2), stride=2), ValueError,
      r"max_pool2d_backward expects g and y of shape \(1, 2, 2, 2\)")],
)
def test_the_operations_refuse_shapes_that_do_not_fit(backend, call, error, match):
    with pytest.raises(error, match=match):
        call(tinyml.asarray(np.ones((1, 2, 5, 5))), tinyml.asarray(np.ones((3, 2, 3, 3))))


# ---------------------------------------------------------------------------- random shapes
@st.composite
def geometries(draw):
    """A small convolution: (x shape, kernel (kh, kw), stride, dilation, pads, images per
    chunk) with at least one output pixel."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    h = draw(st.integers(max(1, dilation * (kh - 1) + 1 - pads[0] - pads[1]), 8))
    w = draw(st.integers(max(1, dilation * (kw - 1) + 1 - pads[2] - pads[3]), 8))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)
    return shape, (kh, kw), stride, dilation, pads, draw(st.sampled_from([1, 2, 1 << 20]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geometry=geometries(), filters=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_numpy_natives_equal_the_portable_paths_on_random_shapes(monkeypatch, geometry, filters,
                                                                  seed):
    """The strided-copy geometry of NumPy's natives (whole rows, extra rows, chunks) against
    the portable slices, for the convolution, its gradients and the transposed pair."""
    shape, (kh, kw), stride, dilation, pads, per_chunk = geometry
    rng = np.random.default_rng(seed)
    monkeypatch.setattr(conv_numpy, "CHUNK_BYTES", per_chunk)
    x, weight = rng.standard_normal(shape), rng.standard_normal((filters, shape[1], kh, kw))
    bias = rng.standard_normal(filters)
    options = dict(stride=stride, dilation=dilation, pads=pads)
    y = conv2d(x, weight, bias, **options)
    g = rng.standard_normal(y.shape)
    full = min(stride * (shape[2] - 1) + dilation * (kh - 1), stride * (shape[3] - 1)
               + dilation * (kw - 1)) + 1  # the transposed convolution's uncropped size
    transposed = dict(stride=stride, dilation=dilation, padding=min(pads[0], (full - 1) // 2))
    results = [y, *conv2d_backward(g, x, weight, **options),
               conv_transpose2d(x, weight.swapaxes(0, 1), None, **transposed)]
    gt = rng.standard_normal(results[-1].shape)
    results += conv_transpose2d_backward(gt, x, weight.swapaxes(0, 1), **transposed)
    with portable_ops():
        portable = [conv2d(x, weight, bias, **options),
                    *conv2d_backward(g, x, weight, **options),
                    conv_transpose2d(x, weight.swapaxes(0, 1), None, **transposed),
                    *conv_transpose2d_backward(gt, x, weight.swapaxes(0, 1), **transposed)]
    for got, want in zip(results, portable, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_numpy_scratch_buffers_are_per_thread_and_can_be_dropped():
    """The NumPy natives' reused buffers: another thread's conv gets its own, and after
    free_scratch() a conv still gives the same numbers."""
    import threading

    x, weight, bias, expected, options = convolution("pad2-lenet-like")
    conv2d(x, weight, bias, **options)
    assert conv_numpy._scratch.__dict__, "the first call keeps its buffers"
    seen = {}

    def elsewhere():
        seen["other thread starts with"] = dict(conv_numpy._scratch.__dict__)
        seen["result"] = conv2d(x, weight, bias, **options)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(timeout=60)
    assert seen["other thread starts with"] == {}
    np.testing.assert_allclose(seen["result"], expected, rtol=1e-12, atol=1e-12)
    conv_numpy.free_scratch()
    assert conv_numpy._scratch.__dict__ == {}
    np.testing.assert_allclose(conv2d(x, weight, bias, **options), expected, rtol=1e-12,
                               atol=1e-12)
