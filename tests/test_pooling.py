"""AvgPool2D, Pool2D (max or average) and GlobalAvgPool2D: both paths of the window operations,
any image size, and the constructor errors that no one argument's rule covers (MaxPool2D:
test_maxpool2d.py; their configurations, random ones too, against window loops, PyTorch twins,
refused shapes and the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest
import reference

import tinyml
from tinyml.layers import AvgPool2D, GlobalAvgPool2D, MaxPool2D, Pool2D
from tinyml.testing import assert_close

# (N, C, H, W, size, stride)


def host(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------- AvgPool2D


# random configurations (output shape, forward, backward) against the reference: the drawn
# column of tests/layer_specs.py
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


def test_max_and_average_pools_are_pool2ds():
    assert issubclass(MaxPool2D, Pool2D) and issubclass(AvgPool2D, Pool2D)
    assert MaxPool2D("p", (1, 4, 4), 2, 2).mode == "max"
    assert AvgPool2D("p", (1, 4, 4), 2, 2).mode == "average"
    assert Pool2D("p", (1, 4, 4), 2, 2).mode == "max"  # the default


# ---------------------------------------------------------------------------- GlobalAvgPool2D


def test_global_takes_any_image_size(backend):
    layer = GlobalAvgPool2D("gap")
    for shape in [(2, 3, 4, 4), (2, 5, 7, 3)]:
        x = host(shape)
        assert_close(layer.forward(tinyml.asarray(x)), reference.global_avg_pool2d(x),
                     backend=backend)
    assert layer.output_shape((None, 3, 8, 8)) == (None, 3)
    assert layer.declared_input_shape() is None


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [AvgPool2D, Pool2D])
def test_a_window_larger_than_the_input_is_refused(make):
    # each argument alone: tests/test_declared_arguments.py
    with pytest.raises(ValueError, match=rf"{make.__name__} 'pool': window \(5, 2\) is larger "
                                         r"than the input \(4, 4\)"):
        make("pool", (2, 4, 4), (5, 2), 1)


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [  # 'min': test_declared_arguments.py's Pool2D-mode-'unknown'
        ("avg", ValueError, r"mode must be 'max' or 'average'; got 'avg'\. Use mode='average'\."),
        ("mean", ValueError, r"got 'mean'\. Use mode='average'\."),
        (None, TypeError, r"Pool2D 'pool': mode must be 'max' or 'average'; got None"),
    ],
)
def test_bad_mode(mode, error, match):
    with pytest.raises(error, match=match):
        Pool2D("pool", (1, 4, 4), 2, 2, mode=mode)
