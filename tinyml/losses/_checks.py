"""What the losses share: the namespace of a (prediction, labels) pair, and dense targets."""

from ..backend import array_namespace, device_of, is_floating, is_integral


def namespace(predicted, ground_truth, who):
    """The namespace shared by `predicted` and `ground_truth`; refuses a mix of backends."""
    return array_namespace(predicted, ground_truth, names=["predicted", "ground_truth"],
                           where=who)


def require_floating(predicted, who):
    if not is_floating(predicted):
        raise TypeError(f"{who}: predicted must be floating point; got {predicted.dtype}")


def dense_targets(predicted, ground_truth, xp, who):
    """Dense (N, C) targets in the prediction's dtype, from indices or one-hot labels."""
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
        indices = xp.reshape(xp.astype(ground_truth, xp.int64), (n, 1))
        classes_row = xp.arange(classes, dtype=xp.int64, device=device_of(predicted))
        return xp.astype(indices == classes_row, predicted.dtype)
    if tuple(ground_truth.shape) == (n, classes):
        return xp.astype(ground_truth, predicted.dtype)
    raise ValueError(f"{who}: ground_truth must be class indices of shape ({n},) or one-hot of "
                     f"shape ({n}, {classes}); got {tuple(ground_truth.shape)}")
