"""Host-side batching for the Learner: checks the data, shuffles, and moves each batch.

Data stays where it is given. Host data (NumPy arrays, lists) is sliced on the host and each
batch is copied to the net's backend: the one automatic move in tinyml. Data already on the
net's backend and device is sliced there.
"""

import numpy as np

from ..backend import device_of, is_floating, is_integral, namespace_name, to_numpy


def prepare(data, backend, what, *, inputs=False):
    """`data` ready for batching.

    Arrays already on `backend`'s library and device are kept; anything else becomes a host
    NumPy array whose floating values already have the backend's dtype, so no batch is cast.
    With ``inputs=True`` (samples, not labels) integer and boolean data, such as uint8 images,
    become floats of the backend's dtype too.
    """
    if _on_device(data, backend):
        if inputs and not is_floating(data):
            return backend.xp.astype(data, backend.dtype)
        return data
    host = np.asarray(to_numpy(data))
    if host.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers; got dtype {host.dtype}")
    if (host.dtype.kind == "f" or inputs) and host.dtype != np.dtype(backend.dtype_name):
        host = host.astype(backend.dtype_name)
    return host


def check_pair(x, y, who):
    """Equal, non-zero lengths for samples and labels."""
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"{who}: x is empty; give at least one sample")
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        got = "a 0-d array" if y.ndim == 0 else f"{y.shape[0]} labels"
        raise ValueError(f"{who}: x has {x.shape[0]} samples but y has {got}; "
                         "give one label per sample")


def is_class_indices(y):
    """True for 1-D integer labels."""
    return y.ndim == 1 and is_integral(y)


def check_labels(y, output_shape, who):
    """Labels must fit a (batch, classes) output: indices in [0, classes), or classes columns.

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
    elif y.ndim == 1 and is_floating(y):
        raise TypeError(f"{who}: 1-D labels must be integer class indices; got dtype {y.dtype}")
    elif y.ndim == 2 and y.shape[1] != classes:
        raise ValueError(f"{who}: one-hot labels have {y.shape[1]} columns but the net has "
                         f"{classes} outputs")


def batches(x, y, batch_size, backend, order=None):
    """Yield (x_batch, y_batch) on `backend`, in `order` (host indices) or as stored.

    `y` may be None (prediction).
    """
    n = x.shape[0]
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
