"""What ``fit`` checks and splits off before training: finite inputs, a validation split."""

from ..backend import array_namespace, is_floating
from ..core.checks import unravel_index


def check_finite(data, what):
    """ValueError naming the first NaN or infinite entry of `data` (one read of the device for
    data that lives there; host data is checked on the host)."""
    if not is_floating(data):
        return
    xp = array_namespace(data)
    finite = xp.isfinite(data)
    if bool(xp.all(finite)):
        return
    flat = xp.reshape(finite, (-1,))
    first = int(xp.argmin(xp.astype(flat, xp.int8)))  # the first False
    index = unravel_index(first, data.shape)
    value = float(xp.reshape(data, (-1,))[first])
    bad = int(xp.sum(xp.astype(~flat, xp.int64)))
    where = ", ".join(str(i) for i in index)
    raise ValueError(f"{what}[{where}] is {value} ({bad} of {flat.shape[0]} values are NaN or "
                     f"infinite): training on them gives NaN weights. Clean or impute them "
                     f"first, or pass check_inputs=False to train anyway.")


def split_validation(x, y, fraction):
    """(x_train, y_train, x_val, y_val): the LAST `fraction` of the samples held out, before
    any shuffling, as Keras does (so shuffle the data first if it is sorted)."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or \
            not 0.0 < fraction < 1.0:
        raise ValueError(f"fit: validation_split must be a fraction in (0, 1), such as 0.2; "
                         f"got {fraction!r}")
    n = x.shape[0]
    held = int(n * fraction)
    if held == 0 or held == n:
        raise ValueError(f"fit: validation_split={fraction} of {n} samples leaves "
                         f"{'no validation' if held == 0 else 'no training'} samples; use a "
                         "larger data set or another fraction")
    return x[:n - held, ...], y[:n - held, ...], x[n - held:, ...], y[n - held:, ...]
