"""Normalization of large finite inputs (issue 16, item 10): the statistics are computed on the
input scaled by a power of two per statistic (1 unless the sum of its squares nears the
dtype's largest value), so finite inputs give finite, correct outputs where the squares (or
the sums) of the plain formula overflow, and the same bits where they do not."""

import numpy as np
import pytest

import tinyml
from tinyml.backend.ops import moment_sums, normalize
from tinyml.layers import BatchNorm1D, BatchNorm2D, LayerNorm1D, LayerNorm2D

# The guard's own sums of squares overflow on these inputs (that is how it finds them): NumPy
# warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in (vecdot|matmul|multiply)"
                                        ":RuntimeWarning")

ROWS = {
    "the issue's row": [1e30, -1e30, 0.0, 1.0],
    "near the float32 maximum": [3e38, -3e38, 0.0, 1.0],
    "sums past the maximum": [3e38, 3e38, 3e38, -1e38],
    "tiny values": [1e-30, 2e-30, 0.0, 1e-30],
    "ordinary values": [1.0, 2.0, 3.0, 4.5],
}


def reference(rows, epsilon):
    """x_hat per row, exactly enough: float64 on values scaled by 1e-30 where needed, so the
    float64 squares never overflow either."""
    rows = np.asarray(rows, dtype=np.float64)
    scale = np.maximum(np.abs(rows).max(axis=-1, keepdims=True), 1.0)
    scaled = rows / scale
    centered = scaled - scaled.mean(axis=-1, keepdims=True)
    var = (centered**2).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(var + (epsilon / scale) / scale)


