"""check_layer: one call that holds a layer to the Layer contract (see tinyml.core.layer)."""

import contextlib
import dataclasses

import numpy as np

from ..backend import array_namespace, to_numpy
from .assertions import assert_close, assert_on_backend
from .gradients import (
    SeededForward,
    check_mode,
    compare_with_finite_differences,
    copied,
    float64_backend,
    host_gradients,
)
from .structure import (
    differentiable,
    forward_args,
    is_leaf,
    leaves,
    output_shapes,
    same_shape_tree,
    shapes_of,
)


@dataclasses.dataclass(frozen=True, eq=False)  # arrays have no single truth value
class LayerCheck:
    """What :func:`check_layer` computed, as host float64 NumPy arrays.

    Attributes
    ----------
    output : the training-mode forward of the input.
    in_gradient : R, the dL/d(output) that backward was given (fixed by ``random_seed``).
    gradients : ``{"input": dL/dx, "<parameter key>": dL/dp, ...}`` from the layer's backward
        (``"input"``: the list of gradients, one per input, for a list of inputs).
    """

    output: np.ndarray
    in_gradient: np.ndarray
    gradients: dict


def check_layer(layer, x, *, reference=None, backend=None, mode="full", directions=8,
                rtol=None, atol=None, grad_rtol=1e-5, grad_atol=1e-7, eps=1e-6, random_seed=0):
    """Check `layer` on input `x` against the Layer contract; AssertionError on the first miss.

    Checked, in this order:

    1. a training-mode forward returns one array on `backend` (library, device, float64)
       with the shape ``layer.output_shape`` promises, equal to ``reference`` when given, and
       keeps exactly one record (a layer with sub-layers: at least one);
    2. ``backward(R)`` consumes it and returns dL/dx on `backend`, and every parameter's
       ``grad`` is there too, in its shape;
    3. those gradients equal float64 central differences of ``L = sum(forward(x) * R)``:
       element by element (``mode="full"``) or along `directions` random unit vectors per array
       (``mode="random"``, Chainer's check_backward, for layers with many weights);
    4. ``backward(R, input_gradient=False)`` returns None, consumes its record, and ADDS the
       same gradient into every trainable parameter;
    5. in eval mode, forward changes no buffer; under ``tinyml.no_grad()`` it keeps no record.

    Every forward runs inside ``tinyml.use_seed(random_seed)``, so a random layer (Dropout)
    draws the same numbers each time, and the caller's random streams are untouched.

    Parameters
    ----------
    layer : Layer
        Built on `backend` (its parameters live there).
    x : host array (or any backend's), cast to float64; or a list of them, for a layer that
        takes a list of inputs (Add, Concatenate). Then ``output_shape`` gets the list of
        shapes, `reference` the list of host inputs, and backward must return a list of
        gradients, each checked against finite differences in its own input. Or an
        :class:`~tinyml.testing.Inputs` of several positional inputs and keyword options
        (``Inputs(x, (h, c))`` for ``cell.forward(x, (h, c))``, ``Inputs(q, k, v,
        mask=m)``): then ``output_shape`` gets each input's shape as its own argument (a
        tuple of shapes for a tuple), `reference` the tuple of host inputs, and backward
        returns a tuple of gradients, one per input, each shaped as its input. Integer and
        boolean inputs (indices) stay as they are and have no gradient: backward returns None
        in their place. A forward may return a tuple of arrays; R is then one array per
        output, and so is what `reference` returns.
    reference : callable, optional
        ``reference(x, params) -> expected output``: a plain NumPy function of the host input
        and ``params``, a dict of host copies of ``layer.state_dict()`` (parameters and
        buffers by dotted key: ``params["weight"]``). Compared with the training forward.
    backend : Backend, optional
        A float64 backend; the current one by default.
    mode : ``"full"`` or ``"random"``
    directions : int
        Random directions per array in ``"random"`` mode.
    rtol, atol : float, optional
        Tolerance of the forward against `reference` (by default by dtype, as assert_close).
    grad_rtol, grad_atol, eps : float
        Tolerance of the gradients, and the finite-difference step.
    random_seed : int
        Seeds the forwards' streams, R, and the random directions.

    Returns
    -------
    LayerCheck
        The output, R and the analytic gradients, so a test can compare further.

    Notes
    -----
    The layer is left as it was found (modes, buffers, parameter values), with its records
    cleared and its gradients zero.
    """
    backend = float64_backend(backend)
    check_mode(mode, directions)
    if reference is not None and not callable(reference):
        raise TypeError(f"reference must be a function reference(x, params) -> expected "
                        f"output; got {type(reference).__name__}")
    run = SeededForward(layer, backend, random_seed)
    call = run.x_host(x)
    with _restored(layer):
        output = _check_forward(run, call, reference, rtol=rtol, atol=atol)
        projection = run.projection(shapes_of(output))
        gradients = _check_backward(run, call, projection)
        compare_with_finite_differences(run, call, projection, gradients, mode=mode,
                                        directions=directions, rtol=grad_rtol, atol=grad_atol,
                                        eps=eps)
        _check_parameter_gradients_only(run, call, projection, gradients)
        _check_eval(run, call)
    return LayerCheck(output=output, in_gradient=projection, gradients=gradients)


