"""Backend operations: what the Array API standard lacks or does slowly, done once portably
and, where a library offers better, natively.

Each operation (``Operation``) has one portable implementation in standard calls and
natives per library (``"numpy"``, ``"torch"``, ``"cupy"``, ``"ndonnx"``), picked by the
library of the arrays it is called on, the way array-api-extra delegates. Which natives a
library has is said by its adapter's ``natives`` (:mod:`tinyml.backend.adapters`), which names
each function in this package; they are registered from there when this package is imported.
Both paths give the same numbers (to rounding); the tests run each operation both ways.

=============================  ============================================  =======================
operation                      what                                          natives
=============================  ============================================  =======================
``scatter_add``                sums of rows grouped by an index              numpy torch cupy
``bag_scatter_add``            each bag's row added to its indices' rows     numpy
``im2col``                     windows of an image as columns                numpy torch cupy
``col2im_matmul``              ``W^T @ g`` added back into the windows       numpy torch cupy ndonnx
``conv2d``                     convolution forward                           numpy torch ndonnx
``conv2d_backward``            its dW, db and dx                             numpy torch
``conv_transpose2d``           transposed convolution forward                numpy torch
``conv_transpose2d_backward``  its dW, db and dx                             numpy torch
``max_pool2d``                 window maxima (a forward that keeps nothing)  numpy torch ndonnx
``max_pool2d_forward``         window maxima and the backward's routing      numpy torch
``max_pool2d_backward``        the gradient sent to each first maximum       numpy torch
``avg_pool2d``                 window means                                  numpy torch ndonnx
``avg_pool2d_backward``        their gradient spread over each window        numpy torch
``linear``                     whole layer computations for forwards that    ndonnx torch
``softmax``                    keep nothing for backward (each one ONNX      ndonnx
``log_softmax``                operator in an export)                        ndonnx
``recurrence``                 an RNN, LSTM or GRU over a sequence           ndonnx
``concat_steps``               per-step arrays as rows, in a reused buffer   numpy torch
``activation``                 an elementwise activation and its backward    numpy torch
``moment_sums``                sums (of squares) over axes 0 and 2           numpy
``normalize``                  mean and variance, centered and scaled        torch
``linear_backward``            a Linear's gradients, added into its grads    torch
``sgd_step``                   SGD's update of a list of parameters          torch
``zero_arrays``                zeros into a list of arrays (the gradients)   torch
=============================  ============================================  =======================

The ndonnx natives (:mod:`.ndonnx_natives`) emit one ONNX operator each for
``tinyml.onnx.export``.

On CuPy, the convolutions run their portable paths on the CuPy natives of im2col and
col2im_matmul (one kernel each) and cuBLAS.

Forcing the portable path (to debug a native, or to compare):

- ``with tinyml.backend.portable_ops(): ...`` for this thread or task, inside the block;
- ``TINYML_PORTABLE_OPS=1`` in the environment, read once, on the first operation called.

``op.implementation_for(x)`` says which one a call on ``x`` would run: ``"portable"`` or the
library's name. A native for a library tinyml has no adapter for is one decorator away::

    @tinyml.backend.ops.scatter_add.register("jax")
    def scatter_add_jax(indices, values, num_rows, *, xp): ...
"""

import importlib

from .. import adapters
from ._registry import PORTABLE_ENV_VAR, Operation, portable_forced, portable_ops
from .activations import activation
from .conv import conv2d, conv2d_backward, conv_transpose2d, conv_transpose2d_backward
from .dense import linear, linear_backward
from .moments import normalize
from .optimizers import sgd_step, zero_arrays
from .pool import (
    avg_pool2d,
    avg_pool2d_backward,
    first_maxima,
    gather_from_maxima,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
    max_windows,
    route_to_maxima,
)
from .recurrent import recurrence
from .reductions import moment_sums
from .scatter import bag_scatter_add, scatter_add
from .softmax import log_softmax, softmax
from .steps import concat_steps
from .windows import col2im_matmul, crop2d, im2col, pad2d, reach, window_slices

OPERATIONS = {op.name: op for op in (
    scatter_add, im2col, col2im_matmul, conv2d, conv2d_backward, conv_transpose2d,
    conv_transpose2d_backward, max_pool2d, max_pool2d_forward, max_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, linear, linear_backward, softmax, log_softmax, recurrence,
    concat_steps, bag_scatter_add, activation, moment_sums, normalize, sgd_step, zero_arrays)}


def _register_natives():
    """Register every adapter's natives: ``"module.function"`` in this package, imported now
    (a native imports its library inside its body, so nothing optional loads here)."""
    for adapter in adapters.ADAPTERS:
        for operation, where in adapter.natives.items():
            module, function = where.rsplit(".", 1)
            native = getattr(importlib.import_module(f"{__name__}.{module}"), function)
            OPERATIONS[operation].register(adapter.name)(native)


_register_natives()

__all__ = [
    "OPERATIONS",
    "PORTABLE_ENV_VAR",
    "Operation",
    "activation",
    "avg_pool2d",
    "avg_pool2d_backward",
    "bag_scatter_add",
    "col2im_matmul",
    "concat_steps",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "crop2d",
    "first_maxima",
    "gather_from_maxima",
    "im2col",
    "linear",
    "linear_backward",
    "log_softmax",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "max_windows",
    "moment_sums",
    "normalize",
    "pad2d",
    "portable_forced",
    "portable_ops",
    "reach",
    "recurrence",
    "route_to_maxima",
    "scatter_add",
    "sgd_step",
    "softmax",
    "window_slices",
    "zero_arrays",
]
