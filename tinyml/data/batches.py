"""Host-side batching for the Learner: checks the data, shuffles, and moves each batch.

Data stays where it is given. Host data (NumPy arrays, lists) is sliced on the host and each
batch is copied to the net's backend: the one automatic move in tinyml. Data already on the
net's backend and device is sliced there.
"""

import numpy as np

from ..backend import (
    device_of,
    dtype_kind,
    is_floating,
    is_integral,
    namespace_name,
    to_numpy,
)


def prepare(data, backend, what, *, inputs=False, keep_dtype=False):
    """`data` ready for batching.

    Arrays already on `backend`'s library and device are kept; anything else becomes a host
    NumPy array whose floating values already have the backend's dtype, so no batch is cast.
    With ``inputs=True`` (samples, not labels) integer and boolean data, such as uint8 images,
    become floats of the backend's dtype too. With ``keep_dtype=True`` nothing is cast (token
    ids for an Embedding, whose dtype the layer checks).

    Raises
    ------
    ValueError
        A ragged list (rows of different lengths), named by `what` with the first item that
        differs.
    TypeError
        Data that does not hold real numbers (strings, objects, complex numbers).
    """
    if _on_device(data, backend):
        if inputs and not keep_dtype and not is_floating(data):
            return backend.xp.astype(data, backend.dtype)
        return data
    host = _host_array(data, what)
    if host.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers; got dtype {host.dtype}")
    if keep_dtype:
        return host
    if (host.dtype.kind == "f" or inputs) and host.dtype != np.dtype(backend.dtype_name):
        host = host.astype(backend.dtype_name)
    return host


def _host_array(data, what):
    """`data` as a host NumPy array; a ragged list gets a message that says where."""
    try:
        return np.asarray(to_numpy(data))
    except ValueError as error:
        if isinstance(data, (list, tuple)):
            raise ValueError(f"{what} is ragged: {_first_difference(data)}. Every sample needs "
                             "the same shape: pad or trim the rows, or pass a NumPy array."
                             ) from None
        raise ValueError(f"{what} could not become an array of numbers: {error}") from None


def _first_difference(items):
    """Where a ragged list's items stop agreeing in shape, for the message."""
    shapes = []
    for index, item in enumerate(items):
        try:
            shapes.append(np.shape(item))
        except ValueError:
            return f"item {index} is itself ragged ({_first_difference(item)})"
        if shapes[-1] != shapes[0]:
            return (f"item 0 has shape {shapes[0]} but item {index} has shape {shapes[-1]}")
    return "its items do not stack into one array"


def check_pair(x, y, who, *, sample_shape=None):
    """Equal, non-zero lengths for samples and labels, each with a batch axis.

    `sample_shape` is the shape of one sample the net declares (its first layer's input shape
    without the batch), if any: an `x` of exactly that shape is one sample whose batch axis is
    missing.
    """
    if x.ndim == 0:
        raise ValueError(f"{who}: x is a single number (a 0-d array); give samples along a "
                         "first, batch axis: x of shape (N, ...)")
    if sample_shape is not None and tuple(x.shape) == tuple(sample_shape):
        label = " and y[None] (or y[0:1])" if y.ndim == 0 else ""
        raise ValueError(f"{who}: x has shape {tuple(x.shape)}, one sample for this net: the "
                         f"batch axis is missing. Pass x[None] (or x[0:1]){label} to use one "
                         "sample.")
    if y.ndim == 0:
        raise ValueError(f"{who}: y is a single label (a 0-d array): the batch axis is missing. "
                         "Give one label per sample along the first axis; for one sample pass "
                         "x[None] and y[None] (or x[0:1] and y[0:1]).")
    if x.shape[0] == 0:
        raise ValueError(f"{who}: x is empty; give at least one sample")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{who}: x has {x.shape[0]} samples but y has {y.shape[0]} labels; "
                         "give one label per sample")


def is_class_indices(y):
    """True for 1-D integer labels (not bool)."""
    return y.ndim == 1 and is_integral(y)


