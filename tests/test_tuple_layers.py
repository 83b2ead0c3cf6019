"""Layers of several inputs and tuple outputs: the record keeps every output's shape, backward
takes one gradient per output and returns one per input; check_layer tests them through
tinyml.testing.Inputs (integer inputs have no gradient, options are not differentiated)."""

import numpy as np
import pytest

import tinyml
from tinyml import Layer, Parameter
from tinyml.testing import Inputs, check_layer


class PairCell(Layer):
    """A toy LSTM-like step: h' = tanh(x W^T + h), c' = c * h' (+ mask * 0, an option)."""

    def __init__(self, name, mistake=None):
        super().__init__(name)
        self.mistake = mistake
        self.weight = Parameter(tinyml.asarray(np.array([[0.5, -1.0], [2.0, 0.25],
                                                         [-0.5, 1.5]])))

    def output_shape(self, x_shape, state_shapes):
        return (tuple(state_shapes[0]), tuple(state_shapes[1]))

    def forward(self, x, state, *, scale=1.0):
        h, c = state
        xp = self._input_namespace(x)
        new_h = xp.tanh(x @ xp.matrix_transpose(self.weight.data) + h) * scale
        new_c = c * new_h
        self.save_for_backward(x, c, new_h, scale, output_shape=(new_h.shape, new_c.shape))
        return new_h, new_c

    def backward(self, in_gradient, *, input_gradient=True):
        xp, x, c, new_h, scale = self.saved(in_gradient)
        g_h, g_c = in_gradient
        g_h = g_h + g_c * c                       # new_c = c * new_h
        g_pre = g_h * scale * (1 - (new_h / scale) ** 2)
        self.weight.grad += xp.matrix_transpose(g_pre) @ x
        if not input_gradient:
            return None
        g_x = g_pre @ self.weight.data
        g_c_prev = g_c * new_h
        if self.mistake == "state":
            g_c_prev = g_c_prev * 2
        return g_x, (g_pre, g_c_prev)


class Lookup(Layer):
    """A toy embedding: y = weight[indices]; integer input, no input gradient."""

    def __init__(self, name, mistake=None):
        super().__init__(name)
        self.mistake = mistake
        self.weight = Parameter(tinyml.asarray(np.arange(8.0).reshape(4, 2)))

    def output_shape(self, input_shape):
        return (*input_shape, 2)

    def forward(self, indices):
        xp = self._namespace(indices)
        self.save_for_backward(indices, output_shape=(*indices.shape, 2))
        rows = xp.take(self.weight.data, xp.reshape(indices, (-1,)), axis=0)
        return xp.reshape(rows, (*indices.shape, 2))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, indices = self.saved(in_gradient)
        flat = xp.reshape(indices, (-1, 1))
        rows = xp.arange(4, device=tinyml.backend.device_of(flat))
        one_hot = xp.astype(flat == xp.reshape(rows, (1, 4)), in_gradient.dtype)
        self.weight.grad += xp.matrix_transpose(one_hot) @ xp.reshape(in_gradient, (-1, 2))
        return in_gradient if self.mistake == "gradient for indices" else None


def cell_inputs(batch=3):
    rng = np.random.default_rng(3)
    return Inputs(rng.standard_normal((batch, 2)),
                  (rng.standard_normal((batch, 3)), rng.standard_normal((batch, 3))))


def cell_reference(args, params):
    x, (h, c) = args
    new_h = np.tanh(x @ params["weight"].T + h)
    return new_h, c * new_h


@pytest.mark.parametrize("mode", ["full", "random"])
def test_a_cell_with_a_tuple_state_keeps_the_contract(backend, mode):
    result = check_layer(PairCell("cell"), cell_inputs(), reference=cell_reference, mode=mode)
    g_x, (g_h, g_c) = result.gradients["input"]
    assert g_x.shape == (3, 2) and g_h.shape == g_c.shape == (3, 3)
    assert isinstance(result.output, tuple) and len(result.output) == 2


