"""The inputs of one forward call, and the nested tuples of arrays that go in and come out.

Most layers take one array and return one. Some take a list of arrays (the merges), several
positional inputs (a recurrent cell's ``forward(x, state)``, attention's ``forward(q, k, v)``),
a tuple state (an LSTM cell's ``(h, c)``), or options such as a mask; some return a tuple of
arrays. The checks see all of these as trees: nested tuples and lists whose leaves are arrays.
:class:`Inputs` says which positional and keyword arguments one call gets:

    check_layer(cell, Inputs(x, (h, c)))          # cell.forward(x, (h, c))
    check_layer(attention, Inputs(q, k, v, mask=m))

Floating leaves of the positional arguments are differentiated; integer and boolean leaves
(token indices) are not, and backward must return None in their place. Keyword arguments are
options, never differentiated.
"""

import numpy as np

from ..backend import is_floating, to_numpy


class Inputs:
    """The positional and keyword arguments of one ``layer.forward(*args, **kwargs)`` call."""

    def __init__(self, *args, **kwargs):
        if not args:
            raise ValueError("Inputs needs at least one positional input")
        self.args, self.kwargs = args, kwargs

    def map(self, fn):
        """The same call with `fn` applied to every array leaf (keyword arrays too)."""
        return Inputs(*map_leaves(fn, self.args), **{key: map_leaves(fn, value) for key, value
                                                     in self.kwargs.items()})

    def __repr__(self):
        shapes = map_leaves(lambda a: tuple(a.shape), self.args)
        return f"Inputs{shapes}" + (f" with {sorted(self.kwargs)}" if self.kwargs else "")


def as_inputs(x):
    """`x` as an :class:`Inputs`: one positional input unless it already is one (a list of
    arrays is ONE input, the merges' list)."""
    return x if isinstance(x, Inputs) else Inputs(x)


def is_leaf(value):
    return hasattr(value, "shape") and not isinstance(value, (tuple, list))


def map_leaves(fn, tree):
    """`tree` with `fn` applied to each array leaf; tuples stay tuples, lists lists, None None."""
    if is_leaf(tree):
        return fn(tree)
    if isinstance(tree, (tuple, list)):
        return type(tree)(map_leaves(fn, each) for each in tree)
    return tree


def leaves(tree, path=()):
    """[(path, leaf)] of the array leaves of `tree`, depth first; a path is a tuple of indices."""
    if is_leaf(tree):
        return [(path, tree)]
    if isinstance(tree, (tuple, list)):
        return [pair for index, each in enumerate(tree) for pair in leaves(each, (*path, index))]
    return []


def replace_leaf(tree, path, value):
    """A copy of `tree`'s containers with the leaf at `path` replaced by `value`."""
    if not path:
        return value
    items = list(tree)
    items[path[0]] = replace_leaf(items[path[0]], path[1:], value)
    return type(tree)(items)


def host_copy(x):
    """A host copy of array `x`: floating as float64, integers and booleans as they are."""
    host = np.array(to_numpy(x), copy=True)
    return host.astype(np.float64) if host.dtype.kind == "f" else host


def differentiable(leaf):
    """True for a floating array (of any library): what finite differences can move."""
    return is_floating(leaf)


def shapes_of(tree):
    """The shape of each leaf of `tree` (tuples of ints), nested as `tree` is."""
    return map_leaves(lambda a: tuple(a.shape), tree)


def input_name(call, path):
    """How messages name the input at `path` of ``call.args``: ``input`` for a single array,
    ``input 1`` for the second of a list or of several inputs, ``input 1[0]`` inside a tuple."""
    if len(call.args) == 1:
        path = path[1:]
    if not path:
        return "input"
    return f"input {path[0]}" + "".join(f"[{index}]" for index in path[1:])


def forward_args(call):
    """The positional argument(s) as a reference function gets them: the single input itself,
    or the tuple of several."""
    return call.args[0] if len(call.args) == 1 else tuple(call.args)


def output_shapes(layer, call):
    """``layer.output_shape`` of the call's input shapes (positional shapes, nested alike)."""
    return layer.output_shape(*shapes_of(call.args))


def gradient_for_args(call, gradient):
    """The gradient backward returned, as one tree per positional argument."""
    return (gradient,) if len(call.args) == 1 else gradient


def same_shape_tree(a, b):
    """True when shape trees `a` and `b` (shapes are tuples of ints) are the same."""
    def norm(tree):
        if isinstance(tree, (tuple, list)) and all(isinstance(e, (int, np.integer)) or e is None
                                                   for e in tree):
            return ("shape", tuple(tree))
        if isinstance(tree, (tuple, list)):
            return tuple(norm(each) for each in tree)
        return tree
    return norm(a) == norm(b)