def _check_forward(run, call, reference, *, rtol, atol):
    """Step 1; returns the output as host arrays (a tuple, for a forward that returns one)."""
    layer, who = run.layer, run.layer.describe()
    output = run(call)
    if not leaves(output) or not (is_leaf(output) or isinstance(output, tuple)):
        raise TypeError(f"check_layer needs a forward that returns an array (or a tuple of "
                        f"arrays); {who} returned {type(output).__name__}")
    for path, each in leaves(output):
        if not differentiable(each):
            raise TypeError(f"check_layer differentiates every output; {who} returned "
                            f"{each.dtype} values as output{_at(path)} (indices?). Check a "
                            "configuration that returns floating arrays only.")
        assert_on_backend(each, run.backend, err_msg=f"{who}: the output{_at(path)} of forward")
    promised = output_shapes(layer, call)
    if not same_shape_tree(shapes_of(output), promised):
        arguments = ", ".join(str(shape) for shape in shapes_of(call.args))
        _fail(f"{who}: forward returned shape {shapes_of(output)} but output_shape"
              f"({arguments}) promises {promised}")
    if reference is not None:
        params = {key: np.array(to_numpy(value), copy=True)
                  for key, value in layer.state_dict().items()}
        expected = reference(copied(forward_args(call)), params)
        for (path, each), (_, want) in zip(leaves(output), _expected_leaves(expected, output),
                                           strict=True):
            assert_close(each, want, backend=run.backend, rtol=rtol, atol=atol,
                         err_msg=f"{who}: forward{_at(path)} disagrees with the reference")
    kept = _pending(layer)
    if kept != 1 and not (layer.named_layers() and kept >= 1):
        _fail(f"{who}: a training-mode forward must keep one record for backward (call "
              f"self.save_for_backward(..., output_shape=...) once in forward); it kept {kept}")
    return _host_tree(output)


def _expected_leaves(expected, output):
    """[(path, host array)] of what a reference returned, shaped as `output` is."""
    if is_leaf(output):
        return [((), np.asarray(expected))]
    if not isinstance(expected, (tuple, list)) or len(expected) != len(output):
        _fail(f"the reference must return {len(output)} arrays, as forward does; got "
              f"{type(expected).__name__}")
    return leaves(tuple(np.asarray(each) for each in expected))


def _host_tree(output):
    if is_leaf(output):
        return np.array(to_numpy(output), dtype=np.float64, copy=True)
    return tuple(_host_tree(each) for each in output)


def _at(path):
    return "".join(f"[{index}]" for index in path)


def _check_backward(run, call, projection):
    """Step 2; returns the analytic gradients as host arrays."""
    layer = run.layer
    gradient = layer.backward(run.on_backend(projection))
    left = _pending(layer)
    if left:
        _fail(f"{layer.describe()}: backward must consume the record its forward kept; "
              f"{left} left")
    return host_gradients(layer, run.backend, gradient, call)


def _check_parameter_gradients_only(run, call, projection, gradients):
    """Step 4: one more forward, then backward(R, input_gradient=False) on top of step 2's."""
    layer, who = run.layer, run.layer.describe()
    run(call)
    result = layer.backward(run.on_backend(projection), input_gradient=False)
    if result is not None:
        _fail(f"{who}: backward(g, input_gradient=False) must return None; got "
              f"{type(result).__name__}")
    if not layer.named_layers() and layer.pending_records:
        _fail(f"{who}: backward(g, input_gradient=False) must consume the record")
    for name, parameter in layer.named_parameters().items():
        if parameter.trainable:
            assert_close(parameter.grad, 2 * gradients[name], backend=run.backend, rtol=1e-10,
                         atol=1e-12, err_msg=f"{who}: backward(g, input_gradient=False) must "
                                             f"ADD the gradient backward(g) adds, for {name}")


def _check_eval(run, call):
    """Step 5."""
    layer, who = run.layer, run.layer.describe()
    layer.eval().clear_records()
    before = {key: np.array(to_numpy(b.data), copy=True)
              for key, b in layer.named_buffers().items()}
    output = run(call)
    for path, each in leaves(output):
        assert_on_backend(each, run.backend,
                          err_msg=f"{who}: the output{_at(path)} of forward in eval mode")
    if not same_shape_tree(shapes_of(output), output_shapes(layer, call)):
        _fail(f"{who}: in eval mode forward returned shape {shapes_of(output)}, not the "
              f"promised {output_shapes(layer, call)}")
    layer.clear_records()  # eval mode keeps records as training does; no_grad keeps none
    run(call, record=False)
    kept = _pending(layer)
    if kept:
        _fail(f"{who}: forward inside tinyml.no_grad() must keep no record for backward; it "
              f"kept {kept}")
    for key, buffer in layer.named_buffers().items():
        after = to_numpy(buffer.data)
        if after.shape != before[key].shape or not np.array_equal(after, before[key],
                                                                  equal_nan=True):
            _fail(f"{who}: forward in eval mode changed buffer {key!r}; in eval mode a "
                  "layer only reads its buffers")


def _pending(layer):
    """Records kept by `layer` and all its sub-layers."""
    return sum(each.pending_records for each in (layer, *layer.named_layers().values()))


@contextlib.contextmanager
def _restored(layer):
    """Training mode, no records and zero gradients inside; modes and buffers as they were
    after (the same arrays, with their old values), records cleared, gradients zero."""
    modes = [(each, each.training) for each in (layer, *layer.named_layers().values())]
    buffers = [(buffer, buffer.data, array_namespace(buffer.data).asarray(buffer.data, copy=True))
               for buffer in layer.buffers()]
    layer.train().clear_records().zero_grad()
    try:
        yield
    finally:
        for each, training in modes:
            each.training = training
        for buffer, original, values in buffers:
            buffer.data = original
            original[...] = values
        layer.clear_records().zero_grad()


def _fail(message):
    raise AssertionError(message)
