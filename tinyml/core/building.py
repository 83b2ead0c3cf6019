"""Building a stack of layers for the shape that enters it: each layer that left out its input
size (:mod:`tinyml.core.inferred`) gets the size that reaches it, every other one is checked
against it, and a layer that does not fit is named with the layer before it and the shape.
Net, Residual and Parallel build what they hold with :func:`build_stack`."""

from .checks import check_positive_int, format_shape


def sample_shape(shape):
    """`shape` as a tuple of positive ints: one sample's shape, without the batch axis."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"input_shape must be one sample's shape, a tuple of ints such as "
                        f"(1, 28, 28); got {shape!r}")
    if shape[0] is None:
        raise ValueError(f"input_shape is one sample's shape, without the batch axis; got "
                         f"{tuple(shape)}. Leave the None out: {tuple(shape[1:])}")
    return tuple(check_positive_int("input_shape", "each extent", extent) for extent in shape)


def is_built(layer):
    """False for a layer (or a Net) that still waits for its input size."""
    return getattr(layer, "built", True) is not False


def build_stack(layers, shape, owner):
    """Build (or check) each of `layers`, which run in order, for the batch-first `shape`
    that enters the first; the shape that leaves the last.

    A layer that cannot take what reaches it is a ValueError naming it, the layer before it
    (or `owner`'s input) and the shape, then the layer's own message (said once, however
    deep the layer sits). Net, Residual and Parallel build what they hold with it.
    """
    previous = None
    for layer in layers:
        try:
            shape = _build_one(layer, shape)
        except ValueError as error:
            if getattr(error, "names_the_chain", False):
                raise
            where = (f"cannot follow {previous.describe()}, which puts out" if previous else
                     f"cannot take the input of {owner.describe()},")
            chained = ValueError(f"{layer.describe()} {where} {format_shape(shape)}: {error}")
            chained.names_the_chain = True
            raise chained from None
        previous = layer
    return shape


def _build_one(layer, shape):
    """Build `layer` for `shape` if it builds from its input shape (it says so with
    ``builds_from_input = True``: tinyml's layers that may leave out their size, and the
    containers that hold such layers); otherwise only ask its output shape."""
    from .net import Net  # a Net is built by its own rule; net.py imports this module

    if isinstance(layer, Net):
        return layer._build_for(shape)
    if getattr(layer, "builds_from_input", False):
        return tuple(layer.build(shape))
    return tuple(layer.output_shape(shape))
