"""Backend operations: what the Array API standard lacks or does slowly, done once portably
and, where a library offers better, natively.

Each operation (:class:`Operation`) has one portable implementation in standard calls and
natives registered per library (``"numpy"``, ``"torch"``, ``"cupy"``), picked by the library of
the arrays it is called on, the way array-api-extra delegates. Both paths give the same numbers
(to rounding); the tests run each operation both ways.

Forcing the portable path (to debug a native, or to compare):

- ``with tinyml.backend.portable_ops(): ...`` for this thread or task, inside the block;
- ``TINYML_PORTABLE_OPS=1`` in the environment, read once, on the first operation called.

``op.implementation_for(x)`` says which one a call on ``x`` would run: ``"portable"`` or the
library's name. A native for another library is one decorator away::

    @tinyml.backend.ops.scatter_add.register("jax")
    def scatter_add_jax(indices, values, num_rows, *, xp): ...
"""

from ._registry import PORTABLE_ENV_VAR, Operation, portable_forced, portable_ops
from .scatter import scatter_add
from .windows import col2im_matmul, im2col, reach, window_slices

OPERATIONS = {op.name: op for op in (scatter_add, im2col, col2im_matmul)}

__all__ = [
    "OPERATIONS",
    "PORTABLE_ENV_VAR",
    "Operation",
    "col2im_matmul",
    "im2col",
    "portable_forced",
    "portable_ops",
    "reach",
    "scatter_add",
    "window_slices",
]
