"""Containers that branch: Residual (``y = x + f(x)``) and Parallel (branches, then a merge).

Both hold their layers in plain lists, so discovery keys the inner layers by their own names
(``"res.fc.weight"``, ``"par.conv.bias"``), and run them with Net's rules: the inner layers
keep their own records, one per call, so a container called several times before backward is
backpropagated by as many backward calls, in reverse. They live with the layers, not in the
core, because Parallel builds the merge layers of :mod:`tinyml.layers.merge` by name.
"""

from ..core import Layer
from ..core.building import build_stack
from ..core.net import backward_through
from ..core.structure import LayerList
from .merge import Add, Concatenate, Multiply

MERGES = {"add": Add, "multiply": Multiply, "concat": Concatenate}


def _forward_through(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def _stack_shape(layers, shape):
    """What `layers` make of `shape` (None when unknown)."""
    for layer in layers:
        shape = None if shape is None else layer.output_shape(shape)
    return shape


def _declared(layers):
    return layers[0].declared_input_shape() if layers else None


class _Container(Layer):
    """The checks Residual and Parallel share on the layers they are given."""

    builds_from_input = True  # build(input_shape) builds the layers they hold, as a Net does

    def _stack(self, layers, what, named):
        """`layers` as a list of Layers, each name new to `named` ({name: layer}, updated)."""
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"{self.describe()}: {what} must be a list of layers; got "
                            f"{type(layers).__name__}. Wrap a single layer: [layer]")
        for layer in layers:
            self._check_member(layer, what, named)
        return LayerList(layers)

    def _check_member(self, layer, what, named):
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.describe()}: {what} holds {type(layer).__name__}, not a "
                            "tinyml Layer")
        if layer.name is None:
            raise ValueError(f"{self.describe()}: a Net in {what} needs a name, which starts "
                             "its state_dict keys: Net([...], name='block')")
        if named.get(layer.name, layer) is not layer:
            raise ValueError(f"{self.describe()} already holds a layer named "
                             f"{layer.name!r}; layer names key the state_dict, so each must "
                             "be unique within the container")
        if getattr(layer, "return_index", False):
            raise ValueError(f"{layer.describe()} has return_index=True and returns (output, "
                             f"indices); {self.describe()} passes one array between layers. "
                             "Use return_index=False.")
        named[layer.name] = layer


class Residual(_Container):
    r"""A residual block: the input added to what a stack of layers makes of it.

    Parameters
    ----------
    name : str
    layers : list of Layer
        The stack f, run in order; it must give back the shape it takes. Inner layers key as
        ``"{name}.{layer name}.{parameter}"``.

    Shape
    -----
    input (N, ...) -> output of the same shape.

    Notes
    -----
    Forward: :math:`y = x + f(x)`. Backward, given :math:`g = \partial L/\partial y`, with
    :math:`J_f^\top g` what the stack's backward returns (it adds its parameter gradients):

    .. math:: \partial L/\partial x = g + J_f^\top g

    With ``input_gradient=False`` the stack is asked for parameter gradients only and stops at
    its first trainable layer, as :meth:`tinyml.Net.backward` does; the layers before it keep their
    records until ``clear_records()`` (the training step calls it first).

    Examples
    --------
    >>> from tinyml.layers import Conv2D, ReLu, Residual
    >>> block = Residual("res1", [Conv2D("conv", (8, 8, 8), 8, 3, 3, 1, 1), ReLu("relu")])
    >>> list(block.state_dict())
    ['conv.weight', 'conv.bias']
    """

    def __init__(self, name, layers):
        super().__init__(name)
        self.layers = self._stack(layers, "layers", {})
        if not self.layers:
            raise ValueError(f"{self.describe()} needs at least one layer: with none it would "
                             "double its input")
        declared = _declared(self.layers)
        if declared is not None:
            self._check_keeps(declared, _stack_shape(self.layers, declared))

    def _check_keeps(self, shape, result):
        if result is not None and tuple(result[1:]) != tuple(shape[1:]):
            raise ValueError(
                f"{self.describe()}: its layers turn input of shape "
                f"{tuple(shape)} into {tuple(result)}; y = x + f(x) needs them to keep the "
                "shape. Change their sizes, or use a Parallel with a projection branch."
            )

    def declared_input_shape(self):
        return _declared(self.layers)

    def build(self, input_shape):
        """Build (or check) the stack for `input_shape`, batch first, as a Net builds its
        layers (layers may leave out their input size); returns the output shape."""
        self._check_keeps(input_shape, build_stack(self.layers, tuple(input_shape), self))
        return tuple(input_shape)

    def output_shape(self, input_shape):
        self._check_keeps(input_shape, _stack_shape(self.layers, tuple(input_shape)))
        return tuple(input_shape)

    def summary_stacks(self, input_shape):
        """[(layers, input shape)] for ``Net.summary``: the stack, from this block's input."""
        return [(self.layers, input_shape)]

    def forward(self, input):
        self._input_namespace(input)
        transformed = _forward_through(self.layers, input)
        self._check_keeps(tuple(input.shape), tuple(transformed.shape))
        self.save_for_backward(output_shape=input.shape)
        return input + transformed

    def backward(self, in_gradient, *, input_gradient=True):
        self.saved(in_gradient)
        through = backward_through(self.layers, in_gradient, input_gradient=input_gradient)
        return in_gradient + through if input_gradient else None


