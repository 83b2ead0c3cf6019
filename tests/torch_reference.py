"""Comparing a tinyml layer with the same PyTorch function, weights shared (layouts match)."""

import numpy as np
import pytest

import tinyml
from tinyml.testing import assert_close


def assert_matches_torch(layer, x, torch_function, backend):
    """Forward and every gradient of `layer` against ``torch_function(x, weight, bias)``.

    `x` is a host array; the layer's weight and bias are read from the layer itself.
    """
    torch = pytest.importorskip("torch")
    y = layer.forward(tinyml.asarray(x))
    g = np.random.default_rng(1).standard_normal(tuple(y.shape))
    dx = layer.backward(tinyml.asarray(g))
    weight, bias = (tinyml.to_numpy(p.data) for p in (layer.weight, layer.bias))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    yt = torch_function(xt, wt, bt)
    yt.backward(torch.tensor(g))
    for name, ours, theirs in (("output", y, yt.detach()), ("input gradient", dx, xt.grad),
                               ("weight gradient", layer.weight.grad, wt.grad),
                               ("bias gradient", layer.bias.grad, bt.grad)):
        assert_close(ours, theirs.numpy(), backend=backend, err_msg=name)
