"""BatchNorm1D, BatchNorm2D, LayerNorm1D and LayerNorm2D: the running statistics (against
PyTorch over several steps too), eval mode, the buffers as state, the batch of one, constructor
errors, and a CNN with BatchNorm2D learning digits (their configurations, PyTorch twins, refused
shapes and the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""


import normalization_reference as ref
import numpy as np
import pytest

import tinyml
from tinyml import Net
from tinyml.data import load_digits
from tinyml.layers import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Flatten,
    LayerNorm1D,
    LayerNorm2D,
    Linear,
    MaxPool2D,
    ReLu,
    Softmax,
)
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.testing import assert_close

RNG = np.random.default_rng(7)
EPSILON = 1e-3  # not the default: a test that passed epsilon nowhere would fail


def randomized(layer, seed=0):
    """`layer` with random weight and bias (and running statistics, for batch norm): the
    defaults (ones, zeros) would hide a swapped or missing affine term."""
    rng = np.random.default_rng(seed)
    features = layer.weight.shape[0]
    layer.weight.data = tinyml.asarray(rng.uniform(0.5, 2.0, features))
    layer.bias.data = tinyml.asarray(rng.standard_normal(features))
    if hasattr(layer, "running_mean"):
        layer.running_mean.data = tinyml.asarray(rng.standard_normal(features))
        layer.running_var.data = tinyml.asarray(rng.uniform(0.5, 2.0, features))
    return layer


def test_layer_norm_1d_normalizes_each_time_step_alone(backend):
    """A (N, T, F) sequence gives what its (N T, F) rows give one by one."""
    layer = randomized(LayerNorm1D("ln", 4))
    x = RNG.standard_normal((2, 3, 4))
    whole = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    rows = tinyml.to_numpy(layer.forward(tinyml.asarray(x.reshape(6, 4))))
    np.testing.assert_allclose(whole.reshape(6, 4), rows, rtol=1e-12)


# ---------------------------------------------------------------- statistics and eval mode
@pytest.mark.parametrize(("kind", "shape"), [(BatchNorm1D, (6, 3)), (BatchNorm2D, (4, 3, 2, 5))])
def test_running_statistics_follow_the_momentum_rule(backend, kind, shape):
    layer = randomized(kind("bn", 3, momentum=0.75))
    mean = tinyml.to_numpy(layer.running_mean.data).copy()
    var = tinyml.to_numpy(layer.running_var.data).copy()
    for step in range(3):
        x = RNG.standard_normal(shape) * (step + 1) + step
        layer.forward(tinyml.asarray(x))
        batch_mean, batch_var = ref.batch_statistics(x)
        mean, var = 0.75 * mean + 0.25 * batch_mean, 0.75 * var + 0.25 * batch_var
        assert_close(layer.running_mean.data, mean, backend=backend, err_msg="running_mean")
        assert_close(layer.running_var.data, var, backend=backend, err_msg="running_var")
    assert layer.pending_records == 3


@pytest.mark.parametrize(("kind", "shape"), [(BatchNorm1D, (5, 3)), (BatchNorm2D, (3, 3, 2, 2))])
def test_eval_uses_the_running_statistics(backend, kind, shape):
    layer = randomized(kind("bn", 3, epsilon=EPSILON)).eval()
    params = {key: tinyml.to_numpy(value).copy() for key, value in layer.state_dict().items()}
    x = RNG.standard_normal(shape)
    y = layer.forward(tinyml.asarray(x))
    expected = ref.batch_norm_eval(x, params["weight"], params["bias"], params["running_mean"],
                                   params["running_var"], EPSILON)
    assert_close(y, expected, backend=backend)
    alone = layer.forward(tinyml.asarray(x[:1]))  # a batch of one is fine in eval mode
    assert_close(alone, expected[:1], backend=backend)
    assert not np.allclose(expected, ref.batch_norm(x, params["weight"], params["bias"],
                                                    EPSILON)), "eval must not use batch stats"
    for key in ("running_mean", "running_var"):
        assert_close(layer.state_dict()[key], params[key], backend=backend, rtol=0, atol=0)


def test_the_buffers_move_in_training_mode_under_no_grad_too(backend):
    """As PyTorch: no_grad stops records, not the running statistics of a training forward."""
    layer = BatchNorm1D("bn", 2)
    with tinyml.no_grad():
        layer.forward(tinyml.asarray(np.array([[1.0, 2.0], [3.0, 6.0]])))
    assert layer.pending_records == 0
    assert_close(layer.running_mean.data, [0.2, 0.4], backend=backend)
    assert_close(layer.running_var.data, [0.9 + 0.1 * 2.0, 0.9 + 0.1 * 8.0], backend=backend)


def test_reset_running_stats(backend):
    layer = randomized(BatchNorm2D("bn", 3))
    assert layer.reset_running_stats() is layer
    assert_close(layer.running_mean.data, np.zeros(3), backend=backend, rtol=0, atol=0)
    assert_close(layer.running_var.data, np.ones(3), backend=backend, rtol=0, atol=0)


# two records of different batches, backpropagated in reverse: test_layer_contract.py
def test_the_batch_gradient_sums_to_zero_through_the_mean(backend):
    """The full backward: shifting a feature over the whole batch changes nothing, so its input
    gradient sums to zero over the batch (the one a frozen-statistics backward would give
    does not)."""
    layer = BatchNorm1D("bn", 3)
    x, g = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 3))
    layer.forward(tinyml.asarray(x))
    dx = tinyml.to_numpy(layer.backward(tinyml.asarray(g)))
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-12)
    assert np.abs(dx - g / np.sqrt(x.var(axis=0) + 1e-5)).max() > 0.1


# ---------------------------------------------------------------- against PyTorch
def torch_tensors(torch, *arrays):
    return [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]


def assert_matches_torch(layer, x, torch_function, backend, rtol=None, atol=None):
    """Forward and the input, weight and bias gradients of `layer` against `torch_function`."""
    torch = pytest.importorskip("torch")
    weight, bias = (tinyml.to_numpy(p.data).copy() for p in (layer.weight, layer.bias))
    y = layer.forward(tinyml.asarray(x))
    g = np.random.default_rng(1).standard_normal(tuple(y.shape))
    dx = layer.backward(tinyml.asarray(g))
    xt, wt, bt = torch_tensors(torch, x, weight, bias)
    yt = torch_function(xt, wt, bt)
    yt.backward(torch.tensor(g))
    for name, ours, theirs in (("output", y, yt), ("input gradient", dx, xt.grad),
                               ("weight gradient", layer.weight.grad, wt.grad),
                               ("bias gradient", layer.bias.grad, bt.grad)):
        assert_close(ours, theirs.detach().numpy(), backend=backend, rtol=rtol, atol=atol,
                     err_msg=name)


@pytest.mark.parametrize(("kind", "shape"), [(BatchNorm1D, (5, 4)), (BatchNorm2D, (3, 4, 3, 2))])
def test_batch_norm_matches_torch_over_several_training_steps(backend, kind, shape):
    torch = pytest.importorskip("torch")
    layer = randomized(kind("bn", 4, momentum=0.7, epsilon=EPSILON))
    running_mean = torch.tensor(tinyml.to_numpy(layer.running_mean.data).copy())
    running_var = torch.tensor(tinyml.to_numpy(layer.running_var.data).copy())

    def torch_batch_norm(x, w, b, training=True):
        return torch.nn.functional.batch_norm(x, running_mean, running_var, w, b,
                                              training=training, momentum=1 - 0.7, eps=EPSILON)

    for step in range(4):
        x = RNG.standard_normal(shape) * (1 + step) - step
        assert_matches_torch(layer, x, torch_batch_norm, backend)
        layer.zero_grad()
        assert_close(layer.running_mean.data, running_mean.numpy(), backend=backend,
                     err_msg=f"running_mean after step {step + 1}")
        assert_close(layer.running_var.data, running_var.numpy(), backend=backend,
                     err_msg=f"running_var after step {step + 1}")
    layer.eval()
    x = RNG.standard_normal(shape)
    w, b = (torch.tensor(tinyml.to_numpy(p.data)) for p in (layer.weight, layer.bias))
    assert_close(layer.forward(tinyml.asarray(x)),
                 torch_batch_norm(torch.tensor(x), w, b, training=False).numpy(),
                 backend=backend, err_msg="eval output")


def test_weights_exchange_with_torch_batch_norm_modules(backend):
    """A state_dict of torch.nn.BatchNorm2d (trained a few steps) loads into BatchNorm2D, and
    both give the same eval outputs."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.BatchNorm2d(3, eps=EPSILON, dtype=torch.float64)
    torch.nn.init.uniform_(theirs.weight, 0.5, 2.0)
    for _ in range(3):
        theirs(torch.randn(4, 3, 2, 2, dtype=torch.float64) * 2 + 1)
    ours = BatchNorm2D("bn", 3, epsilon=EPSILON)
    state = {key: value.detach().numpy() for key, value in theirs.state_dict().items()
             if key != "num_batches_tracked"}
    ours.load_state_dict(state)
    theirs.eval(), ours.eval()
    x = RNG.standard_normal((2, 3, 2, 2))
    assert_close(ours.forward(tinyml.asarray(x)),
                 theirs(torch.tensor(x)).detach().numpy(), backend=backend)


