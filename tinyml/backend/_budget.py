"""A bound on what building layers may allocate, for building from a description that is not
trusted (the architecture stored in a weights file).

``tinyml.load_net`` knows, from the file's headers, how many arrays and values its weights
hold; a config that asks for more (a 200000 x 200000 Linear in a 1 KB file) does not describe
those weights. Inside :func:`allocation_budget` every array the backend is asked to create
(:meth:`Backend.zeros`, ``ones``, ``uniform``, ``normal``: what initializers and layers build
with) is checked against what is left BEFORE it is allocated, and every Parameter and Buffer
made is counted; going past the budget raises :class:`AllocationRefused`. Outside the block
nothing is checked.
"""

import contextlib
import contextvars
import math

_current = contextvars.ContextVar("tinyml_allocation_budget", default=None)


class AllocationRefused(ValueError):
    """Building asked for more than :func:`allocation_budget` allows."""


class _Budget:
    def __init__(self, values, arrays):
        self.values, self.arrays = values, arrays
        self.held_values, self.held_arrays = 0, 0

    def check(self, shape):
        shape = _as_shape(shape)
        size = math.prod(shape)
        left = self.values - self.held_values
        if size > left:
            raise AllocationRefused(
                f"building it asks for an array of shape {tuple(shape)} ({size:,} values), "
                f"more than the {left:,} values left of the {self.values:,} that the stored "
                "weights hold in all")

    def hold(self, shape):
        self.held_values += math.prod(_as_shape(shape))
        self.held_arrays += 1
        if self.held_values > self.values or self.held_arrays > self.arrays:
            raise AllocationRefused(
                f"building it makes {self.held_arrays:,} parameters and buffers of "
                f"{self.held_values:,} values so far, more than the {self.arrays:,} arrays of "
                f"{self.values:,} values that the stored weights hold")


@contextlib.contextmanager
def allocation_budget(values, arrays):
    """Inside the block, the layers built may hold at most `arrays` parameters and buffers of
    `values` values in all, and no single array is allocated past what is left."""
    token = _current.set(_Budget(values, arrays))
    try:
        yield
    finally:
        _current.reset(token)


def claim(shape):
    """Refuse (AllocationRefused) an array of `shape` that would not fit the current budget,
    before it is allocated; nothing without a budget."""
    budget = _current.get()
    if budget is not None:
        budget.check(shape)


def hold(shape):
    """Count a Parameter or Buffer of `shape` against the current budget, if any."""
    budget = _current.get()
    if budget is not None:
        budget.hold(shape)


def _as_shape(shape):
    return (int(shape),) if isinstance(shape, int) else tuple(int(size) for size in shape)
