"""load_state_dict's checks: every key, shape and dtype is checked before anything changes."""

from collections import namedtuple

from ..backend import backend_of, dtype_kind

LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


def load_into(owned, state, *, strict):
    """Copy `state` {key: array} into `owned` {key: Parameter or Buffer}, all or nothing.

    Each array lands on the backend, device and dtype of the array it replaces.
    """
    missing = [key for key in owned if key not in state]
    unexpected = [key for key in state if key not in owned]
    problems = []
    if strict and missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if strict and unexpected:
        problems.append(f"unexpected keys: {', '.join(unexpected)}")
    misshaped, non_numeric = [], []
    for key, target in owned.items():
        if key not in state:
            continue
        shape, kind = _shape(state[key]), dtype_kind(state[key])
        if shape != target.shape:
            misshaped.append(f"{key}: checkpoint {shape}, net {target.shape}")
        if kind not in "biuf":
            non_numeric.append(f"{key}: dtype kind {kind!r}")
    if misshaped:
        problems.append(f"mis-shaped: {'; '.join(misshaped)}")
    if non_numeric:
        problems.append(f"not real numbers: {'; '.join(non_numeric)}")
    if problems:
        raise ValueError("load_state_dict changed nothing, because of " + " | ".join(problems)
                         + ". Build the net with the architecture the weights came from.")
    for key, target in owned.items():
        if key in state:
            home = backend_of(target.data)
            target.data = home.asarray(state[key], dtype=target.data.dtype)
    return LoadResult(missing, unexpected)


def _shape(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        raise TypeError(f"state_dict values must be arrays; got {type(value).__name__}")
    return tuple(shape)