# ---------------------------------------------------------------- buffers are state
def bn_net():
    return Net([Linear("fc", 3, 4), BatchNorm1D("bn", 4), ReLu("relu"), Linear("head", 4, 2),
                Softmax("softmax")])


def test_state_dict_keys_and_parameters(backend):
    net = bn_net()
    assert list(net.state_dict()) == ["fc.weight", "fc.bias", "bn.weight", "bn.bias",
                                      "head.weight", "head.bias", "bn.running_mean",
                                      "bn.running_var"]
    assert list(net.named_buffers()) == ["bn.running_mean", "bn.running_var"]
    assert "bn.running_mean" not in net.named_parameters()
    assert list(LayerNorm2D("ln", (2, 3, 3)).state_dict()) == ["weight", "bias"]


def test_training_moves_the_buffers_and_only_forward_does(backend):
    """A Learner's epoch changes the running statistics; an optimizer step alone does not."""
    net = bn_net()
    x, y = RNG.standard_normal((16, 3)) * 2.0 + 3.0, RNG.integers(0, 2, 16)
    tinyml.Learner(net, cross_entropy, SGD(lr=0.1), batch_size=8).fit(x, y, epochs=2,
                                                                      verbose=0)
    bn = net["bn"]
    assert np.abs(tinyml.to_numpy(bn.running_mean.data)).max() > 0.1
    before = {key: tinyml.to_numpy(b.data).copy() for key, b in net.named_buffers().items()}
    for parameter in net.parameters():
        parameter.grad = parameter.grad + 1.0
    SGD(lr=1.0).step(net.named_parameters())
    for key, buffer in net.named_buffers().items():
        assert_close(buffer.data, before[key], backend=backend, rtol=0, atol=0, err_msg=key)


