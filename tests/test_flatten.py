"""Flatten: the shapes it promises with unknown extents, and its name (row-major (N, ...) ->
(N, features) against torch.flatten, refused shapes and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import pytest

from tinyml.layers import Flatten


def test_output_shape_with_unknown_extents():
    layer = Flatten("flat")
    assert layer.output_shape((None, 3, 4, 5)) == (None, 60)
    assert layer.output_shape((7, None, 4)) == (7, None)


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_name(name):
    with pytest.raises(TypeError, match="a layer's name must be a non-empty string"):
        Flatten(name)
