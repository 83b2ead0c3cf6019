"""What the metrics share: checked arguments, and class indices from labels or score rows.

Everything here looks at shapes and dtypes only, never at values, so it costs the device
nothing: the streaming metrics run it on every batch.
"""

from ..backend import dtype_kind

CLASS_AXIS_HELP = "(N,) integer class indices or (N, C) rows (scores or one-hot)"


def class_indices(x, name, where, *, xp):
    r"""(N,) int64 class indices: 1-D integer `x` as it is, or the row-wise argmax of 2-D `x`.

    .. math:: \mathrm{index}_i = \operatorname{argmax}_c x_{ic}

    (the first largest entry wins a tie). Booleans are refused in 1-D (they are usually a mask,
    not labels); 2-D rows may hold any real numbers, booleans included (one-hot masks).
    """
    kind = dtype_kind(x)
    if x.ndim == 1:
        if kind == "b":
            raise TypeError(f"{where}: {name} are booleans; class indices must be integers. "
                            f"Cast them with xp.astype({name}, xp.int64) if True means class 1.")
        if kind not in "iu":
            raise TypeError(f"{where}: {name} of shape (N,) must be integer class indices; got "
                            f"dtype {x.dtype}. Cast them with xp.astype({name}, xp.int64), or "
                            "pass (N, C) rows.")
        return xp.astype(x, xp.int64, copy=False)
    if x.ndim == 2:
        if kind not in "biuf":
            raise TypeError(f"{where}: {name} rows must hold real numbers; got dtype {x.dtype}")
        rows = xp.astype(x, xp.int8) if kind == "b" else x
        return xp.astype(xp.argmax(rows, axis=1), xp.int64, copy=False)
    raise ValueError(f"{where}: {name} must be {CLASS_AXIS_HELP}; got shape {tuple(x.shape)}")


def require_scores(scores, name, where):
    """`scores` must be (N, C) rows of real numbers, C >= 1."""
    if scores.ndim != 2:
        raise ValueError(f"{where}: {name} must be (N, C) score rows (probabilities or logits); "
                         f"got shape {tuple(scores.shape)}")
    if dtype_kind(scores) not in "iuf":
        raise TypeError(f"{where}: {name} must hold real numbers; got dtype {scores.dtype}")


def check_lengths(first, second, names, where, *, allow_empty=False):
    """One row of `second` per row of `first`, and (unless `allow_empty`) at least one."""
    if first.shape[0] != second.shape[0]:
        raise ValueError(f"{where}: {names[0]} has {first.shape[0]} rows but {names[1]} has "
                         f"{second.shape[0]}; give one label per sample")
    if first.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{where}: no samples; give at least one")


def width_of(arrays, names, where, num_classes=None):
    """The class count the 2-D arrays among `arrays` agree on (and `num_classes` if given), or
    `num_classes` (None if unknown) when every array is 1-D."""
    width, source = num_classes, "num_classes"
    for array, name in zip(arrays, names, strict=True):
        if array.ndim != 2:
            continue
        if width is not None and array.shape[1] != width:
            raise ValueError(f"{where}: {name} has {array.shape[1]} columns but {source} says "
                             f"{width} classes; they must agree")
        width, source = array.shape[1], name
    return width


def check_num_classes(num_classes, where):
    """None, or an int >= 1."""
    if num_classes is None:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"{where}: num_classes must be an int; got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"{where}: num_classes must be >= 1; got {num_classes}")


def check_k(k, classes, where):
    """k must be an int in [1, classes]."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{where}: k must be an int; got {k!r}")
    if not 1 <= k <= classes:
        raise ValueError(f"{where}: k must be in [1, {classes}] (the number of classes); "
                         f"got {k}")