class Parallel(_Container):
    r"""Branches that each take the same input, their outputs merged into one.

    Parameters
    ----------
    name : str
    branches : list of lists of Layer
        At least two; each a stack run in order. An empty list is the identity (a skip
        connection). Names must be unique across all branches: inner layers key as
        ``"{name}.{layer name}.{parameter}"``. The same layer object may appear in two
        branches (shared weights).
    merge : ``"add"``, ``"multiply"``, ``"concat"`` or Layer
        How the branch outputs become one: :class:`Add`, :class:`Multiply` or
        :class:`Concatenate` (axis 1), built as ``"{name}_{merge}"``, or a merge layer given
        as is (any layer whose forward takes the list of branch outputs and whose backward
        returns a list of their gradients).

    Shape
    -----
    input (N, ...) -> the merge's output for the branches' outputs.

    Notes
    -----
    Forward: :math:`y = m(f_1(x), \ldots, f_n(x))`. Backward, with
    :math:`[g_1, \ldots, g_n]` what the merge's backward returns for
    :math:`g = \partial L/\partial y`:

    .. math:: \partial L/\partial x = \sum_i J_{f_i}^\top g_i

    The branches are backpropagated in reverse (a layer shared by two branches consumes its
    records last in, first out). With ``input_gradient=False`` each branch is asked for
    parameter gradients only, stopping at its first trainable layer, and the whole backward is
    skipped when neither the branches nor the merge train.

    Examples
    --------
    >>> from tinyml.layers import Linear, Parallel, ReLu
    >>> block = Parallel("par", [[Linear("fc", 4, 4), ReLu("relu")], []], "add")
    >>> list(block.state_dict())
    ['fc.weight', 'fc.bias']
    """

    def __init__(self, name, branches, merge):
        super().__init__(name)
        if not isinstance(branches, (list, tuple)) or len(branches) < 2:
            kind = ValueError if isinstance(branches, (list, tuple)) else TypeError
            raise kind(f"{self.describe()}: branches must be a list of at least two branches, "
                       f"each a list of layers ([] for the identity); got {branches!r}")
        named = {}
        self.branches = LayerList(self._stack(branch, f"branch {index}", named)
                                  for index, branch in enumerate(branches))
        self.merge = self._merge_layer(merge)
        self._check_member(self.merge, "merge", named)

    def _merge_layer(self, merge):
        if isinstance(merge, Layer):
            return merge
        if isinstance(merge, str) and merge.lower() in MERGES:
            return MERGES[merge.lower()](f"{self.name}_{merge.lower()}")
        kind = ValueError if isinstance(merge, str) else TypeError
        raise kind(f"{self.describe()}: unknown merge {merge!r}; choose one of "
                   f"{', '.join(repr(name) for name in MERGES)}, or pass a merge layer "
                   "(Add, Multiply, Concatenate, ...)")

    def declared_input_shape(self):
        return next((shape for shape in map(_declared, self.branches) if shape is not None),
                    None)

    def _branch_shapes(self, input_shape):
        return [_stack_shape(branch, input_shape) for branch in self.branches]

    def build(self, input_shape):
        """Build (or check) every branch for `input_shape`, batch first, as a Net builds its
        layers; returns the merge's output shape."""
        input_shape = tuple(input_shape)
        return self.merge.output_shape([build_stack(branch, input_shape, self)
                                        for branch in self.branches])

    def output_shape(self, input_shape):
        return self.merge.output_shape(self._branch_shapes(tuple(input_shape)))

    def summary_stacks(self, input_shape):
        """[(layers, input shape)] for ``Net.summary``: each branch from this block's input,
        then the merge from the branches' outputs (None when one is unknown)."""
        outputs = None if input_shape is None else self._branch_shapes(tuple(input_shape))
        return [*((branch, input_shape) for branch in self.branches), ([self.merge], outputs)]

    def forward(self, input):
        self._input_namespace(input)
        output = self.merge.forward([_forward_through(branch, input)
                                     for branch in self.branches])
        self.save_for_backward(output_shape=output.shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        self.saved(in_gradient)
        wanted = input_gradient or any(_trains(branch) for branch in self.branches)
        gradients = self.merge.backward(in_gradient, input_gradient=wanted)
        if not wanted:
            return None
        if not isinstance(gradients, (list, tuple)) or len(gradients) != len(self.branches):
            raise TypeError(f"{self.describe()}: its merge {self.merge.describe()} must return "
                            f"a list of {len(self.branches)} gradients, one per branch; got "
                            f"{type(gradients).__name__}")
        total = None
        for branch, gradient in reversed(list(zip(self.branches, gradients, strict=True))):
            through = backward_through(branch, gradient, input_gradient=input_gradient)
            if input_gradient:
                total = through if total is None else total + through
        return total


def _trains(layers):
    return any(p.trainable for layer in layers for p in layer.parameters())