def host(array):
    return np.asarray(tinyml.to_numpy(array), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_layer_norm_of_large_finite_rows_is_finite_and_right(backend32, name):
    x = np.array([ROWS[name]], dtype=np.float32)
    layer = LayerNorm1D("ln", 4)
    out = host(layer.forward(backend32.asarray(x)))
    assert np.isfinite(out).all(), out
    np.testing.assert_allclose(out, reference(x, layer.epsilon), rtol=1e-5, atol=1e-37)


def test_the_issues_row_gives_what_the_math_says(backend32):
    out = host(LayerNorm1D("ln", 4).forward(backend32.asarray(
        np.array([[1e30, -1e30, 0, 1]], dtype=np.float32))))
    np.testing.assert_allclose(out, [[2**0.5, -(2**0.5), -0.25 / 5e59**0.5,
                                      0.75 / 5e59**0.5]], rtol=1e-5)


def test_a_constant_row_at_the_float32_maximum_is_zeros_not_nan(backend32):
    x = np.full((2, 4), 3e38, dtype=np.float32)
    out = host(LayerNorm1D("ln", 4).forward(backend32.asarray(x)))
    np.testing.assert_array_equal(out, np.zeros((2, 4)))


# The running variance of such a batch (5e59) is past float32's range: inf, with NumPy's
# warning that it overflowed; the batch's own output stays finite.
@pytest.mark.filterwarnings("ignore:overflow encountered in multiply:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(ROWS))
def test_batch_norm_of_large_finite_columns_is_finite_and_right(backend32, name):
    x = np.array([ROWS[name]], dtype=np.float32).T  # (4, 1): a batch of 4, one feature
    layer = BatchNorm1D("bn", 1)
    out = host(layer.forward(backend32.asarray(x)))
    np.testing.assert_allclose(out.T, reference(x.T, layer.epsilon), rtol=1e-5, atol=1e-37)


@pytest.mark.filterwarnings("ignore:overflow encountered in multiply:RuntimeWarning")
def test_the_image_layers_scale_each_channel_and_sample_alone(backend32):
    """A channel (BatchNorm2D) or a sample (LayerNorm2D) of huge values beside ordinary ones:
    each is scaled by its own power of two, so the ordinary ones keep their precision."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    x[:, 0] *= np.float32(1e30)
    bn = host(BatchNorm2D("bn", 2).forward(backend32.asarray(x)))
    for channel in range(2):
        expected = reference(x[:, channel].reshape(1, -1), 1e-5).reshape(3, 2, 2)
        np.testing.assert_allclose(bn[:, channel], expected, rtol=1e-4, atol=1e-6)
    y = rng.standard_normal((2, 2, 2, 2)).astype(np.float32)
    y[0] *= np.float32(1e30)
    ln = host(LayerNorm2D("ln", (2, 2, 2)).forward(backend32.asarray(y)))
    np.testing.assert_allclose(ln.reshape(2, -1), reference(y.reshape(2, -1), 1e-5),
                               rtol=1e-4, atol=1e-6)


def test_float64_inputs_past_the_square_root_of_the_maximum(backend):
    x = np.array([[1e200, -1e200, 3.0, 1e199]])
    out = host(LayerNorm1D("ln", 4).forward(backend.asarray(x)))
    np.testing.assert_allclose(out, reference(x, 1e-5), rtol=1e-12)


def plain(x, epsilon, xp):
    """The formula without the guard, with the same reductions, for the bit-for-bit
    comparison: (x_hat, inv_std, mean, var)."""
    _, b, _ = x.shape
    count = x.shape[0] * x.shape[2]
    mean = xp.reshape(moment_sums(x), (1, b, 1)) / count
    centered = x - mean
    var = xp.reshape(moment_sums(centered, squared=True), (1, b, 1)) / count
    inv_std = 1.0 / xp.sqrt(var + epsilon)
    return centered * inv_std, inv_std, mean, var


# 1e18: the guard scales (the sum of all the squares is past 2**124) though no statistic
# overflows, so the power of two must change no bit either.
@pytest.mark.parametrize("magnitude", [1e-3, 0.7, 1.0, 3.0, 1e4, 1e18])
@pytest.mark.parametrize("view", [(4, 3, 10), (12, 5, 1), (1, 12, 10)],
                         ids=["BatchNorm2D", "BatchNorm1D", "LayerNorm"])
def test_where_nothing_overflows_the_result_is_the_same_to_the_last_bit(backend32, magnitude,
                                                                         view):
    rng = np.random.default_rng(1)
    x = backend32.asarray((rng.standard_normal(view) * magnitude + magnitude / 2)
                          .astype(np.float32))
    xp = backend32.xp
    want = plain(x, 1e-5, xp)
    assert all(np.isfinite(host(value)).all() for value in want)
    got = normalize(x, 1e-5)
    for got_value, want_value in zip((got.centered * got.inv_spread, got.inv_std, got.mean,
                                      got.var), want, strict=True):
        np.testing.assert_array_equal(host(got_value), host(want_value))


def test_a_nan_stays_in_its_own_row(backend32):
    """A NaN in one sample leaves the other rows' bits alone."""
    rows = np.array([[np.nan, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.5]], dtype=np.float32)
    layer = LayerNorm1D("ln", 4)
    both = host(layer.forward(backend32.asarray(rows)))
    alone = host(layer.forward(backend32.asarray(rows[1:])))
    assert np.isnan(both[0]).all()
    np.testing.assert_array_equal(both[1:], alone)


def test_layer_norm_backward_of_large_rows_is_finite_and_right(backend32):
    """dL/dx = inv_std (g - mean g - x_hat mean(g x_hat)), here with inv_std about 1e-30."""
    x = np.array([[1e30, -1e30, 0.0, 1.0], [2e30, 5e29, -1e30, 3.0]], dtype=np.float32)
    g = np.array([[0.1, -0.4, 0.3, 0.2], [0.5, 0.1, -0.2, 0.3]])
    layer = LayerNorm1D("ln", 4)
    layer.forward(backend32.asarray(x))
    got = host(layer.backward(backend32.asarray(g.astype(np.float32))))
    rows = x.astype(np.float64)
    centered = rows - rows.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centered**2).mean(axis=1, keepdims=True) + 1e-5)
    x_hat = centered * inv_std
    want = inv_std * (g - g.mean(axis=1, keepdims=True)
                      - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-36)


def test_batch_norm_running_statistics_of_large_inputs(backend):
    """The batch mean comes back at its scale; the variance, 5e59 here, is kept in float64."""
    layer = BatchNorm1D("bn", 1, momentum=0.0)
    layer.forward(backend.asarray(np.array([[1e30], [-1e30], [0.0], [1.0]])))
    np.testing.assert_allclose(host(layer.running_mean.data), [0.25], rtol=1e-12)
    np.testing.assert_allclose(host(layer.running_var.data), [2e60 / 3], rtol=1e-12)
