"""Add, Multiply and Concatenate: a list in, one array out, a list of gradients back; exact
gradients through zeros, records, shapes and refusals (their configurations, PyTorch twins and
the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Add, Concatenate, Multiply, ReLu, Sigmoid
from tinyml.testing import assert_close, check_layer

RNG = np.random.default_rng(0)


def inputs(*shapes):
    return [RNG.standard_normal(shape) for shape in shapes]


def test_multiply_of_three_with_zeros_in_the_inputs(backend):
    """The prefix/suffix products need no division, so a zero input gives exact gradients."""
    xs = inputs((2, 5), (2, 5), (2, 5))
    xs[1][0, :2] = 0.0
    xs[2][0, 1:3] = 0.0
    check_layer(Multiply("mul"), xs, reference=lambda x, p: x[0] * x[1] * x[2])


def test_multiply_backward_is_last_in_first_out(backend):
    """Two forwards, then two backwards: each gradient belongs to its own forward's inputs."""
    a, b, c, d = (tinyml.asarray(x) for x in inputs((2, 3), (2, 3), (2, 3), (2, 3)))
    layer = Multiply("mul")
    layer.forward([a, b])
    layer.forward([c, d])
    g = tinyml.asarray(np.ones((2, 3)))
    second = layer.backward(g)
    first = layer.backward(g)
    assert_close(second[0], tinyml.to_numpy(d), backend=backend)
    assert_close(second[1], tinyml.to_numpy(c), backend=backend)
    assert_close(first[0], tinyml.to_numpy(b), backend=backend)
    assert_close(first[1], tinyml.to_numpy(a), backend=backend)


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
@pytest.mark.parametrize("layer", [Add("merge"), Multiply("merge"), Concatenate("merge")],
                         ids=["Add", "Multiply", "Concatenate"])
def test_a_single_array_is_not_a_list_of_inputs(backend, layer):
    kind = type(layer).__name__
    x = tinyml.asarray(np.ones((2, 3)))
    with pytest.raises(TypeError, match=rf"{kind} 'merge' takes a list of arrays, one per "
                                        r"input; got .*use it as the merge of a Parallel"):
        layer.forward(x)
    with pytest.raises(ValueError, match=rf"{kind} 'merge' merges at least two inputs; got 1"):
        layer.forward([x])
    with pytest.raises(ValueError, match=rf"{kind} 'merge' takes a list of at least two input "
                                         r"shapes.*not directly in a Net"):
        layer.output_shape((None, 3))


@pytest.mark.parametrize("kind", [Add, Multiply])
def test_mismatched_shapes_are_refused(backend, kind):
    layer = kind("merge")
    with pytest.raises(ValueError, match=rf"{kind.__name__} 'merge' needs inputs of one shape; "
                                         r"input 0 has shape \(2, 4\) and input 2 \(2, 3\)"):
        layer.forward([tinyml.asarray(x) for x in inputs((2, 4), (2, 4), (2, 3))])
    with pytest.raises(ValueError, match=r"input 0 has shape \(2, 4\) and input 1 \(2, 4, 1\)"):
        layer.forward([tinyml.asarray(x) for x in inputs((2, 4), (2, 4, 1))])
    assert layer.pending_records == 0


def test_concatenate_refuses_inputs_that_differ_off_its_axis(backend):
    with pytest.raises(ValueError, match=r"Concatenate 'cat' needs inputs of one shape but along "
                                         r"axis 1; input 0 has shape \(2, 3, 4\) and input 1 "
                                         r"\(2, 1, 5\)"):
        Concatenate("cat").forward([tinyml.asarray(x) for x in inputs((2, 3, 4), (2, 1, 5))])


def test_concatenate_axis_errors(backend):
    # axis's bad types: tests/test_declared_arguments.py
    with pytest.raises(ValueError, match=r"Concatenate 'cat': axis 2 is out of range for inputs "
                                         r"of 2 dimensions"):
        Concatenate("cat", axis=2).forward([tinyml.asarray(x) for x in inputs((2, 3), (2, 3))])


def test_integer_input_is_named_by_its_position(backend):
    xs = [tinyml.asarray(np.ones((2, 3))), tinyml.asarray(np.ones((2, 3), dtype=np.int64))]
    with pytest.raises(TypeError, match=r"Add 'add' expects floating-point input; got .* for "
                                        r"input 1"):
        Add("add").forward(xs)


def test_inputs_from_two_backends_are_refused(backend):
    if backend.name == "numpy":
        pytest.skip("needs a backend other than numpy")
    xs = [tinyml.asarray(np.ones((2, 3))), np.ones((2, 3))]
    with pytest.raises(TypeError, match=r"Multiply 'mul': input 1 lives on numpy .* but input 0 "
                                        rf"lives on {backend.name}"):
        Multiply("mul").forward(xs)


def test_an_unknown_act_fn_names_the_merge():
    with pytest.raises(ValueError, match=r"Add 'add': unknown act_fn 'swish'"):
        Add("add", act_fn="swish")