def test_options_reach_forward_and_are_not_differentiated(backend):
    call = cell_inputs()
    call.kwargs["scale"] = 0.5

    def reference(args, params):
        x, (h, c) = args
        new_h = np.tanh(x @ params["weight"].T + h) * 0.5
        return new_h, c * new_h
    check_layer(PairCell("cell"), call, reference=reference)


def test_a_wrong_state_gradient_is_named(backend):
    with pytest.raises(AssertionError, match=r"backward disagrees with finite differences for "
                                             r"input 1\[1\]"):
        check_layer(PairCell("cell", mistake="state"), cell_inputs())


def test_a_cell_unrolled_over_time_backpropagates_by_one_backward_per_step(backend):
    """Three steps, then three backwards in reverse, equal finite differences of the unroll."""
    cell, call = PairCell("cell"), cell_inputs()
    x, (h0, c0) = (tinyml.asarray(a) if not isinstance(a, tuple) else tuple(map(
        tinyml.asarray, a)) for a in call.args)
    xs = [x, x * 0.5, x * -1.0]
    state = (h0, c0)
    for step in xs:
        state = cell.forward(step, state)
    rng = np.random.default_rng(0)
    r_h, r_c = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    grad = (tinyml.asarray(r_h), tinyml.asarray(r_c))
    for _ in xs:
        _, grad = cell.backward(grad)
    assert cell.pending_records == 0

    def loss(h0_host):
        weight = tinyml.to_numpy(cell.weight.data)
        h, c = h0_host, tinyml.to_numpy(c0)
        for scale in (1.0, 0.5, -1.0):
            h = np.tanh(tinyml.to_numpy(x) * scale @ weight.T + h)
            c = c * h
        return float(np.sum(h * r_h) + np.sum(c * r_c))

    numeric = tinyml.testing.numerical_gradient(loss, tinyml.to_numpy(h0))
    tinyml.testing.assert_close(grad[0], numeric, rtol=1e-6, atol=1e-8)


def test_a_tuple_output_takes_a_tuple_gradient(backend):
    cell, call = PairCell("cell"), cell_inputs()
    x, state = tinyml.asarray(call.args[0]), tuple(map(tinyml.asarray, call.args[1]))
    h, c = cell.forward(x, state)
    with pytest.raises(TypeError, match=r"PairCell 'cell': the last forward returned 2 arrays, "
                                        r"so backward takes a tuple of 2 gradients, one per "
                                        r"output .*; got one array of shape \(3, 3\)"):
        cell.backward(h)
    with pytest.raises(ValueError, match=r"PairCell 'cell': in_gradient\[1\] has shape \(3, 2\) "
                                         r"but the last forward produced \(3, 3\)"):
        cell.backward((h, tinyml.asarray(np.ones((3, 2)))))
    assert cell.pending_records == 1, "a refused gradient consumes nothing"
    cell.backward((h, c))
    assert cell.pending_records == 0


def test_integer_inputs_have_no_gradient(backend):
    indices = np.array([[0, 3, 3], [1, 0, 2]])
    result = check_layer(Lookup("lookup"), indices,
                         reference=lambda x, params: params["weight"][x])
    assert result.gradients["input"] is None
    counts = np.bincount(indices.ravel(), minlength=4)
    np.testing.assert_allclose(result.gradients["weight"].sum(axis=1) != 0, counts > 0)


def test_a_gradient_returned_for_indices_is_refused(backend):
    with pytest.raises(AssertionError, match=r"Lookup 'lookup': input holds .*int64 values, "
                                             r"which have no gradient; backward must return "
                                             r"None for it"):
        check_layer(Lookup("lookup", mistake="gradient for indices"), np.array([[0, 1]]))


def test_a_layer_is_called_with_all_its_inputs():
    cell, call = PairCell("cell"), cell_inputs()
    x, state = tinyml.asarray(call.args[0]), tuple(map(tinyml.asarray, call.args[1]))
    h, _ = cell(x, state, scale=2.0)
    tinyml.testing.assert_close(h, np.tanh(call.args[0] @ tinyml.to_numpy(
        cell.weight.data).T + call.args[1][0]) * 2.0)


def test_the_older_names_of_the_record_calls_still_work():
    assert Layer._remember is Layer.save_for_backward and Layer._recall is Layer.saved
