"""Linear: what its specification in tests/layer_specs.py cannot say (its configurations,
the PyTorch twin, refused shapes and the rest of the contract: test_layer_contract.py; its
bad arguments: test_declared_arguments.py)."""

import pytest

import tinyml
from tinyml.layers import Linear


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 1, 4), (2, 2, 3, 4)])
def test_leading_axes_are_kept_as_in_pytorch(shape):
    """(batch, ..., 4) -> (batch, ..., 3), unknown extents too."""
    assert Linear("fc", 4, 3).output_shape((None, *shape[1:])) == (None, *shape[1:-1], 3)


def test_leading_axes_need_the_input_size_given():
    """A size left out is learnt from (batch, features) only: a forgotten Flatten after an
    image layer stays an error instead of a per-row map."""
    with pytest.raises(ValueError, match=r"Linear 'fc' expects input of shape \(batch, "
                                         r"features\); got \(batch, 8, 5\)\. Add a Flatten "
                                         r"before it\. \(Or give input_dim, Linear\('fc', 5, "
                                         r"10\), to apply it over the last axis\.\)"):
        tinyml.Net([Linear("fc", 10)], input_shape=(8, 5))
    net = tinyml.Net([Linear("fc", 5, 10)], input_shape=(8, 5))
    assert net.output_shape((None, 8, 5)) == (None, 8, 10)
