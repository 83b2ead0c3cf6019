"""What the losses share: the namespace of a (prediction, labels) pair, and checked targets.

None of these reads an array's values: a range check (class indices in [0, C), probabilities
in [0, 1]) would make the device report back on every call. ``Learner.fit`` checks class
indices once, on the host; everything else here is shapes and dtypes.
"""

from ..backend import array_namespace, device_of, dtype_kind, is_floating, is_integral


def namespace(predicted, ground_truth, who):
    """The namespace shared by `predicted` and `ground_truth`; refuses a mix of backends."""
    return array_namespace(predicted, ground_truth, names=["predicted", "ground_truth"],
                           where=who)


def require_floating(predicted, who):
    if not is_floating(predicted):
        raise TypeError(f"{who}: predicted must be floating point; got {predicted.dtype}")


def count_of(shape):
    """How many elements an array of `shape` holds (a Python int)."""
    count = 1
    for extent in shape:
        count *= extent
    return count


def same_shape_targets(predicted, ground_truth, xp, who):
    """`ground_truth` in the prediction's dtype, after checking it has the very same shape.

    No broadcasting: a (N,) target against (N, 1) predictions is a bug more often than a wish.
    Real targets of any dtype (bool, integer, floating) are accepted and cast.
    """
    if tuple(ground_truth.shape) != tuple(predicted.shape):
        raise ValueError(f"{who}: ground_truth has shape {tuple(ground_truth.shape)} but "
                         f"predicted has {tuple(predicted.shape)}; they must match exactly")
    require_floating(predicted, who)
    if dtype_kind(ground_truth) not in "biuf":
        raise TypeError(f"{who}: ground_truth must hold real numbers; got dtype "
                        f"{ground_truth.dtype}")
    return xp.astype(ground_truth, predicted.dtype)


def _checked_class_labels(predicted, ground_truth, who):
    """Check (N, C) predictions against class indices (N,) or one-hot (N, C) labels.

    Returns True for class indices, False for one-hot (or soft) rows.
    """
    require_floating(predicted, who)
    if predicted.ndim != 2:
        raise ValueError(f"{who}: predicted must have shape (N, C); got "
                         f"{tuple(predicted.shape)}. Flatten it or pick the class axis first.")
    n, classes = predicted.shape
    if ground_truth.ndim == 1:
        if not is_integral(ground_truth):
            raise TypeError(f"{who}: class-index labels must be integers; got dtype "
                            f"{ground_truth.dtype}. Pass one-hot labels of shape (N, C) instead.")
        if ground_truth.shape[0] != n:
            raise ValueError(f"{who}: {ground_truth.shape[0]} labels for {n} predictions")
        return True
    if tuple(ground_truth.shape) == (n, classes):
        if dtype_kind(ground_truth) not in "biuf":
            raise TypeError(f"{who}: one-hot labels must hold real numbers; got dtype "
                            f"{ground_truth.dtype}")
        return False
    raise ValueError(f"{who}: ground_truth must be class indices of shape ({n},) or one-hot of "
                     f"shape ({n}, {classes}); got {tuple(ground_truth.shape)}")


def one_hot(indices, like, xp):
    """(N, C) rows in `like`'s dtype with a one at each of the (N,) `indices`."""
    n, classes = like.shape
    column = xp.reshape(xp.astype(indices, xp.int64), (n, 1))
    classes_row = xp.arange(classes, dtype=xp.int64, device=device_of(like))
    return xp.astype(column == classes_row, like.dtype)


def dense_targets(predicted, ground_truth, xp, who):
    """Dense (N, C) targets in the prediction's dtype, from indices or one-hot labels.

    An index outside [0, C) gives a row of zeros (not checked here; see the module notes).
    """
    if _checked_class_labels(predicted, ground_truth, who):
        return one_hot(ground_truth, predicted, xp)
    return xp.astype(ground_truth, predicted.dtype)


def class_indices(predicted, ground_truth, xp, who):
    """(N,) integer classes: the indices given, or the position of each one-hot row's largest
    entry (the first, on ties)."""
    if _checked_class_labels(predicted, ground_truth, who):
        return ground_truth
    return xp.argmax(xp.astype(ground_truth, predicted.dtype), axis=1)
