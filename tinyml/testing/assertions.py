"""Where an array lives before what it holds: library, device, dtype and shape, then values.

Every check raises AssertionError itself (never a bare ``assert``), so it still fails under
``python -O`` and outside pytest's assertion rewriting.
"""

import numpy as np

from ..backend import get_backend, to_numpy
from ..backend._host import device_of, lookup

TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


def assert_on_backend(actual, backend=None, *, kind="f", shape=None, err_msg=""):
    """Assert that `actual` is an array of `backend`'s library, on its device, of `kind`.

    Parameters
    ----------
    actual : array
    backend : Backend, optional
        The current one by default.
    kind : ``"f"``, ``"i"``, ``"u"``, ``"b"`` or None
        NumPy's kind of what `actual` should hold: ``"f"`` means the backend's own float dtype
        (float64 on a float64 backend, never float32), ``"i"``/``"u"`` any integer dtype,
        ``"b"`` bool; None skips the dtype.
    shape : tuple, optional
        The shape `actual` must have.
    err_msg : str
        Starts every failure message (say which array this is).
    """
    backend = backend or get_backend()
    prefix = f"{err_msg}: " if err_msg else ""
    try:
        name, xp = lookup(actual)
    except TypeError:
        _fail(prefix, f"expected a {backend.name} array; got {type(actual).__name__}")
    if name != backend.name:
        _fail(prefix, f"array is on {name}, expected {backend.name}")
    device = device_of(actual)
    if str(device) != str(backend.device):
        _fail(prefix, f"array is on device {device}, expected {backend.device}")
    if kind == "f" and actual.dtype != backend.dtype:
        _fail(prefix, f"dtype {actual.dtype}, expected {backend.dtype_name}")
    if kind in ("i", "u") and not xp.isdtype(actual.dtype, "integral"):
        _fail(prefix, f"dtype {actual.dtype} is not integral")
    if kind == "b" and actual.dtype != xp.bool:
        _fail(prefix, f"dtype {actual.dtype} is not bool")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        _fail(prefix, f"shape {tuple(actual.shape)}, expected {tuple(shape)}")


def assert_close(actual, desired, *, backend=None, rtol=None, atol=None, err_msg=""):
    """Assert that `actual` lives on `backend` and equals host array `desired` within tolerance.

    Checked in order: `actual` is an array of the backend's library, on its device; a floating
    `desired` means `actual` has the backend's float dtype (an integer one, an integer dtype);
    the shapes agree; the values agree within ``rtol``/``atol`` (by default 1e-4/1e-5 for
    float32 and 1e-7/1e-9 for float64).
    """
    backend = backend or get_backend()
    desired = np.asarray(desired)
    kind = desired.dtype.kind if desired.dtype.kind in "fiub" else None
    assert_on_backend(actual, backend, kind=kind, shape=desired.shape, err_msg=err_msg)
    default_rtol, default_atol = TOLERANCES.get(backend.dtype_name, TOLERANCES["float32"])
    np.testing.assert_allclose(
        to_numpy(actual),
        desired,
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        err_msg=err_msg,
    )


def _fail(prefix, message):
    raise AssertionError(prefix + message) from None
