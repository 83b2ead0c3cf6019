"""A record per forward call, consumed last in, first out; none in eval or under no_grad."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Conv2D, Linear, ReLu
from tinyml.testing import assert_close, numerical_gradient

RNG = np.random.default_rng(0)


def test_three_calls_then_three_backwards_give_the_unrolled_gradients(backend):
    """y = f(f(f(x))) with one Linear f: backpropagation through 'time', checked by central
    differences of the unrolled computation for the input and both parameters."""
    fc = Linear("tied", 3, 3)
    x = RNG.standard_normal((2, 3))
    projection = RNG.standard_normal((2, 3))

    def loss(weight, bias, inp):
        y = inp
        for _ in range(3):
            y = y @ weight.T + bias
        return float(np.sum(y * projection))

    weight, bias = (np.array(tinyml.to_numpy(p.data)) for p in (fc.weight, fc.bias))
    y = tinyml.asarray(x)
    for _ in range(3):
        y = fc.forward(y)
    assert fc.pending_records == 3
    g = tinyml.asarray(projection)
    for _ in range(3):
        g = fc.backward(g)
    assert fc.pending_records == 0
    assert_close(g, numerical_gradient(lambda v: loss(weight, bias, v), x), backend=backend,
                 rtol=1e-6, atol=1e-8)
    assert_close(fc.weight.grad, numerical_gradient(lambda w: loss(w, bias, x), weight),
                 backend=backend, rtol=1e-6, atol=1e-8)
    assert_close(fc.bias.grad, numerical_gradient(lambda b: loss(weight, b, x), bias),
                 backend=backend, rtol=1e-6, atol=1e-8)


def test_records_are_consumed_in_reverse_order(backend):
    relu = ReLu("relu")
    first, second = np.array([[1.0, -1.0]]), np.array([[-1.0, 1.0]])
    relu.forward(tinyml.asarray(first))
    relu.forward(tinyml.asarray(second))
    ones = tinyml.asarray(np.ones((1, 2)))
    assert_close(relu.backward(ones), np.array([[0.0, 1.0]]), backend=backend)  # second's mask
    assert_close(relu.backward(ones), np.array([[1.0, 0.0]]), backend=backend)  # then first's


def test_backward_more_often_than_forward_is_an_error(backend):
    fc = Linear("fc", 2, 2)
    fc.forward(tinyml.asarray(np.ones((1, 2))))
    fc.backward(tinyml.asarray(np.ones((1, 2))))
    with pytest.raises(RuntimeError, match=r"Linear 'fc': backward\(\) called before "
                                           r"forward\(\), or more often than it"):
        fc.backward(tinyml.asarray(np.ones((1, 2))))


def test_a_refused_gradient_consumes_no_record(backend):
    fc = Linear("fc", 2, 2)
    fc.forward(tinyml.asarray(np.ones((1, 2))))
    with pytest.raises(ValueError, match="in_gradient has shape"):
        fc.backward(tinyml.asarray(np.ones((3, 2))))
    assert fc.pending_records == 1
    fc.backward(tinyml.asarray(np.ones((1, 2))))


def test_no_grad_keeps_nothing(backend):
    conv = Conv2D("conv", (1, 4, 4), 2, 3, 3, 1, 1)
    x = tinyml.asarray(RNG.standard_normal((2, 1, 4, 4)))
    with tinyml.no_grad():
        outputs = [conv.forward(x) for _ in range(5)]
    assert tinyml.core.grad_enabled(), "no_grad must switch recording back on"
    assert conv.pending_records == 0
    with pytest.raises(RuntimeError, match="keeps none inside tinyml.no_grad"):
        conv.backward(tinyml.asarray(np.ones(tuple(outputs[0].shape))))


def test_eval_mode_still_backpropagates(backend):
    """Eval changes what a layer computes, not whether it can be backpropagated: a net in
    eval mode (dropout off, frozen statistics) gives the gradients of what it computed."""
    net = tinyml.Net([Linear("fc", 3, 2), tinyml.layers.Dropout("drop", 0.5), ReLu("relu")])
    twin = tinyml.Net([Linear("fc", 3, 2), ReLu("relu")])
    twin.load_state_dict({k: tinyml.to_numpy(v) for k, v in net.state_dict().items()})
    x = tinyml.asarray(RNG.standard_normal((4, 3)))
    g = tinyml.asarray(RNG.standard_normal((4, 2)))
    net.eval()
    assert_close(net.forward(x), tinyml.to_numpy(twin.forward(x)), backend=backend)
    assert_close(net.backward(g), tinyml.to_numpy(twin.backward(g)), backend=backend)
    assert_close(net["fc"].weight.grad, tinyml.to_numpy(twin["fc"].weight.grad), backend=backend)


def test_predict_keeps_no_records(backend):
    net = tinyml.Net([Linear("fc", 3, 2), ReLu("relu")])
    learner = tinyml.Learner(net, tinyml.losses.mse, tinyml.optim.SGD(lr=0.1), batch_size=2)
    learner.predict(RNG.standard_normal((7, 3)))
    assert all(layer.pending_records == 0 for layer in net.named_layers().values())
    assert net.training, "predict restores training mode"


def test_input_gradient_false_changes_no_parameter_gradient(backend):
    full, lean = Conv2D("conv", (2, 5, 5), 3, 3, 3, 2, 1), Conv2D("conv", (2, 5, 5), 3, 3, 3, 2, 1)
    lean.load_state_dict({k: tinyml.to_numpy(v) for k, v in full.state_dict().items()})
    x = tinyml.asarray(RNG.standard_normal((2, 2, 5, 5)))
    g = tinyml.asarray(RNG.standard_normal((2, 3, 3, 3)))
    full.forward(x)
    lean.forward(x)
    assert full.backward(g) is not None
    assert lean.backward(g, input_gradient=False) is None
    for name, parameter in full.named_parameters().items():
        assert_close(lean.named_parameters()[name].grad, tinyml.to_numpy(parameter.grad),
                     backend=backend, rtol=0, atol=0)


def test_clear_records_recurses_and_to_drops_records(backend):
    net = tinyml.Net([tinyml.Net([Linear("fc", 2, 2)], name="inner"), ReLu("relu")])
    net.forward(tinyml.asarray(np.ones((1, 2))))
    assert net["inner"]["fc"].pending_records == 1
    net.clear_records()
    assert net["inner"]["fc"].pending_records == 0
    net.forward(tinyml.asarray(np.ones((1, 2))))
    net.to(backend)
    assert net["relu"].pending_records == 0
