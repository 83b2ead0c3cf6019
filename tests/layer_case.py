"""What an entry of the layer specification (tests/layer_specs.py) holds, and the small
helpers its entries share."""

from typing import NamedTuple

import numpy as np

import tinyml


class Case(NamedTuple):
    """One configuration of a layer: how to build it, a sample input, and what it computes."""

    make: object  # () -> a fresh layer named "layer"
    shape: tuple  # a sample input's shape, batch first (a list of shapes: a list of inputs)
    reference: object = None  # (x, params) -> the expected forward, as check_layer takes it
    trains_on_one: bool = True  # False: a training batch of one sample is a ValueError
    setup: object = None  # (layer, host x) -> None, run before the layer first sees x
    sample: object = None  # (batch or None) -> host input, instead of standard normal `shape`
    takes_indices: bool = False  # its input is integer indices: floating input is refused
    torch: object = None  # (torch, params, *inputs) -> PyTorch's output from the same weights
    bad_shapes: dict = None  # {input shape: regex of the ValueError forward raises for it}
    bad_inputs: dict = None  # {id: (host input, exception type, regex)} forward refuses
    dtypes: tuple = ()  # more input dtypes it takes (an embedding's index types): same output
    configs: dict = None  # {name: Case}: more configurations, each checked as the entry is
    drawn: object = None  # a hypothesis strategy of Cases: random configurations to check
    modes: tuple = ("full", "random")  # check_layer's modes ("random" alone: many weights)


def alike(build):
    """`build` drawing from fresh streams of seed 0, so each call makes the same layer: two
    layers whose parameter gradients depend on their weights (an activation after a linear map)
    must be equal for test_input_gradient_false_adds_what_backward_adds to compare them."""
    def make():
        with tinyml.use_seed(0):
            return build()
    return make


def random_parameters(layer, x):
    """A setup giving every parameter standard-normal values: a zero bias hides bias bugs."""
    rng = np.random.default_rng(3)
    for parameter in layer.parameters():
        parameter.data = tinyml.asarray(rng.standard_normal(tuple(parameter.data.shape)))


def functional(name, *args, **kwargs):
    """A torch twin ``torch.nn.functional.<name>(x, *args, **kwargs)``, a string in `args`
    naming a parameter."""
    return lambda torch, p, x: getattr(torch.nn.functional, name)(
        x, *(p[arg] if isinstance(arg, str) else arg for arg in args), **kwargs)
