"""Merges: layers whose forward takes a list of arrays, Add, Multiply and Concatenate.

A merge's ``forward([x_0, ..., x_{n-1}])`` returns one array and its ``backward(g)`` returns
the list ``[dL/dx_0, ..., dL/dx_{n-1}]`` (None with ``input_gradient=False``); its
``output_shape`` takes the list of input shapes. Inside a Net they sit in a
:class:`~tinyml.layers.Parallel`, which hands them its branches' outputs.
"""

from ..backend import array_namespace
from ..core import Layer, format_shape
from ..core.params import Integer
from .act_fn import ACT_FN, make_activation


class _Merge(Layer):
    """What the merges share: the list of inputs checked, and the shapes compared."""

    def _inputs_namespace(self, inputs):
        """The namespace of the arrays in `inputs`, a list of at least two floating arrays."""
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"{self.describe()} takes a list of arrays, one per input; got "
                            f"{type(inputs).__name__}. Call it on [x_0, x_1, ...], or use it "
                            "as the merge of a Parallel.")
        if len(inputs) < 2:
            raise ValueError(f"{self.describe()} merges at least two inputs; got "
                             f"{len(inputs)}")
        xp = array_namespace(*inputs, names=lambda: [f"input {i}" for i in range(len(inputs))],
                             where=self.describe)
        for index, x in enumerate(inputs):
            if not xp.isdtype(x.dtype, "real floating"):
                raise TypeError(f"{self.describe()} expects floating-point input; got "
                                f"{x.dtype} for input {index}. Cast it first (Learner.fit and "
                                "predict cast for you).")
        return xp

    def _shapes(self, input_shapes):
        """`input_shapes` as a list of tuples, or a ValueError saying a list is needed."""
        if (not isinstance(input_shapes, (list, tuple)) or len(input_shapes) < 2
                or not all(isinstance(shape, (list, tuple)) for shape in input_shapes)):
            raise ValueError(f"{self.describe()} takes a list of at least two input shapes, "
                             f"one per input; got {input_shapes!r}. A merge sits in a Parallel, "
                             "not directly in a Net.")
        return [tuple(shape) for shape in input_shapes]

    def _same_shapes(self, input_shapes, *, skip_axis=None):
        """The common shape of `input_shapes` (None where unknown), ValueError if two differ;
        `skip_axis` is left out of the comparison (and None in the result)."""
        shapes = self._shapes(input_shapes)
        common = list(shapes[0])
        for index, shape in enumerate(shapes[1:], start=1):
            if len(shape) != len(common):
                raise self._mismatch(shapes, index, skip_axis)
            for axis, (have, got) in enumerate(zip(common, shape, strict=True)):
                if axis == skip_axis or got is None:
                    continue
                if have is None:
                    common[axis] = got
                elif have != got:
                    raise self._mismatch(shapes, index, skip_axis)
        return common

    def _mismatch(self, shapes, index, skip_axis):
        but = "" if skip_axis is None else f" but along axis {skip_axis}"
        return ValueError(f"{self.describe()} needs inputs of one shape{but}; input 0 has "
                          f"shape {format_shape(shapes[0], unknown='None')} and input {index} "
                          f"{format_shape(shapes[index], unknown='None')}")


class _Elementwise(_Merge):
    """Add and Multiply: same-shaped inputs, an optional activation after the merge."""

    declared_arguments = {"act_fn": ACT_FN}

    def __init__(self, name, *, act_fn=None):
        super().__init__(name)
        self.act_fn = act_fn  # as given (a name, a layer or None); the layer built from it:
        self.activation = make_activation(act_fn, self)

    def output_shape(self, input_shapes):
        shape = tuple(self._same_shapes(input_shapes))
        return shape if self.activation is None else self.activation.output_shape(shape)

    def forward(self, input):
        xp = self._inputs_namespace(input)
        output_shape = self.output_shape([tuple(x.shape) for x in input])
        merged = self._merge(input, xp)
        self.save_for_backward(*self._kept(input), output_shape=output_shape)
        return merged if self.activation is None else self.activation.forward(merged)

    def backward(self, in_gradient, *, input_gradient=True):
        xp, *kept = self.saved(in_gradient)
        if self.activation is not None:
            in_gradient = self.activation.backward(in_gradient, input_gradient=input_gradient)
        if not input_gradient:
            return None
        return self._gradients(in_gradient, kept, xp)

    def _kept(self, inputs):
        return (len(inputs),)


