"""The training step's operations on lists of arrays. sgd_step, SGD's update of a list of
parameters: every backend's default path (the torch native's multi-tensor calls) gives the
portable path's numbers and the textbook update's, and the optimizer's steps on the net are
those of the per-parameter update. zero_arrays: zeros on both paths, and the step zeroes what
the last one left in the gradients."""

import numpy as np
import pytest
from ops_paths import NATIVES

import tinyml
from tinyml.backend import ops, portable_ops, to_numpy
from tinyml.optim import SGD
from tinyml.testing import assert_close

SHAPES = [(3, 4), (4,), (2, 3, 2)]


def _arrays(backend, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in SHAPES]


def _run(backend, path, *, momentum, nesterov, decays, steps=3):
    """The parameters after `steps` sgd_steps from fixed data and gradients, on `path`."""
    datas = [backend.asarray(a) for a in _arrays(backend, 0)]
    buffers = [None] * len(SHAPES)
    for step in range(steps):
        grads = [backend.asarray(a) for a in _arrays(backend, step + 1)]
        if path == "portable":
            with portable_ops():
                buffers = ops.sgd_step(datas, grads, buffers, lr=0.1, momentum=momentum,
                                       nesterov=nesterov, weight_decays=decays)
        else:
            buffers = ops.sgd_step(datas, grads, buffers, lr=0.1, momentum=momentum,
                                   nesterov=nesterov, weight_decays=decays)
    return datas, buffers


def _textbook(*, momentum, nesterov, decays, steps=3):
    datas = _arrays(None, 0)
    buffers = [None] * len(SHAPES)
    for step in range(steps):
        for i, grad in enumerate(_arrays(None, step + 1)):
            grad = grad + decays[i] * datas[i]
            if momentum:
                buffers[i] = grad.copy() if buffers[i] is None else momentum * buffers[i] + grad
                grad = grad + momentum * buffers[i] if nesterov else buffers[i]
            datas[i] = datas[i] - 0.1 * grad
    return datas, buffers


@pytest.mark.parametrize("momentum,nesterov,decays", [
    (0.9, False, [0.0, 0.0, 0.0]),  # the torch native's case
    (0.0, False, [0.0, 0.0, 0.0]),
    (0.9, True, [0.0, 0.0, 0.0]),
    (0.9, False, [0.01, 0.0, 0.01]),
])
def test_every_path_gives_the_textbook_update(backend, momentum, nesterov, decays):
    native_name = backend.name if backend.name in NATIVES["sgd_step"] else "portable"
    probe = [backend.asarray(np.zeros(2))]
    assert ops.sgd_step.implementation_for(probe) == native_name
    want_datas, want_buffers = _textbook(momentum=momentum, nesterov=nesterov, decays=decays)
    results = {path: _run(backend, path, momentum=momentum, nesterov=nesterov, decays=decays)
               for path in ("default", "portable")}
    for path, (datas, buffers) in results.items():
        for i in range(len(SHAPES)):
            assert_close(datas[i], want_datas[i], backend=backend, err_msg=f"{path} data {i}")
            if momentum:
                assert_close(buffers[i], want_buffers[i], backend=backend,
                             err_msg=f"{path} buffer {i}")
            else:
                assert buffers[i] is None
    for i in range(len(SHAPES)):  # the two paths agree to rounding
        assert_close(results["default"][0][i], to_numpy(results["portable"][0][i]),
                     backend=backend, rtol=1e-12, atol=1e-12)


def test_refuses_lists_that_do_not_pair_up(backend):
    datas = [backend.asarray(np.zeros(2))]
    with pytest.raises(ValueError, match="one gradient, one momentum buffer"):
        ops.sgd_step(datas, datas * 2, [None], lr=0.1, momentum=0.0, nesterov=False,
                     weight_decays=[0.0])
    with pytest.raises(TypeError, match="non-empty list of arrays"):
        ops.sgd_step([], [], [], lr=0.1, momentum=0.0, nesterov=False, weight_decays=[])
    with pytest.raises(TypeError, match="expects an array"):
        ops.sgd_step([1.0], [1.0], [None], lr=0.1, momentum=0.0, nesterov=False,
                     weight_decays=[0.0])


def _trained(backend, optimizer, forced):
    tinyml.seed(0)
    net = tinyml.Net([tinyml.layers.Linear("fc1", 4, 3), tinyml.layers.ReLu("relu"),
                      tinyml.layers.Linear("fc2", 3, 2)])
    rng = np.random.default_rng(1)
    x = backend.asarray(rng.standard_normal((5, 4)))
    y = backend.asarray(rng.integers(0, 2, size=5))
    learner = tinyml.Learner(net, tinyml.losses.cross_entropy_with_logits, optimizer, 5)
    with portable_ops(forced):
        for _ in range(3):
            learner.train_step(x, y)
    return {key: to_numpy(value) for key, value in net.state_dict().items()}


class _OneByOne(SGD):
    """SGD whose update is overridden: the step must call it on each parameter."""

    calls = 0

    def update(self, data, grad, state, **kwargs):
        self.calls += 1
        super().update(data, grad, state, **kwargs)


def test_sgd_steps_a_net_as_the_portable_path_and_an_overridden_update_do(backend):
    with tinyml.use_backend(backend):
        native = _trained(backend, SGD(0.1, momentum=0.9), forced=False)
        portable = _trained(backend, SGD(0.1, momentum=0.9), forced=True)
        counting = _OneByOne(0.1, momentum=0.9)
        one_by_one = _trained(backend, counting, forced=False)
    assert counting.calls == 3 * 4
    for key, value in native.items():
        np.testing.assert_allclose(value, portable[key], rtol=1e-6, atol=1e-7, err_msg=key)
        np.testing.assert_allclose(value, one_by_one[key], rtol=1e-6, atol=1e-7, err_msg=key)


def test_zero_arrays_on_both_paths(backend):
    native_name = backend.name if backend.name in NATIVES["zero_arrays"] else "portable"
    for forced, name in ((False, native_name), (True, "portable")):
        arrays = [backend.asarray(a) for a in _arrays(backend, 0)]
        with portable_ops(forced):
            assert ops.zero_arrays.implementation_for(arrays) == name
            assert ops.zero_arrays(arrays) is None
        for array, shape in zip(arrays, SHAPES, strict=True):
            assert_close(array, np.zeros(shape), backend=backend)


def test_a_step_starts_from_zero_gradients_whatever_the_last_left(backend):
    """Gradients left dirty (and one replaced by another shape's) give the same step as
    clean ones."""
    with tinyml.use_backend(backend):
        clean = _trained(backend, SGD(0.1), forced=False)
        tinyml.seed(0)
        net = tinyml.Net([tinyml.layers.Linear("fc1", 4, 3), tinyml.layers.ReLu("relu"),
                          tinyml.layers.Linear("fc2", 3, 2)])
        learner = tinyml.Learner(net, tinyml.losses.cross_entropy_with_logits, SGD(0.1), 5)
        rng = np.random.default_rng(1)
        x = backend.asarray(rng.standard_normal((5, 4)))
        y = backend.asarray(rng.integers(0, 2, size=5))
        for _ in range(3):
            for parameter in net.parameters():
                parameter.grad[...] = 7.0
            net["fc2"].bias.grad = backend.asarray(np.ones(5))  # stale: another shape
            learner.train_step(x, y)
    for key, value in net.state_dict().items():
        np.testing.assert_allclose(tinyml.to_numpy(value), clean[key], rtol=1e-6, atol=1e-7,
                                   err_msg=key)
