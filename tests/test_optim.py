"""SGD: the update rule against a NumPy reference (and PyTorch where installed), validation,
and where its state lives."""

import numpy as np
import pytest

import tinyml
from tinyml import Parameter
from tinyml.backend import make_backend
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)
WEIGHTS = RNG.standard_normal((3, 2))
GRADS = [RNG.standard_normal((3, 2)) for _ in range(4)]


def reference_sgd(lr, momentum, nesterov, weight_decay):
    """PyTorch's SGD (dampening 0), written out for four steps."""
    w, buffer = WEIGHTS.copy(), None
    for grad in GRADS:
        g = grad + weight_decay * w
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + g
            g = g + momentum * buffer if nesterov else buffer
        w = w - lr * g
    return w


def run_tinyml(optimizer):
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    for grad in GRADS:
        parameter.zero_grad()
        parameter.grad += tinyml.asarray(grad)  # as a layer's backward adds into it
        optimizer.step([parameter])
    return parameter


SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.5, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.2, "weight_decay": 0.1},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_matches_the_reference(backend, settings):
    parameter = run_tinyml(SGD(**settings))
    full = {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0, **settings}
    assert_close(parameter.data, reference_sgd(**full), backend=backend)


@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_matches_pytorch(settings):
    torch = pytest.importorskip("torch")
    with tinyml.use_backend("numpy", dtype="float64"):
        ours = tinyml.to_numpy(run_tinyml(SGD(**settings)).data)
    weight = torch.nn.Parameter(torch.tensor(WEIGHTS))
    theirs = torch.optim.SGD([weight], **settings)
    for grad in GRADS:
        weight.grad = torch.tensor(grad)
        theirs.step()
    np.testing.assert_allclose(ours, weight.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_momentum_buffer_lives_with_the_parameter(backend32):
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = run_tinyml(optimizer)
    buffer = optimizer.state[parameter]
    assert_close(buffer, tinyml.to_numpy(buffer), backend=backend32)
    assert parameter.data.dtype == backend32.dtype


def test_first_momentum_step_does_not_alias_the_gradient(backend):
    """backward adds into grad in place; the buffer must not change with it."""
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = Parameter(tinyml.asarray(WEIGHTS))
    parameter.grad += tinyml.asarray(GRADS[0])
    optimizer.step([parameter])
    parameter.grad += tinyml.asarray(GRADS[1])
    assert_close(optimizer.state[parameter], GRADS[0], backend=backend)


def test_frozen_parameters_are_skipped(backend):
    parameter = Parameter(tinyml.asarray(WEIGHTS), trainable=False)
    parameter.grad += tinyml.asarray(GRADS[0])
    SGD(lr=0.1).step([parameter])
    assert_close(parameter.data, WEIGHTS, backend=backend)


def test_moving_the_state_with_the_net(backend):
    if backend.name == "array_api_strict":
        pytest.skip("moves to array_api_strict; needs another source backend")
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = run_tinyml(optimizer)
    target = make_backend("array_api_strict", device="device2", dtype="float64")
    parameter.to(target)
    with pytest.raises(TypeError, match="SGD on parameter 'w': momentum buffer lives on"):
        optimizer.step([parameter])
    optimizer.to(target)
    optimizer.step([parameter])
    assert_close(parameter.data, tinyml.to_numpy(parameter.data), backend=target)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": -0.1}, ValueError, "invalid lr -0.1"),
        ({"lr": 0.0}, ValueError, "invalid lr 0.0; it must be > 0"),
        ({"lr": float("nan")}, ValueError, "invalid lr nan"),
        ({"lr": "0.1"}, TypeError, "lr must be a Python number"),
        ({"lr": True}, TypeError, "lr must be a Python number"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, "invalid momentum 1.0"),
        ({"lr": 0.1, "momentum": -0.5}, ValueError, "invalid momentum"),
        ({"lr": 0.1, "weight_decay": -1e-4}, ValueError, "invalid weight_decay"),
        ({"lr": 0.1, "nesterov": True}, ValueError, "nesterov=True needs momentum > 0"),
        ({"lr": 0.1, "momentum": 0.9, "nesterov": 1}, TypeError, "nesterov must be True or"),
    ],
)
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        SGD(**kwargs)


def test_numpy_scalars_become_python_floats():
    optimizer = SGD(lr=np.float64(0.1), momentum=np.float32(0.5))
    assert type(optimizer.lr) is float and type(optimizer.momentum) is float
    assert "lr=0.1" in repr(optimizer)
