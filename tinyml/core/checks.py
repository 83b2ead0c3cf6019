"""Argument checks and shape formatting that layers, nets and the loop share."""

from .params import Integer, Sizes


def check_positive_int(owner, argument, value, minimum=1):
    """`value` as an int, or a ValueError/TypeError naming `owner` and `argument` (the
    :class:`~tinyml.core.params.Integer` rule, for checks outside a declaration)."""
    return Integer(minimum).check(owner, argument, value, {})


def check_input_dim(owner, input_dim, rank):
    """`input_dim` as a tuple of `rank` positive ints, such as (C, H, W) for images (the
    :class:`~tinyml.core.params.Sizes` rule, for checks outside a declaration)."""
    return Sizes(rank).check(owner, "input_dim", input_dim, {})


def reshape_target(shape):
    """`shape` as ``xp.reshape`` takes it: an unknown batch extent (None, as ndonnx gives the
    dynamic batch of an ONNX export) becomes -1, which reshape infers from the size."""
    return shape if shape[0] is not None else (-1, *shape[1:])


def counted(count, noun):
    """``"1 epoch"``, ``"0 epochs"``, ``"3 epochs"``: a count with its noun, plural unless 1."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_shape(shape, unknown="batch"):
    """``(batch, 784)`` for (None, 784); ``(3,)`` for a 1-tuple; "?" for no shape at all."""
    if shape is None:
        return "?"
    inner = ", ".join(unknown if extent is None else str(extent) for extent in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def channels_hint(argument, declared, got):
    """The fix when an image batch `got` and a layer's `declared` (C, H, W) differ only by where
    the channels are: tinyml's images are NCHW, channels first. "" otherwise."""
    if declared is None or len(got) != 4:
        return ""
    c, h, w = declared
    if tuple(got[1:]) == (h, w, c):
        return ("Images are NCHW (channels first), and this batch is channels-last (N, H, W, C): "
                "move the channels with x.transpose(0, 3, 1, 2).")
    if tuple(got[1:]) == (w, c, h):
        return (f"{argument}={tuple(declared)} puts the channels last; images are NCHW "
                f"(channels first): {argument}={(w, c, h)}.")
    return ""


def shape_error(layer, expected, got, fix=""):
    """The ValueError a layer raises for an input of the wrong shape."""
    message = f"{layer.describe()} expects input of shape {expected}; got {format_shape(got)}."
    return ValueError(message + (f" {fix}" if fix else ""))


def unravel_index(flat_index, shape):
    """The position (a tuple of ints) of element `flat_index` of an array of `shape`, in
    row-major order, as ``numpy.unravel_index`` (for messages that name a bad entry)."""
    index = []
    for extent in reversed(shape):
        index.append(flat_index % extent)
        flat_index //= extent
    return tuple(reversed(index))
