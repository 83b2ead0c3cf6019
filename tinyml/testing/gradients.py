"""Hand-written backward passes against central finite differences in float64.

The scalar checked is ``L = sum(forward(x) * R)`` for a fixed random R, so dL/d(output) = R.
`x` may be a list of arrays, for a layer of several inputs (Add, Concatenate): then backward
must return a list of gradients, one per input, and each input is checked as its own array.
Two modes compare the layer's gradients with it:

- ``"full"``: every element, ``(L(t + eps e_i) - L(t - eps e_i)) / 2 eps``: two forwards per
  element of the input and of every parameter.
- ``"random"`` (Chainer's ``check_backward``): along `directions` random unit vectors v per
  array, ``(L(t + eps v) - L(t - eps v)) / 2 eps`` against ``<gradient, v>``: two forwards per
  direction, whatever the size, for layers with many weights.

Every forward runs inside ``seeded(random_seed)`` (a random layer draws the same mask each
time), and the finite-difference forwards inside ``tinyml.no_grad()`` (they keep no records).
"""

import contextlib
import numbers

import numpy as np

from ..backend import get_backend, to_numpy
from ..core import no_grad
from ._seeding import seeded
from .assertions import assert_on_backend

MODES = ("full", "random")


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


def numerical_directional_derivative(f, x, direction, eps=1e-6):
    """(f(x + eps v) - f(x - eps v)) / 2 eps of scalar `f` at host `x` along host `direction`."""
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(direction, dtype=np.float64)
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


def check_layer_gradients(layer, x, *, backend=None, rtol=1e-5, atol=1e-7, eps=1e-6,
                          random_seed=0, mode="full", directions=8):
    """Check ``layer.backward`` against central finite differences, for input and parameters.

    Needs a float64 backend. Each analytic gradient must also live on `backend` with its dtype
    and the right shape. :func:`tinyml.testing.check_layer` runs this and the rest of the
    Layer contract; this is the gradient part alone (its backward needs no ``input_gradient``).

    Returns the analytic gradients as host arrays (copies): ``{"input": ..., "<param>": ...}``
    (``"input"`` a list, one per input, when `x` is a list of arrays).
    """
    backend = float64_backend(backend)
    check_mode(mode, directions)
    run = SeededForward(layer, backend, random_seed)
    for parameter in layer.parameters():
        parameter.zero_grad()
    x_host = run.x_host(x)
    projection = run.projection(run(x_host).shape)
    gradient = layer.backward(backend.asarray(projection))
    analytic = host_gradients(layer, backend, gradient, input_shapes(x_host))
    compare_with_finite_differences(run, x_host, projection, analytic, mode=mode,
                                    directions=directions, rtol=rtol, atol=atol, eps=eps)
    return analytic


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


# ------------------------------------------------------------ shared with the layer recipe
class SeededForward:
    """``run(x_host)``: the layer's forward of host `x_host` on `backend`, in seeded streams."""

    def __init__(self, layer, backend, random_seed):
        self.layer, self.backend, self.random_seed = layer, backend, random_seed

    def __call__(self, x_host, *, record=True):
        with seeded(self.random_seed):
            if record:
                return self.layer.forward(self.on_backend(x_host))
            with no_grad():
                return self.layer.forward(self.on_backend(x_host))

    def on_backend(self, x_host):
        if isinstance(x_host, list):
            return [self.backend.asarray(each) for each in x_host]
        return self.backend.asarray(x_host)

    @staticmethod
    def x_host(x):
        """A float64 host copy of `x`; of each array, as a list, when `x` is a list or tuple
        of arrays (a layer of several inputs). A nested list of numbers is one input."""
        if is_several(x):
            return [np.array(to_numpy(each), dtype=np.float64) for each in x]
        return np.array(to_numpy(x), dtype=np.float64)

    def projection(self, output_shape):
        """R, the fixed dL/d(output): standard normal, from the check's own host generator."""
        return np.random.default_rng(self.random_seed + 1).standard_normal(tuple(output_shape))

    def loss(self, x_host, projection):
        """L = sum(forward(x) * R) as a Python float (no record kept)."""
        return float(np.sum(to_numpy(self(x_host, record=False)) * projection))


def is_several(x):
    """True for a list or tuple of arrays: the inputs of a layer that takes several."""
    return isinstance(x, (list, tuple)) and bool(x) and all(hasattr(e, "shape") for e in x)


def input_shapes(x_host):
    """The shape of host input `x_host`, or the list of shapes of a list of inputs."""
    if isinstance(x_host, list):
        return [each.shape for each in x_host]
    return x_host.shape


