"""Checks for layer authors (and tinyml's own tests): where an array lives, and its gradients.

- :func:`assert_close` asserts library, device, dtype and shape before it compares values, so a
  result that silently became NumPy fails.
- :func:`check_layer_gradients` and :func:`check_loss_gradient` compare hand-written backward
  passes with central finite differences in float64.
"""

import numpy as np

from .backend import device_of, get_backend, to_numpy, use_seed
from .backend._host import lookup

TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


def assert_close(actual, desired, *, backend=None, rtol=None, atol=None, err_msg=""):
    """Assert that `actual` lives on `backend` and equals host array `desired` within tolerance.

    Checked in order: `actual` is an array of the backend's library, on its device; a floating
    `desired` means `actual` has the backend's float dtype (an integer one, an integer dtype);
    the shapes agree; the values agree within ``rtol``/``atol`` (by default 1e-4/1e-5 for
    float32 and 1e-7/1e-9 for float64).
    """
    backend = backend or get_backend()
    desired = np.asarray(desired)
    prefix = f"{err_msg}: " if err_msg else ""
    try:
        name, xp = lookup(actual)
    except TypeError:
        raise AssertionError(f"{prefix}expected a {backend.name} array; got "
                             f"{type(actual).__name__}") from None
    assert name == backend.name, f"{prefix}array is on {name}, expected {backend.name}"
    device = device_of(actual)
    assert str(device) == str(backend.device), (
        f"{prefix}array is on device {device}, expected {backend.device}"
    )
    if desired.dtype.kind == "f":
        assert actual.dtype == backend.dtype, (
            f"{prefix}dtype {actual.dtype}, expected {backend.dtype_name}"
        )
    elif desired.dtype.kind in "iu":
        assert xp.isdtype(actual.dtype, "integral"), f"{prefix}dtype {actual.dtype} is not integral"
    elif desired.dtype.kind == "b":
        assert actual.dtype == xp.bool, f"{prefix}dtype {actual.dtype} is not bool"
    assert tuple(actual.shape) == desired.shape, (
        f"{prefix}shape {tuple(actual.shape)}, expected {desired.shape}"
    )
    default_rtol, default_atol = TOLERANCES.get(backend.dtype_name, TOLERANCES["float32"])
    np.testing.assert_allclose(
        to_numpy(actual),
        desired,
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        err_msg=err_msg,
    )


def numerical_gradient(f, x, eps=1e-6):
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / 2 eps of scalar `f` at host `x`."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = f(x)
        x[index] = original - eps
        minus = f(x)
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def check_layer_gradients(layer, x, *, backend=None, rtol=1e-5, atol=1e-7, eps=1e-6,
                          random_seed=0):
    """Check ``layer.backward`` against central finite differences, for input and parameters.

    The scalar checked is ``L = sum(forward(x) * R)`` for a fixed random R, so dL/dy = R. Every
    forward draws from fresh streams seeded `random_seed` (rank 0), so a random layer such as
    Dropout draws the same mask each time; the caller's random streams are left as they were
    (``tinyml.use_seed``). Needs a float64 backend. Each analytic gradient must also
    live on `backend` with its dtype and the right shape (checked with :func:`assert_close`).

    Returns the analytic gradients as host arrays (copies): ``{"input": ..., "<param>": ...}``.
    """
    backend = backend or get_backend()
    if backend.dtype_name != "float64":
        raise ValueError("gradient checks need a float64 backend: "
                         "set_backend(name, dtype='float64')")
    x_host = np.array(to_numpy(x), dtype=np.float64)
    params = layer.named_parameters()

    def forward(x_values):
        with use_seed(random_seed, rank=0):
            return layer.forward(backend.asarray(x_values))

    projection = np.random.default_rng(random_seed + 1).standard_normal(
        tuple(forward(x_host).shape))

    def loss_at_input(x_values):
        return float(np.sum(to_numpy(forward(x_values)) * projection))

    numeric = {"input": numerical_gradient(loss_at_input, x_host, eps)}
    for name, parameter in params.items():
        numeric[name] = _parameter_gradient(parameter, backend, lambda: loss_at_input(x_host),
                                            eps)
    for parameter in params.values():
        parameter.zero_grad()
    forward(x_host)
    analytic = {"input": layer.backward(backend.asarray(projection))}
    analytic.update({name: p.grad for name, p in params.items()})
    for name, gradient in analytic.items():
        # assert_close, not a bare value comparison: a gradient that left the backend (or
        # changed dtype, or has a broadcastable wrong shape) must fail too.
        assert_close(gradient, numeric[name], backend=backend, rtol=rtol, atol=atol,
                     err_msg=f"{layer.describe()}: backward disagrees with finite differences "
                             f"for {name}")
    return {name: np.array(to_numpy(gradient), copy=True) for name, gradient in analytic.items()}


def _parameter_gradient(parameter, backend, loss, eps):
    original = np.array(to_numpy(parameter.data), dtype=np.float64)

    def loss_at(values):
        parameter.data = backend.asarray(values)
        return loss()

    try:
        return numerical_gradient(loss_at, original, eps)
    finally:
        parameter.data = backend.asarray(original)


def check_loss_gradient(loss_fn, predicted, target, *, backend=None, rtol=1e-5, atol=1e-8,
                        eps=1e-6):
    """Check the gradient a loss returns against central finite differences of its value."""
    backend = backend or get_backend()
    predicted_host = np.array(to_numpy(predicted), dtype=np.float64)

    def value(p):
        return float(to_numpy(loss_fn(backend.asarray(p), target)[0]))

    _, gradient = loss_fn(backend.asarray(predicted_host), target)
    np.testing.assert_allclose(
        to_numpy(gradient), numerical_gradient(value, predicted_host, eps), rtol=rtol, atol=atol,
        err_msg=f"{getattr(loss_fn, '__name__', loss_fn)}: gradient disagrees with finite "
                "differences",
    )

