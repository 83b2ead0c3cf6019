"""Hand-written backward passes against central finite differences in float64.

The scalar checked is ``L = sum(forward(x) * R)`` for a fixed random R, so dL/d(output) = R.
`x` may be a list of arrays, for a layer of several inputs (Add, Concatenate): then backward
must return a list of gradients, one per input, and each input is checked as its own array.
An :class:`~tinyml.testing.Inputs` gives several positional inputs (a cell's ``x, (h, c)``) and
options; a forward that returns a tuple of arrays gets one R per output.
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
from .structure import (
    Inputs,
    differentiable,
    gradient_for_args,
    host_copy,
    input_name,
    is_leaf,
    leaves,
    map_leaves,
    replace_leaf,
    shapes_of,
)

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
    `x` is one input, a list of inputs (the merges), or an :class:`~tinyml.testing.Inputs`
    (several inputs, tuple states, options).

    Returns the analytic gradients as host arrays (copies): ``{"input": ..., "<param>": ...}``
    (``"input"`` shaped as the input: a list for a list of inputs, a tuple per argument for
    several, None for an integer input).
    """
    backend = float64_backend(backend)
    check_mode(mode, directions)
    run = SeededForward(layer, backend, random_seed)
    for parameter in layer.parameters():
        parameter.zero_grad()
    call = run.x_host(x)
    projection = run.projection(shapes_of(run(call)))
    gradient = layer.backward(run.on_backend(projection))
    analytic = host_gradients(layer, backend, gradient, call)
    compare_with_finite_differences(run, call, projection, analytic, mode=mode,
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
    """``run(call)``: the layer's forward of a host :class:`Inputs` on `backend`, in seeded
    streams."""

    def __init__(self, layer, backend, random_seed):
        self.layer, self.backend, self.random_seed = layer, backend, random_seed

    def __call__(self, call, *, record=True):
        moved = self.on_backend(call)
        with seeded(self.random_seed):
            if record:
                return self.layer.forward(*moved.args, **moved.kwargs)
            with no_grad():
                return self.layer.forward(*moved.args, **moved.kwargs)

    def on_backend(self, tree):
        """Every host leaf of `tree` (an Inputs, an array, nested tuples) on the backend."""
        if isinstance(tree, Inputs):
            return tree.map(self.backend.asarray)
        return map_leaves(self.backend.asarray, tree)

    @staticmethod
    def x_host(x):
        """`x` as an :class:`Inputs` of host copies: floating arrays as float64, integer and
        boolean ones as they are. A list or tuple of arrays is one input (a list, the merges');
        a nested list of numbers is one array."""
        if isinstance(x, Inputs):
            return x.map(host_copy)
        if is_several(x):
            return Inputs([host_copy(each) for each in x])
        return Inputs(host_copy(np.asarray(x) if isinstance(x, (list, tuple)) else x))

    def projection(self, output_shapes):
        """R, the fixed dL/d(output): standard normal, from the check's own host generator,
        one array per output (a tuple for a forward that returns several)."""
        rng = np.random.default_rng(self.random_seed + 1)

        def draw(shape):
            if isinstance(shape, tuple) and any(isinstance(e, tuple) for e in shape):
                return tuple(draw(each) for each in shape)
            return rng.standard_normal(tuple(shape))
        return draw(output_shapes)

    def loss(self, call, projection):
        """L = sum(forward(x) * R), summed over the outputs, as a Python float (no record)."""
        output = self(call, record=False)
        pairs = zip(leaves(output), leaves(projection), strict=True)
        return float(sum(np.sum(to_numpy(out) * r) for (_, out), (_, r) in pairs))


def is_several(x):
    """True for a list or tuple of arrays: the inputs of a layer that takes several."""
    return isinstance(x, (list, tuple)) and bool(x) and all(hasattr(e, "shape") for e in x)


def input_shapes(call):
    """What ``output_shape`` takes for host :class:`Inputs` `call`, as positional arguments."""
    return shapes_of(call.args)


def copied(tree):
    return map_leaves(lambda a: a.copy(), tree)


def host_gradients(layer, backend, input_gradient, call):
    """{"input": ..., "<param>": ...} as host copies, after checking where each one lives.

    A gradient that left the backend, changed dtype, or has a (broadcastable) wrong shape
    fails here, before any value is compared. ``"input"`` is shaped as the input: an array,
    a list for a list of inputs, a tuple with one entry per input for several (each shaped
    as its input), None in the place of an integer input (indices have no gradient).
    """
    who = layer.describe()
    per_argument = gradient_for_args(call, input_gradient)
    if not isinstance(per_argument, (tuple, list)) or len(per_argument) != len(call.args):
        raise AssertionError(f"{who}: forward took {len(call.args)} inputs, so backward must "
                             f"return a tuple of {len(call.args)} gradients, one per input; "
                             f"got {type(input_gradient).__name__}")
    host_tree = [_host_gradient_tree(layer, backend, call, argument, gradient, (index,))
                 for index, (argument, gradient) in enumerate(zip(call.args, per_argument,
                                                                   strict=True))]
    host = {"input": host_tree[0] if len(call.args) == 1 else tuple(host_tree)}
    for name, parameter in layer.named_parameters().items():
        assert_on_backend(parameter.grad, backend, shape=parameter.shape,
                          err_msg=f"{who}: the gradient for {name}")
        host[name] = np.array(to_numpy(parameter.grad), dtype=np.float64, copy=True)
    return host


def _host_gradient_tree(layer, backend, call, argument, gradient, path):
    """Host copy of `gradient`, checked against input `argument` (a leaf or nested tree)."""
    name = input_name(call, path)
    if is_leaf(argument):
        if not differentiable(argument):
            if gradient is not None:
                raise AssertionError(f"{layer.describe()}: {name} holds {argument.dtype} "
                                     "values, which have no gradient; backward must return "
                                     f"None for it, got {type(gradient).__name__}")
            return None
        assert_on_backend(gradient, backend, shape=argument.shape,
                          err_msg=f"{layer.describe()}: the gradient for {name}")
        return np.array(to_numpy(gradient), dtype=np.float64, copy=True)
    if isinstance(argument, (tuple, list)):
        if not isinstance(gradient, (tuple, list)) or len(gradient) != len(argument):
            each = "input" if name == "input" else f"item of {name}"
            raise AssertionError(f"{layer.describe()}: backward must return a "
                                 f"{type(argument).__name__} of {len(argument)} gradients, one "
                                 f"per {each}; got {type(gradient).__name__}")
        return type(argument)(_host_gradient_tree(layer, backend, call, a, g, (*path, i))
                              for i, (a, g) in enumerate(zip(argument, gradient, strict=True)))
    return None


def compare_with_finite_differences(run, call, projection, analytic, *, mode, directions,
                                    rtol, atol, eps):
    """Compare host gradients `analytic` with finite differences of ``run.loss``, per array."""
    rng = np.random.default_rng(run.random_seed + 2)
    for name, (point, loss, computed) in _targets(run, call, projection, analytic).items():
        where = f"{run.layer.describe()}: backward disagrees with finite differences for {name}"
        if mode == "full":
            np.testing.assert_allclose(computed, numerical_gradient(loss, point, eps),
                                       rtol=rtol, atol=atol, err_msg=where)
            continue
        vs = [_unit(rng.standard_normal(point.shape)) for _ in range(directions)]
        numeric = [numerical_directional_derivative(loss, point, v, eps) for v in vs]
        np.testing.assert_allclose([float(np.sum(computed * v)) for v in vs], numeric,
                                   rtol=rtol, atol=atol,
                                   err_msg=f"{where} (along {directions} random directions)")


def _targets(run, call, projection, analytic):
    """{name: (host point, scalar loss of that array, its analytic gradient)} for each
    floating input array and every parameter."""
    per_argument = gradient_for_args(call, analytic["input"])
    targets = {}
    for path, leaf in leaves(call.args):
        if not differentiable(leaf):
            continue

        def loss(values, path=path):
            args = replace_leaf(call.args, path, values)
            return run.loss(Inputs(*args, **call.kwargs), projection)

        computed = dict(leaves(per_argument))[path]
        targets[input_name(call, path)] = (leaf, loss, computed)
    for name, parameter in run.layer.named_parameters().items():
        def loss(values, parameter=parameter):
            with _replaced(parameter, run.backend.asarray(values)):
                return run.loss(call, projection)

        targets[name] = (np.array(to_numpy(parameter.data), dtype=np.float64), loss,
                         analytic[name])
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
