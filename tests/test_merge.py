"""Add, Multiply and Concatenate: a list in, one array out, a list of gradients back; exact
gradients through zeros, the activation's records, shapes and refusals (their configurations,
PyTorch twins, refused inputs, records unwinding in reverse and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Add, Concatenate, Multiply, ReLu, Sigmoid
from tinyml.testing import check_layer

RNG = np.random.default_rng(0)


def inputs(*shapes):
    return [RNG.standard_normal(shape) for shape in shapes]


def test_multiply_of_three_with_zeros_in_the_inputs(backend):
    """The prefix/suffix products need no division, so a zero input gives exact gradients."""
    xs = inputs((2, 5), (2, 5), (2, 5))
    xs[1][0, :2] = 0.0
    xs[2][0, 1:3] = 0.0
    check_layer(Multiply("mul"), xs, reference=lambda x, p: x[0] * x[1] * x[2])


def test_the_activation_is_a_sub_layer_that_records_and_switches_modes(backend):
    add = Add("add", act_fn="relu")
    assert list(add.named_layers()) == ["add_relu"] and isinstance(add.activation, ReLu)
    given = Sigmoid("squash")
    assert Add("add", act_fn=given).activation is given
    xs = [tinyml.asarray(x) for x in inputs((2, 3), (2, 3))]
    add.forward(xs)
    assert add.pending_records == add.activation.pending_records == 1
    assert add.backward(tinyml.asarray(np.ones((2, 3))), input_gradient=False) is None
    assert add.pending_records == add.activation.pending_records == 0
    add.eval()
    assert not add.activation.training
    with tinyml.no_grad():
        add.forward(xs)
    assert add.pending_records == add.activation.pending_records == 0


def test_output_shapes_take_a_list_of_shapes():
    assert Add("add").output_shape([(None, 4), (None, 4)]) == (None, 4)
    assert Multiply("mul").output_shape([(None, 4), (2, 4)]) == (2, 4)
    assert Concatenate("cat").output_shape([(None, 2, 5), (None, 3, 5)]) == (None, 5, 5)
    assert Concatenate("cat", axis=0).output_shape([(None, 3), (4, 3)]) == (None, 3)


# ---------------------------------------------------------------------------- errors
# a single array, one input, shapes that do not fit, an axis out of range, integer input named
# by its position: tests/layer_specs.py; inputs of two backends: test_layer_contract.py; axis's
# bad types: tests/test_declared_arguments.py
@pytest.mark.parametrize("kind", [Add, Multiply, Concatenate])
def test_a_single_shape_is_not_a_list_of_input_shapes(kind):
    with pytest.raises(ValueError, match=rf"{kind.__name__} 'merge' takes a list of at least two "
                                         r"input shapes.*not directly in a Net"):
        kind("merge").output_shape((None, 3))