class Add(_Elementwise):
    r"""The sum of same-shaped inputs, optionally activated.

    Parameters
    ----------
    name : str
    act_fn : None, str or Layer, keyword-only
        An activation applied to the sum: a name (``"relu"``, ``"sigmoid"``, ...; see
        :mod:`tinyml.layers.act_fn`) or an activation layer.

    Shape
    -----
    forward takes a list of n >= 2 arrays of one shape and returns one of that shape;
    backward returns a list of n gradients of that shape.

    Notes
    -----
    Forward: :math:`s = \sum_i x_i`, :math:`y = f(s)` (:math:`f` the identity without
    ``act_fn``). Backward, with :math:`g = \partial L/\partial y` and
    :math:`g_s = f'(s) \odot g` the activation's backward:

    .. math:: \partial L/\partial x_i = g_s \quad \text{for every } i

    The same array for every input (not a copy): callers must not change it in place.
    """

    def _merge(self, inputs, xp):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total

    def _gradients(self, gradient, kept, xp):
        (count,) = kept
        return [gradient] * count


class Multiply(_Elementwise):
    r"""The elementwise product of same-shaped inputs, optionally activated.

    Parameters
    ----------
    name : str
    act_fn : None, str or Layer, keyword-only
        An activation applied to the product: a name (``"relu"``, ``"sigmoid"``, ...) or an
        activation layer.

    Shape
    -----
    As :class:`Add`.

    Notes
    -----
    Forward: :math:`p = \prod_i x_i`, :math:`y = f(p)`. Backward, with
    :math:`g_p = f'(p) \odot \partial L/\partial y`:

    .. math:: \partial L/\partial x_i = g_p \odot \prod_{j \ne i} x_j

    computed from prefix and suffix products (2n multiplies, no division, so zeros in the
    inputs are exact).
    """

    def _merge(self, inputs, xp):
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product

    def _kept(self, inputs):
        return tuple(inputs)

    def _gradients(self, gradient, kept, xp):
        # before[i] = g * x_0 ... x_{i-1}; then multiply by x_{i+1} ... x_{n-1} from the right.
        before = [gradient]
        for x in kept[:-1]:
            before.append(before[-1] * x)
        gradients, after = [None] * len(kept), None
        for index in range(len(kept) - 1, -1, -1):
            gradients[index] = before[index] if after is None else before[index] * after
            after = kept[index] if after is None else after * kept[index]
        return gradients


class Concatenate(_Merge):
    r"""Inputs joined along one axis (channels by default).

    Parameters
    ----------
    name : str
    axis : int, keyword-only
        The axis to join along; 1 is the feature axis of (N, F) and the channel axis of
        (N, C, H, W). Negative counts from the end.

    Shape
    -----
    forward takes a list of n >= 2 arrays equal in shape but along `axis`, and returns the
    array whose extent along `axis` is the sum of theirs; backward returns n gradients, one
    per input shape.

    Notes
    -----
    Forward: :math:`y = [x_0; x_1; \ldots]` along the axis, so input i fills the slice
    :math:`o_i \le k < o_i + d_i` with :math:`o_i = \sum_{j<i} d_j`.
    Backward: :math:`\partial L/\partial x_i = g[\ldots, o_i : o_i + d_i, \ldots]`, a view of
    the gradient (callers must not change it in place).
    """

    declared_arguments = {"axis": Integer(None)}  # any int; the inputs' rank checks the range

    def __init__(self, name, *, axis=1):
        super().__init__(name, axis=axis)

    def _axis(self, rank):
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self.describe()}: axis {self.axis} is out of range for inputs "
                             f"of {rank} dimensions")
        return self.axis % rank

    def output_shape(self, input_shapes):
        shapes = self._shapes(input_shapes)
        axis = self._axis(len(shapes[0]))
        common = self._same_shapes(shapes, skip_axis=axis)
        extents = [shape[axis] for shape in shapes]
        common[axis] = None if None in extents else sum(extents)
        return tuple(common)

    def forward(self, input):
        xp = self._inputs_namespace(input)
        output_shape = self.output_shape([tuple(x.shape) for x in input])
        axis = self._axis(len(output_shape))
        self.save_for_backward(axis, tuple(x.shape[axis] for x in input), output_shape=output_shape)
        return xp.concat(list(input), axis=axis)

    def backward(self, in_gradient, *, input_gradient=True):
        _, axis, extents = self.saved(in_gradient)
        if not input_gradient:
            return None
        gradients, start, before = [], 0, (slice(None),) * axis
        for extent in extents:  # the trailing ... is the Array API's spelling of "the rest"
            gradients.append(in_gradient[(*before, slice(start, start + extent), ...)])
            start += extent
        return gradients
