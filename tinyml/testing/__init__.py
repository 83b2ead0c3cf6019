"""Checks for layer authors (and tinyml's own tests): where an array lives, its gradients, and
the whole Layer contract in one call.

- :func:`check_layer` is the recipe for a layer's test: forward against your NumPy reference,
  backward against float64 central differences (element by element, or along random
  directions for layers with many weights), outputs in the backend's namespace, device and
  dtype, ``input_gradient=False``, records per call, and buffers untouched in eval mode.
- :func:`assert_close` asserts library, device, dtype and shape before it compares values, so
  a result that silently became NumPy fails; :func:`assert_on_backend` is the first half alone.
- :func:`check_layer_gradients` (the gradient part of check_layer), :func:`check_loss_gradient`
  and :func:`numerical_gradient` / :func:`numerical_directional_derivative` for finer work.

The pytest plugin :mod:`tinyml.testing.plugin` gives your own test suite the fixtures
tinyml's tests use: ``backend`` (each installed backend in turn, current and in float64:
numpy, array_api_strict on a non-default device, torch on the CPU, cupy marked ``gpu``;
narrowed by ``TINYML_TEST_BACKENDS=numpy,torch``) and ``backend32`` (the same in float32).
Enable it with ``pytest -p tinyml.testing.plugin``, or in your root ``conftest.py``::

    pytest_plugins = ["tinyml.testing.plugin"]

Then a layer's test is a few lines::

    def test_my_layer(backend):
        check_layer(MyLayer("mine", 4), x, reference=lambda x, params: x @ params["weight"].T)

A layer of several inputs, a tuple state or options gets an :class:`Inputs`:
``check_layer(cell, Inputs(x, (h, c)))`` checks ``cell.forward(x, (h, c))``, its tuple output
and the gradients of ``x``, ``h`` and ``c``.
"""

from .assertions import TOLERANCES, assert_close, assert_on_backend
from .gradients import (
    check_layer_gradients,
    check_loss_gradient,
    numerical_directional_derivative,
    numerical_gradient,
)
from .recipe import LayerCheck, check_layer
from .structure import Inputs

__all__ = [
    "TOLERANCES",
    "Inputs",
    "LayerCheck",
    "assert_close",
    "assert_on_backend",
    "check_layer",
    "check_layer_gradients",
    "check_loss_gradient",
    "numerical_directional_derivative",
    "numerical_gradient",
]
