"""Flatten: the shapes it promises with unknown extents (row-major (N, ...) ->
(N, features) against torch.flatten, refused shapes and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

from tinyml.layers import Flatten


def test_output_shape_with_unknown_extents():
    layer = Flatten("flat")
    assert layer.output_shape((None, 3, 4, 5)) == (None, 60)
    assert layer.output_shape((7, None, 4)) == (7, None)


# a bad name: test_layer_contract.py (the check is Layer's)
