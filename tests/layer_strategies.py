"""Hypothesis strategies of layer configurations, for the `drawn` column of tests/layer_specs.py:
each draws the sizes of one configuration and returns its Case (built by tests/layer_families.py),
which test_layer_contract.py checks against the entry's reference."""

from hypothesis import strategies as st
from layer_families import conv1d, conv2d, deconv2d, pool2d

from tinyml.layers import Pool2D


def lowest(extent, padding):
    """The smallest input size that leaves an output for a window spanning `extent` with
    `padding` (an int on each side, a pair, or "same"/"causal", which pad any size)."""
    if isinstance(padding, str):
        return 1
    return max(1, extent - (2 * padding if isinstance(padding, int) else sum(padding)))


@st.composite
def conv2ds(draw):
    """Conv2D: kernels up to 4x4, stride and dilation up to 3, int or "same" padding."""
    kh, kw, stride, dilation = (draw(st.integers(1, top)) for top in (4, 4, 3, 3))
    padding = draw(st.one_of(st.integers(0, 2), st.just("same")))
    low_h, low_w = (lowest(dilation * (k - 1) + 1, padding) for k in (kh, kw))
    return conv2d((draw(st.integers(1, 2)), draw(st.integers(1, 3)),
                   draw(st.integers(low_h, low_h + 5)), draw(st.integers(low_w, low_w + 5)),
                   draw(st.integers(1, 3)), kh, kw, stride, padding, dilation))


@st.composite
def conv1ds(draw):
    """Conv1D: kernels up to 4, stride and dilation up to 3, every padding form."""
    k, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                             st.sampled_from(["same", "causal"])))
    low = lowest(dilation * (k - 1) + 1, padding)
    return conv1d((draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(low, 12)),
                   draw(st.integers(1, 3)), k, stride, padding, dilation))


@st.composite
def deconv2ds(draw):
    """Deconv2D: kernels up to 3x3, stride up to 3, dilation up to 2, padding that leaves at
    least one output row and column."""
    kh, kw, stride, dilation = (draw(st.integers(1, top)) for top in (3, 3, 3, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    full = min((h - 1) * stride + dilation * (kh - 1), (w - 1) * stride + dilation * (kw - 1))
    return deconv2d((draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w,
                     draw(st.integers(1, 3)), kh, kw, stride, dilation,
                     draw(st.integers(0, full // 2))))


def pools(cls):
    """MaxPool2D, AvgPool2D or Pool2D (either mode): windows up to 3x3, stride up to 3, inputs
    up to 4 beyond the window."""
    @st.composite
    def draw_pool(draw):
        kh, kw, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        config = (2, draw(st.integers(1, 2)), kh + draw(st.integers(0, 4)),
                  kw + draw(st.integers(0, 4)), (kh, kw), stride)
        options = {"mode": draw(st.sampled_from(["max", "average"]))} if cls is Pool2D else {}
        return pool2d(cls, config, **options)
    return draw_pool()
