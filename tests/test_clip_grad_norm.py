"""tinyml.optim.clip_grad_norm: the total norm and the gradients scaled in place, as
torch.nn.utils.clip_grad_norm_ (L1, L2, L3 and the inf norm, clipping or not), the norm as a
0-d array on the device with no read of it, frozen parameters left out, the same math as the
optimizers' clip_norm, and the refusals of what it is given (its bad numbers:
test_declared_arguments.py)."""

import math

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.layers import Linear
from tinyml.optim import SGD, clip_grad_norm
from tinyml.testing import assert_close, assert_on_backend

SHAPES = {"weight": (3, 4), "bias": (3,), "other": (2, 2)}


def parameters_with_grads(scale, seed=0):
    """{name: Parameter} with random gradients times `scale`, on the current backend."""
    rng = np.random.default_rng(seed)
    named = {}
    for name, shape in SHAPES.items():
        parameter = tinyml.Parameter(tinyml.asarray(rng.standard_normal(shape)))
        parameter.name = name
        parameter.grad = tinyml.asarray(rng.standard_normal(shape) * scale)
        named[name] = parameter
    return named


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [10.0, 0.01])  # clipped, and left alone (factor 1)
def test_matches_torch_clip_grad_norm(backend, norm_type, scale):
    torch = pytest.importorskip("torch")
    named = parameters_with_grads(scale)
    theirs = []
    for parameter in named.values():
        tensor = torch.tensor(tinyml.to_numpy(parameter.data), requires_grad=True)
        tensor.grad = torch.tensor(tinyml.to_numpy(parameter.grad))
        theirs.append(tensor)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    norm = clip_grad_norm(list(named.values()), 1.0, norm_type)
    assert_on_backend(norm, backend, shape=())
    assert_close(norm, np.asarray(expected.item()), backend=backend, rtol=1e-12)
    for parameter, tensor in zip(named.values(), theirs, strict=True):
        assert_close(parameter.grad, tensor.grad.numpy(), backend=backend, rtol=1e-12,
                     atol=1e-15)


def test_a_dict_of_parameters_and_a_list_give_the_same(backend):
    as_dict, as_list = parameters_with_grads(5.0), parameters_with_grads(5.0)
    assert_close(clip_grad_norm(as_dict, 0.5), tinyml.to_numpy(
        clip_grad_norm(list(as_list.values()), 0.5)), backend=backend)
    for name, parameter in as_dict.items():
        assert_close(parameter.grad, tinyml.to_numpy(as_list[name].grad), backend=backend)


def test_the_gradients_are_scaled_in_place_to_the_norm(backend):
    named = parameters_with_grads(10.0)
    arrays = {name: parameter.grad for name, parameter in named.items()}
    clip_grad_norm(named, 2.0)
    assert all(named[name].grad is arrays[name] for name in named), "scaled in place"
    after = math.sqrt(sum(float(np.sum(tinyml.to_numpy(p.grad) ** 2)) for p in named.values()))
    assert after == pytest.approx(2.0, rel=1e-5)


def test_frozen_parameters_are_left_out(backend):
    named = parameters_with_grads(10.0)
    named["other"].trainable = False
    untouched = tinyml.to_numpy(named["other"].grad).copy()
    norm = clip_grad_norm(named, 1.0)
    expected = math.sqrt(sum(float(np.sum(tinyml.to_numpy(named[k].grad) ** 2))
                             for k in ("weight", "bias")))
    np.testing.assert_array_equal(tinyml.to_numpy(named["other"].grad), untouched)
    assert expected == pytest.approx(1.0, rel=1e-5)
    assert float(tinyml.to_numpy(norm)) > 1.0


def test_it_reads_nothing_from_the_device(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        named = parameters_with_grads(10.0)
        reads.clear()
        for norm_type in (2.0, 1.0, math.inf):
            clip_grad_norm(named, 1.0, norm_type=norm_type)
    assert reads == []


def test_the_optimizers_clip_norm_is_the_same_clipping(backend):
    """SGD(clip_norm=c) makes the step that clip_grad_norm(c) then a plain SGD makes."""
    tinyml.seed(0)
    net = tinyml.Net([Linear("fc", 4, 3)])
    x = tinyml.asarray(np.random.default_rng(0).standard_normal((5, 4)) * 10)
    copy = tinyml.Net([Linear("fc", 4, 3)])
    copy.load_state_dict(net.state_dict())
    for each in (net, copy):
        each.zero_grad()
        each.backward(each.forward(x))
    SGD(lr=0.1, clip_norm=0.5).step(net.named_parameters())
    clip_grad_norm(copy.parameters(), 0.5)
    SGD(lr=0.1).step(copy.named_parameters())
    for key, value in net.state_dict().items():
        assert_close(value, tinyml.to_numpy(copy.state_dict()[key]), backend=backend)


# max_norm's and norm_type's bad values: tests/test_declared_arguments.py
def test_no_parameters_or_not_parameters_are_refused():
    with pytest.raises(ValueError, match=r"clip_grad_norm: no trainable parameters to clip"):
        clip_grad_norm([], 1.0)
    with pytest.raises(TypeError, match=r"clip_grad_norm takes Parameters .*; got ndarray"):
        clip_grad_norm([np.ones(3)], 1.0)
