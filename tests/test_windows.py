"""The window helpers under Conv2D, Deconv2D and MaxPool2D, each against a direct loop."""

import numpy as np
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st

import tinyml
from tinyml.layers._windows import (
    col2im_matmul,
    conv_output_size,
    correlate_columns,
    crop2d,
    gather_from_maxima,
    im2col,
    pad2d,
    route_to_maxima,
    same_padding,
    window_slices,
)
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)


@given(size=st.integers(1, 12), kernel=st.integers(1, 5), stride=st.integers(1, 4),
       padding=st.integers(0, 3), dilation=st.integers(1, 3))
def test_conv_output_size_counts_the_placements(size, kernel, stride, padding, dilation):
    got = conv_output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
    assert max(got, 0) == reference.output_size(size, kernel, stride, padding, dilation)


def test_conv_output_size_examples():
    assert conv_output_size(28, 5, stride=1) == 24
    assert conv_output_size(28, 3, stride=1, padding=1) == 28
    assert conv_output_size(7, 2, stride=3) == 2
    assert conv_output_size(7, 3, stride=1, dilation=2) == 3
    assert conv_output_size(3, 4, stride=1) < 1  # callers turn this into an error


def test_window_slices_are_row_major_offsets():
    offsets = [(i, j) for i, j, _ in window_slices(2, 3, stride=2, dilation=1, out_h=3, out_w=2)]
    assert offsets == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    *_, (i, j, (rows, cols)) = window_slices(2, 3, stride=2, dilation=2, out_h=3, out_w=2)
    assert (i, j) == (1, 2)
    x = np.arange(100).reshape(10, 10)
    # offset (1, 2) with dilation 2 starts at (2, 4); 3x2 outputs 2 apart
    np.testing.assert_array_equal(x[rows, cols], x[2:7:2, 4:7:2])


@pytest.mark.parametrize(
    ("shape", "kh", "kw", "stride", "dilation"),
    [((2, 3, 5, 5), 3, 3, 1, 1), ((1, 2, 6, 7), 2, 3, 2, 1), ((2, 1, 7, 6), 3, 2, 2, 2),
     ((1, 1, 4, 4), 1, 1, 3, 1)],
)
def test_im2col_matches_reference(backend, shape, kh, kw, stride, dilation):
    x = RNG.standard_normal(shape)
    out_h = conv_output_size(shape[2], kh, stride=stride, dilation=dilation)
    out_w = conv_output_size(shape[3], kw, stride=stride, dilation=dilation)
    cols = im2col(tinyml.asarray(x), kh, kw, stride=stride, dilation=dilation, out_h=out_h,
                  out_w=out_w, xp=backend.xp)
    assert_close(cols, reference.im2col(x, kh, kw, stride, dilation, out_h, out_w),
                 backend=backend)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_pad2d_and_crop2d(backend, padding):
    x = RNG.standard_normal((2, 3, 4, 5))
    padded = pad2d(tinyml.asarray(x), padding, xp=backend.xp)
    assert_close(padded, reference.pad(x, padding), backend=backend)
    assert_close(crop2d(padded, padding), x, backend=backend)


@pytest.mark.parametrize("sides", [(0, 1, 0, 1), (2, 0, 1, 3), (0, 0, 0, 0)])
def test_pad2d_and_crop2d_per_side(backend, sides):
    x = RNG.standard_normal((2, 3, 4, 5))
    padded = pad2d(tinyml.asarray(x), sides, xp=backend.xp)
    assert_close(padded, reference.pad_sides(x, *sides), backend=backend)
    assert_close(crop2d(padded, sides), x, backend=backend)


@given(size=st.integers(1, 12), kernel=st.integers(1, 5), stride=st.integers(1, 4),
       dilation=st.integers(1, 3))
