"""Backend operations: what the Array API standard lacks or does slowly, done once portably
and, where a library offers better, natively.

Each operation (:class:`Operation`) has one portable implementation in standard calls and
natives registered per library (``"numpy"``, ``"torch"``, ``"cupy"``, ``"ndonnx"``), picked by
the library of the arrays it is called on, the way array-api-extra delegates. Both paths give
the same numbers (to rounding); the tests run each operation both ways.

The operations: ``scatter_add``; the window transforms ``im2col`` and ``col2im_matmul``; and
whole layer computations for forwards that keep nothing for backward, ``conv2d``,
``max_pool2d``, ``avg_pool2d``, ``linear``, ``softmax``, ``log_softmax`` and ``recurrence``
(an RNN, LSTM or GRU over a sequence), whose ndonnx natives (:mod:`.ndonnx_natives`) emit one
ONNX operator each for ``tinyml.onnx.export``.

Forcing the portable path (to debug a native, or to compare):

- ``with tinyml.backend.portable_ops(): ...`` for this thread or task, inside the block;
- ``TINYML_PORTABLE_OPS=1`` in the environment, read once, on the first operation called.

``op.implementation_for(x)`` says which one a call on ``x`` would run: ``"portable"`` or the
library's name. A native for another library is one decorator away::

    @tinyml.backend.ops.scatter_add.register("jax")
    def scatter_add_jax(indices, values, num_rows, *, xp): ...
"""

from . import ndonnx_natives  # noqa: F401  (registers the ndonnx natives; imports no ndonnx)
from ._registry import PORTABLE_ENV_VAR, Operation, portable_forced, portable_ops
from .convolution import conv2d
from .dense import linear
from .pooling import avg_pool2d, max_pool2d
from .recurrent import recurrence
from .scatter import scatter_add
from .softmax import log_softmax, softmax
from .windows import col2im_matmul, crop2d, im2col, pad2d, reach, window_slices

OPERATIONS = {op.name: op for op in (scatter_add, im2col, col2im_matmul, conv2d, max_pool2d,
                                     avg_pool2d, linear, softmax, log_softmax, recurrence)}

__all__ = [
    "OPERATIONS",
    "PORTABLE_ENV_VAR",
    "Operation",
    "avg_pool2d",
    "col2im_matmul",
    "conv2d",
    "crop2d",
    "im2col",
    "linear",
    "log_softmax",
    "max_pool2d",
    "pad2d",
    "portable_forced",
    "portable_ops",
    "reach",
    "recurrence",
    "scatter_add",
    "softmax",
    "window_slices",
]
