"""Deconv2D (transposed convolution): adjointness with Conv2D, and a padding that leaves no
output (its configurations, random ones too, against a kernel-scatter loop, the PyTorch twin,
refused shapes and the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Conv2D, Deconv2D


# random configurations against the reference: the drawn column of tests/layer_specs.py
def test_is_the_adjoint_of_conv2d(backend):
    """<conv(x), y> == <x, deconv(y)> for the same weights (F, C, kh, kw), biases zero."""
    rng = np.random.default_rng(3)
    conv = Conv2D("conv", (2, 7, 7), 3, 3, 3, 2, 1)  # 7x7 -> 4x4, and back: (4-1)2 - 2 + 3 = 7
    deconv = Deconv2D("deconv", (3, 4, 4), 2, 3, 3, 2, padding=1)
    weight = tinyml.asarray(rng.standard_normal((3, 2, 3, 3)))
    conv.weight.data = deconv.weight.data = weight
    x, y = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal((2, 3, 4, 4))
    forward = float(np.sum(tinyml.to_numpy(conv.forward(tinyml.asarray(x))) * y))
    adjoint = float(np.sum(x * tinyml.to_numpy(deconv.forward(tinyml.asarray(y)))))
    assert abs(forward - adjoint) < 1e-9 * max(1.0, abs(forward))


GOOD = {"input_dim": (2, 3, 3), "n_filters": 3, "h_filter": 3, "w_filter": 3, "stride": 1}


def test_a_padding_that_leaves_no_output_is_refused():
    # each argument alone: tests/test_declared_arguments.py
    with pytest.raises(ValueError, match=r"leaves no output for input \(2, 3, 3\)"):
        Deconv2D("deconv", **GOOD, padding=3)