def test_buffers_are_saved_loaded_and_moved(backend, tmp_path):
    net = bn_net()
    net["bn"].running_mean.data = tinyml.asarray(RNG.standard_normal(4))
    net["bn"].running_var.data = tinyml.asarray(RNG.uniform(0.5, 2.0, 4))
    net.save(tmp_path / "bn.npz")
    twin = bn_net()
    twin.load(tmp_path / "bn.npz")
    for key in ("bn.running_mean", "bn.running_var"):
        assert_close(twin.state_dict()[key], tinyml.to_numpy(net.state_dict()[key]),
                     backend=backend, rtol=0, atol=0, err_msg=key)
    probe = RNG.standard_normal((5, 3))
    net.eval(), twin.eval()
    expected = tinyml.to_numpy(net.forward(tinyml.asarray(probe)))
    assert_close(twin.forward(tinyml.asarray(probe)), expected, backend=backend)
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float32") as strict:
        twin.to(strict)
        for buffer in twin["bn"].buffers():
            tinyml.testing.assert_on_backend(buffer.data, strict, err_msg=buffer.name)
        assert_close(twin.forward(tinyml.asarray(probe)), expected, backend=strict)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kind", [BatchNorm1D, BatchNorm2D])
def test_a_training_batch_of_one_sample_is_an_error(backend, kind):
    layer = kind("bn", 3)
    x = tinyml.asarray(np.ones((1, 3) if kind is BatchNorm1D else (1, 3, 4, 4)))
    with pytest.raises(ValueError, match=rf"{kind.__name__} 'bn': a training batch of one "
                                         r"sample has no batch statistics; .*call eval\(\)"):
        layer.forward(x)
    assert layer.pending_records == 0
    assert_close(layer.running_mean.data, np.zeros(3), backend=backend, rtol=0, atol=0)
    layer.eval().forward(x)  # fine with the running statistics