def check_labels(y, output_shape, who, *, distributions=False):
    """Class labels must fit a (batch, classes) output: integer indices in [0, classes), or
    (N, classes) one-hot rows; with `distributions` (a loss that reads the rows as
    probabilities: the cross-entropies and nll), rows of entries >= 0 summing to 1.

    Reads the labels once (a single wait for labels that live on a device).
    """
    if len(output_shape) != 2:
        return
    classes = output_shape[1]
    if is_class_indices(y):
        host = to_numpy(y)
        low, high = int(host.min()), int(host.max())
        if low < 0 or high >= classes:
            raise ValueError(f"{who}: labels must be class indices in [0, {classes}) for a net "
                             f"with {classes} outputs; got values from {low} to {high}")
    elif y.ndim == 1 and dtype_kind(y) == "b":
        raise TypeError(f"{who}: y holds bools, which are not class indices. For two classes "
                        "convert them with y.astype(int) (and give the net 2 outputs); for "
                        "yes/no targets use a net with one output and "
                        "binary_cross_entropy_with_logits (or binary_cross_entropy after a "
                        "Sigmoid), which take bool targets as they are.")
    elif y.ndim == 1:
        raise TypeError(f"{who}: 1-D labels must be integer class indices; got dtype {y.dtype}. "
                        "Convert class numbers with y.astype(int); for regression targets use "
                        "a regression loss such as mse with one output per target.")
    elif y.ndim == 2 and y.shape[1] != classes:
        raise ValueError(f"{who}: one-hot labels have {y.shape[1]} columns but the net has "
                         f"{classes} outputs")
    elif y.ndim == 2 and distributions:
        check_distributions(y, who)
    elif y.ndim > 2:
        raise ValueError(f"{who}: class labels must be indices of shape (N,) or one-hot rows "
                         f"of shape (N, {classes}); got shape {tuple(y.shape)}")


def check_distributions(y, who, *, tolerance=1e-3):
    """One-hot (or soft, label-smoothed) rows must be distributions: entries >= 0 that sum to 1
    (within `tolerance`). A negative entry trains on a negative loss; a row that sums to 2
    counts its sample twice. Read once, on the host."""
    host = np.asarray(to_numpy(y), dtype=np.float64)
    sums = host.sum(axis=1)
    bad = np.flatnonzero(~(host >= 0).all(axis=1) | ~(np.abs(sums - 1.0) <= tolerance))
    if bad.size:
        row = int(bad[0])
        shown = np.array2string(host[row], precision=3, threshold=8)
        raise ValueError(f"{who}: one-hot (or probability) labels must be rows of numbers >= 0 "
                         f"that sum to 1; row {row} is {shown} (sum {sums[row]:.4g}); "
                         f"{bad.size} of the {host.shape[0]} rows fail. Build one-hot rows with "
                         "np.eye(classes)[labels], or pass the class indices (N,) instead.")


def as_targets(y, output_shape, backend, who, *, loss_name=None):
    """Regression (or binary) targets for a net whose outputs have `output_shape`.

    Integer and bool targets become floats of the backend's dtype. 1-D targets for a net with
    one output per sample are taken as (N, 1), as Keras does. With `loss_name` (a loss that
    compares targets with outputs element by element) each sample's targets must have the
    shape of its outputs; without it (a loss of the user's own) shapes are left to the loss.
    """
    integral = is_integral(y)
    y = prepare(y, backend, f"{who}: y", inputs=True)
    per_sample = tuple(output_shape[1:])
    if y.ndim == 1 and per_sample == (1,):
        y = _reshaped(y, (y.shape[0], 1), backend)
    if loss_name is not None and tuple(y.shape[1:]) != per_sample:
        if integral and y.ndim == 1 and len(per_sample) == 1:
            hint = ("These look like class indices: to classify, use cross_entropy_with_logits "
                    "(or cross_entropy after a Softmax).")
        else:
            hint = (f"Give targets of shape (N, {', '.join(map(str, per_sample))}), or change "
                    "the net's last layer to fit the targets.")
        raise ValueError(f"{who}: {loss_name} compares each sample's targets with the net's "
                         f"outputs, which have shape {per_sample} per sample; y has shape "
                         f"{tuple(y.shape[1:])} per sample. {hint}")
    return y


def _reshaped(data, shape, backend):
    if isinstance(data, np.ndarray):
        return data.reshape(shape)
    return backend.xp.reshape(data, shape)


def batches(x, y, batch_size, backend, order=None):
    """Yield (x_batch, y_batch) on `backend`, in `order` (host indices: all of the samples,
    or some, such as one process's share) or as stored.

    `y` may be None (prediction).
    """
    n = x.shape[0] if order is None else len(order)
    for start in range(0, n, batch_size):
        if order is None:
            chosen = slice(start, min(start + batch_size, n))
        else:
            chosen = order[start:start + batch_size]
        yield _take(x, chosen, backend), (None if y is None else _take(y, chosen, backend))


def _take(data, chosen, backend):
    if isinstance(data, np.ndarray):
        # Fancy indexing copies already; only a slice (a view) needs asarray's copy.
        return backend.asarray(data[chosen], copy=isinstance(chosen, slice))
    if isinstance(chosen, slice):
        return data[chosen, ...]
    return backend.xp.take(data, backend.asarray(chosen), axis=0)


def _on_device(data, backend):
    """True for an array of `backend`'s library on its device (a NumPy array counts as host)."""
    if isinstance(data, np.ndarray):
        return False
    try:
        return namespace_name(data) == backend.name and \
            str(device_of(data)) == str(backend.device)
    except TypeError:
        return False