def test_same_padding_is_the_least_that_gives_ceil_size_over_stride(size, kernel, stride,
                                                                     dilation):
    before, after = same_padding(size, kernel, stride=stride, dilation=dilation)
    assert (before, after) == reference.same_pads(size, kernel, stride, dilation)
    assert conv_output_size(size + before + after, kernel, stride=stride,
                            dilation=dilation) == -(-size // stride)


def test_pad2d_keeps_float32(backend32):
    padded = pad2d(tinyml.asarray(np.ones((1, 1, 2, 2))), 1, xp=backend32.xp)
    assert_close(padded, reference.pad(np.ones((1, 1, 2, 2)), 1), backend=backend32)


@pytest.mark.parametrize(
    ("g_shape", "b", "kh", "kw", "stride", "dilation", "extra"),
    [((2, 3, 3, 3), 2, 3, 3, 1, 1, 0), ((1, 2, 2, 3), 3, 2, 3, 2, 1, 1),
     ((2, 1, 3, 2), 2, 2, 2, 2, 2, 2)],
)
def test_col2im_matmul_scatters_kernels(backend, g_shape, b, kh, kw, stride, dilation, extra):
    n, a, h, w = g_shape
    g, weight = RNG.standard_normal(g_shape), RNG.standard_normal((a, b, kh, kw))
    full = reference.conv_transpose2d(g, weight, np.zeros(b), stride, 0, dilation)
    # a larger image than the windows reach (conv's stride remainder) stays zero at the edge
    expected = np.zeros((n, b, full.shape[2] + extra, full.shape[3] + extra))
    expected[:, :, :full.shape[2], :full.shape[3]] = full
    out = col2im_matmul(tinyml.asarray(g), tinyml.asarray(weight), stride=stride,
                        dilation=dilation, out_shape=expected.shape, xp=backend.xp)
    assert_close(out, expected, backend=backend)


def test_col2im_matmul_is_the_adjoint_of_im2col(backend):
    """<im2col(x) as W @ cols, g> == <x, col2im_matmul(g, W)>: both describe one linear map."""
    x, weight = RNG.standard_normal((2, 2, 6, 5)), RNG.standard_normal((3, 2, 2, 3))
    g = RNG.standard_normal((2, 3, 3, 2))  # stride 2: (6-2)//2+1 = 3, (5-3)//2+1 = 2
    cols = tinyml.to_numpy(im2col(tinyml.asarray(x), 2, 3, stride=2, dilation=1, out_h=3,
                                  out_w=2, xp=backend.xp))
    conv = (weight.reshape(3, -1) @ cols).reshape(g.shape)
    back = tinyml.to_numpy(col2im_matmul(tinyml.asarray(g), tinyml.asarray(weight), stride=2,
                                         dilation=1, out_shape=x.shape, xp=backend.xp))
    np.testing.assert_allclose(np.sum(conv * g), np.sum(x * back), rtol=1e-12)


def test_correlate_columns_matches_loop(backend):
    a, cols = RNG.standard_normal((3, 2, 5)), RNG.standard_normal((3, 4, 5))
    expected = np.zeros((2, 4))
    for n in range(3):
        for p in range(2):
            for k in range(4):
                expected[p, k] += sum(a[n, p, t] * cols[n, k, t] for t in range(5))
    got = correlate_columns(tinyml.asarray(a), tinyml.asarray(cols), xp=backend.xp)
    assert_close(got, expected, backend=backend)


def test_the_window_transforms_are_the_backend_operations():
    """The layers import im2col and col2im_matmul from here; they are the registry's, so the
    natives and the portable_ops() switch reach Conv2D and Deconv2D."""
    from tinyml.backend import ops
    from tinyml.layers import _windows

    assert _windows.im2col is ops.im2col and _windows.col2im_matmul is ops.col2im_matmul
    assert _windows.window_slices is ops.window_slices


@pytest.mark.parametrize(
    ("shape", "kh", "kw", "stride"),
    [((2, 2, 4, 4), 2, 2, 2), ((1, 2, 5, 6), 3, 2, 1), ((2, 1, 7, 5), 2, 3, 3)],
)
def test_route_and_gather_match_the_loops_and_are_adjoint(backend, shape, kh, kw, stride):
    x = np.random.default_rng(3).integers(0, 3, shape).astype(np.float64)  # ties everywhere
    y, _ = reference.max_pool2d(x, kh, kw, stride)
    z, g = RNG.standard_normal(y.shape), RNG.standard_normal(shape)
    args = (tinyml.asarray(x), tinyml.asarray(y), (kh, kw))
    routed = route_to_maxima(tinyml.asarray(z), *args, stride=stride, xp=backend.xp)
    gathered = gather_from_maxima(tinyml.asarray(g), *args, stride=stride, xp=backend.xp)
    assert_close(routed, reference.max_unpool2d(z, x, kh, kw, stride), backend=backend)
    assert_close(gathered, reference.max_unpool2d_backward(g, x, kh, kw, stride), backend=backend)
    np.testing.assert_allclose(np.sum(tinyml.to_numpy(routed) * g),
                               np.sum(z * tinyml.to_numpy(gathered)), rtol=1e-12)