def copied(x_host):
    return [each.copy() for each in x_host] if isinstance(x_host, list) else x_host.copy()


def host_gradients(layer, backend, input_gradient, input_shape):
    """{"input": ..., "<param>": ...} as host copies, after checking where each one lives.

    A gradient that left the backend, changed dtype, or has a (broadcastable) wrong shape
    fails here, before any value is compared. For a list of inputs (`input_shape` a list of
    shapes) ``"input"`` is the list of their gradients, and backward must have returned one.
    """
    found = {"input": (input_gradient, input_shape)}
    if isinstance(input_shape, list):
        if not isinstance(input_gradient, (list, tuple)) or len(input_gradient) != len(
                input_shape):
            raise AssertionError(f"{layer.describe()}: backward must return a list of "
                                 f"{len(input_shape)} gradients, one per input; got "
                                 f"{type(input_gradient).__name__}")
        found = {f"input {i}": pair for i, pair in enumerate(zip(input_gradient, input_shape,
                                                                   strict=True))}
    found.update((name, (p.grad, p.shape)) for name, p in layer.named_parameters().items())
    host = {}
    for name, (gradient, shape) in found.items():
        assert_on_backend(gradient, backend, shape=shape,
                          err_msg=f"{layer.describe()}: the gradient for {name}")
        host[name] = np.array(to_numpy(gradient), dtype=np.float64, copy=True)
    if isinstance(input_shape, list):
        host = {"input": [host.pop(f"input {i}") for i in range(len(input_shape))], **host}
    return host


def compare_with_finite_differences(run, x_host, projection, analytic, *, mode, directions,
                                    rtol, atol, eps):
    """Compare host gradients `analytic` with finite differences of ``run.loss``, per array."""
    rng = np.random.default_rng(run.random_seed + 2)
    if isinstance(x_host, list):  # each input is an array of its own: "input 0", "input 1"...
        analytic = {**{f"input {i}": g for i, g in enumerate(analytic["input"])}, **analytic}
    for name, (point, loss) in _targets(run, x_host, projection).items():
        where = f"{run.layer.describe()}: backward disagrees with finite differences for {name}"
        if mode == "full":
            np.testing.assert_allclose(analytic[name], numerical_gradient(loss, point, eps),
                                       rtol=rtol, atol=atol, err_msg=where)
            continue
        vs = [_unit(rng.standard_normal(point.shape)) for _ in range(directions)]
        numeric = [numerical_directional_derivative(loss, point, v, eps) for v in vs]
        np.testing.assert_allclose([float(np.sum(analytic[name] * v)) for v in vs], numeric,
                                   rtol=rtol, atol=atol,
                                   err_msg=f"{where} (along {directions} random directions)")


def _targets(run, x_host, projection):
    """{name: (host point, scalar loss of that array)} for the input (each input of a list)
    and every parameter."""
    if isinstance(x_host, list):
        def input_loss(index):
            def loss(values):
                return run.loss([*x_host[:index], values, *x_host[index + 1:]], projection)
            return loss

        targets = {f"input {i}": (x, input_loss(i)) for i, x in enumerate(x_host)}
    else:
        targets = {"input": (x_host, lambda values: run.loss(values, projection))}
    for name, parameter in run.layer.named_parameters().items():
        def loss(values, parameter=parameter):
            with _replaced(parameter, run.backend.asarray(values)):
                return run.loss(x_host, projection)

        targets[name] = (np.array(to_numpy(parameter.data), dtype=np.float64), loss)
    return targets


@contextlib.contextmanager
def _replaced(parameter, data):
    """`parameter` holds `data` inside the block; its own array (the same object) after."""
    original = parameter.data
    parameter.data = data
    try:
        yield
    finally:
        parameter.data = original


def _unit(v):
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def float64_backend(backend):
    """`backend` (or the current one), refused unless float64: finite differences need it."""
    backend = backend or get_backend()
    if backend.dtype_name != "float64":
        raise ValueError(f"gradient checks need a float64 backend; got {backend!r}. Use "
                         "set_backend(name, dtype='float64') or use_backend(..., "
                         "dtype='float64')")
    return backend


def check_mode(mode, directions):
    """ValueError/TypeError unless `mode` is "full" or "random" and `directions` an int >= 1."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'full' (every element) or 'random' (random "
                         f"directions); got {mode!r}")
    if isinstance(directions, bool) or not isinstance(directions, numbers.Integral):
        raise TypeError(f"directions must be an int; got {directions!r}")
    if directions < 1:
        raise ValueError(f"directions must be >= 1; got {directions}")