# each declared argument's bad values (num_features, input_dim, momentum, epsilon, sync):
# tests/test_declared_arguments.py
def test_momentum_at_the_ends_of_its_range(backend):
    """momentum=1 keeps the running statistics, momentum=0 takes the last batch's."""
    x = RNG.standard_normal((4, 2))
    mean, var = ref.batch_statistics(x)
    keep, take = BatchNorm1D("keep", 2, momentum=1), BatchNorm1D("take", 2, momentum=0)
    assert isinstance(keep.momentum, float) and isinstance(keep.epsilon, float)
    for layer in (keep, take):
        layer.forward(tinyml.asarray(x))
    assert_close(keep.running_mean.data, np.zeros(2), backend=backend, rtol=0, atol=0)
    assert_close(take.running_mean.data, mean, backend=backend)
    assert_close(take.running_var.data, var, backend=backend)


def test_output_shape_and_declared_input_shape():
    assert BatchNorm1D("bn", 4).output_shape((None, 4)) == (None, 4)
    assert BatchNorm1D("bn", 4).declared_input_shape() == (None, 4)
    assert BatchNorm2D("bn", 4).output_shape((None, 4, 7, 9)) == (None, 4, 7, 9)
    assert BatchNorm2D("bn", 4).declared_input_shape() is None  # any H and W
    assert LayerNorm1D("ln", 4).output_shape((2, 5, 4)) == (2, 5, 4)
    assert LayerNorm2D("ln", (3, 4, 4)).declared_input_shape() == (None, 3, 4, 4)


# ---------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def digits():
    return load_digits(flat=False, seed=0)


@pytest.mark.slow
@pytest.mark.extra("data")
@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"], indirect=True)
def test_a_cnn_with_batch_norm_learns_digits(backend32, digits):
    """Conv2D -> BatchNorm2D -> ReLu -> MaxPool2D -> Linear -> BatchNorm1D -> ReLu -> Linear,
    evaluated in eval mode (so on the running statistics)."""
    tinyml.seed(0)
    net = Net([Conv2D("conv1", (1, 8, 8), 16, 3, 3, 1, 1), BatchNorm2D("bn1", 16), ReLu("relu1"),
               MaxPool2D("pool1", (16, 8, 8), 2, 2), Flatten("flatten"),
               Linear("fc1", 16 * 4 * 4, 32), BatchNorm1D("bn2", 32), ReLu("relu2"),
               Linear("fc2", 32, 10), Softmax("softmax")])
    x_train, y_train, x_test, y_test = digits
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.05, momentum=0.9), batch_size=32,
                             seed=0)
    learner.fit(x_train, y_train, epochs=8, verbose=0)
    for bn in (net["bn1"], net["bn2"]):
        assert not np.allclose(tinyml.to_numpy(bn.running_mean.data), 0.0), "running stats"
    accuracy = learner.evaluate(x_test, y_test)["accuracy"]  # eval mode: running statistics
    assert accuracy >= 0.97, f"CNN + BatchNorm2D test accuracy {accuracy:.3f} on {backend32.name}"


def test_eval_mode_backward_treats_the_running_statistics_as_constants(backend):
    """Fine-tuning with frozen statistics: in eval mode BatchNorm is an affine map, and its
    backward is that map's, checked by central differences."""
    from tinyml.testing import numerical_gradient

    layer = BatchNorm2D("bn", 2)
    rng = np.random.default_rng(3)
    for _ in range(3):  # running statistics away from their start
        layer.forward(tinyml.asarray(rng.standard_normal((4, 2, 3, 3)) * 2.0 + 1.0))
    layer.clear_records()
    layer.eval()
    x = rng.standard_normal((2, 2, 3, 3))
    projection = rng.standard_normal((2, 2, 3, 3))

    def loss(values):
        with tinyml.no_grad():
            return float(np.sum(tinyml.to_numpy(layer.forward(tinyml.asarray(values)))
                                * projection))

    layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(projection))
    assert_close(dx, numerical_gradient(loss, x), backend=backend, rtol=1e-6, atol=1e-8)
    weight = np.array(tinyml.to_numpy(layer.weight.data))

    def loss_of_weight(values):
        layer.weight.data = tinyml.asarray(values)
        return loss(x)

    expected = numerical_gradient(loss_of_weight, weight)
    layer.weight.data = tinyml.asarray(weight)
    assert_close(layer.weight.grad, expected, backend=backend, rtol=1e-6, atol=1e-8)
