"""Permute and Reshape: the shapes they promise (-1 inferred), a round trip between Conv1D's
(N, C, L) and the recurrent layers' (N, T, F), and a sample of another size (their
configurations against NumPy and PyTorch, refused shapes and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py; bad axes and shapes: test_declared_arguments.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Flatten, Permute, Reshape
from tinyml.testing import assert_close

X = np.random.default_rng(0).standard_normal((2, 3, 4, 5))


def test_conv_layout_to_sequence_and_back(backend):
    """(N, C, L) -> (N, L, C) -> (N, C, L) gives the input back, gradient too."""
    to_seq, back = Permute("to_seq", (2, 1)), Permute("back", (2, 1))
    x = tinyml.asarray(X[:, :, :, 0])
    y = back.forward(to_seq.forward(x))
    assert_close(y, X[:, :, :, 0], backend=backend)
    assert_close(to_seq.backward(back.backward(y)), X[:, :, :, 0], backend=backend)


def test_reshape_of_a_row_is_flatten_undone(backend):
    flat = Flatten("flat").forward(tinyml.asarray(X))
    assert_close(Reshape("r", (3, 4, 5)).forward(flat), X, backend=backend)


def test_output_shapes_with_unknown_extents():
    assert Permute("p", (2, 1)).output_shape((None, 3, 7)) == (None, 7, 3)
    assert Reshape("r", (-1, 4)).output_shape((None, 8, 2)) == (None, 4, 4)
    assert Reshape("r", (-1, 4)).output_shape((None, None, 2)) == (None, None, 4)
    assert Reshape("r", (2, 4)).output_shape((None, None)) == (None, 2, 4)


def test_a_sample_of_another_size_is_refused(backend):
    """(A permutation of the wrong length and a size that is no multiple: tests/layer_specs.py.)"""
    with pytest.raises(ValueError, match=r"Reshape 'r' reshapes each sample to \(7,\), which "
                                         r"needs exactly 7 values; the input \(2, 3, 4, 5\) "
                                         r"has 60 per sample"):
        Reshape("r", (7,)).forward(tinyml.asarray(X))
