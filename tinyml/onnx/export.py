"""``tinyml.onnx.export``: a net's eval-mode forward, traced on ndonnx arrays, as an ONNX file."""

import numbers
import os
import tempfile

from ..core import Layer
from .graph import (
    drop_unused_outputs,
    name_batch_axis,
    order_ends,
    sign,
    weights_as_initializers,
    with_opset,
)
from .tracing import LayerNotTraceable, host_values, owned_arrays, traced

INPUT, OUTPUT = "input", "output"
INPUT_DTYPES = ("float32", "int64", "int32")
INSTALL = 'pip install "tinyml-xp[onnx]" (or: pip install ndonnx onnx onnxruntime)'


def export(net, path, *, input_shape, opset=None, input_dtype="float32"):
    """Write `net`'s eval-mode forward to `path` as an ONNX model; returns the ModelProto.

    Parameters
    ----------
    net : Net or Layer
        On any backend, in any mode; it is left exactly as it was (backend, device, dtype,
        mode, parameters, buffers, records, random streams).
    path : str or os.PathLike
        The ``.onnx`` file to write (replaced whole: a crash leaves the old one).
    input_shape : tuple, or a list of tuples for a layer that takes a list of inputs
        The input's shape, batch first: None for a dynamic batch (the graph takes any batch
        size; the axis is named ``batch``) or a fixed size. Every other extent is fixed.
    opset : int, optional
        The ONNX opset to write. None: the lowest one holding every operator in the graph
        (opset 21 or less); a newer one is reached with ONNX's version converter.
    input_dtype : {"float32", "int64", "int32"}
        The input's dtype: float32 for data, an integer type for a net that starts by looking
        up indices (an embedding). The weights are float32 whatever the net's dtype.

    Returns
    -------
    onnx.ModelProto
        What was written, already checked with ``onnx.checker.check_model(full_check=True)``.

    Notes
    -----
    The forward runs once on ndonnx arrays (an Array API namespace whose arrays build an ONNX
    graph), so the graph is exactly what the layers compute, in float32. The backend
    operations emit one ONNX operator each (``Conv``, ``MaxPool``, ``AveragePool``,
    ``ConvTranspose``, ``Gemm``, ``Softmax``, ``LogSoftmax``); everything else is the layers'
    own standard calls. The input is named ``input`` (``input_0``, ``input_1``, ... for a
    list), the output ``output`` (``output_0``, ... when forward returns several), and every
    parameter and buffer the forward uses is an initializer named by its ``state_dict`` key
    (``"conv1.weight"``). Dropout passes everything and BatchNorm uses its running statistics,
    as in ``net.eval()``.

    Raises
    ------
    TypeError
        `net` is not a layer; `input_shape` or `opset` of the wrong type; a layer whose
        forward does not run on ndonnx arrays (it draws random numbers, reads values to the
        host, or names an array library): the message names the layer.
    ValueError
        A malformed `input_shape`, one the net does not take (the layer's own message), an
        opset out of reach, a folder as `path`.
    FileNotFoundError
        The folder of `path` does not exist.
    RuntimeError
        ndonnx or onnx is not installed (the ``onnx`` extra).

    Examples
    --------
    >>> import tinyml                                                  # doctest: +SKIP
    >>> net = tinyml.models.cnn()                                      # doctest: +SKIP
    >>> tinyml.onnx.export(net, "digits.onnx", input_shape=(None, 1, 8, 8))  # doctest: +SKIP
    """
    if not isinstance(net, Layer):
        raise TypeError(f"tinyml.onnx.export expects a tinyml Net or Layer; got "
                        f"{type(net).__name__}")
    shapes = _checked_input_shape(input_shape)
    _check_opset(opset)
    _check_input_dtype(input_dtype)
    path = _checked_path(path)
    ndonnx, onnx = _require()
    _check_fits(net, shapes)
    values = host_values(owned_arrays(net))
    with traced(net, values) as arguments:
        inputs = _arguments(ndonnx, shapes, getattr(ndonnx, input_dtype))
        try:
            result = net.forward(inputs[INPUT] if isinstance(shapes, tuple)
                                 else list(inputs.values()))
        except LayerNotTraceable as failure:
            raise TypeError(_refusal(failure)) from failure.error
        outputs = _outputs(ndonnx, net, result)
        model = ndonnx.build({**inputs, **arguments}, outputs, drop_unused=True)
    weights_as_initializers(model, values)
    order_ends(model, inputs, outputs)
    drop_unused_outputs(model)
    name_batch_axis(model)
    sign(model, _description(net, shapes))
    model = with_opset(model, opset)
    onnx.checker.check_model(model, full_check=True)
    _write(model, path)
    return model


# ---------------------------------------------------------------- arguments, checked
def _checked_input_shape(input_shape):
    """A shape tuple, or a list of them (a layer that takes a list of inputs)."""
    if isinstance(input_shape, (tuple, list)) and input_shape \
            and all(isinstance(shape, (tuple, list)) for shape in input_shape):
        return [_checked_shape(shape, f"input_shape[{i}]") for i, shape in enumerate(input_shape)]
    return _checked_shape(input_shape, "input_shape")


def _checked_shape(shape, what):
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"tinyml.onnx.export: {what} must be a tuple such as (None, 1, 8, 8), "
                        f"batch first (None for any batch size); got {shape!r}")
    for axis, extent in enumerate(shape):
        if extent is None and axis == 0:
            continue
        is_int = isinstance(extent, numbers.Integral) and not isinstance(extent, bool)
        if not is_int or extent < 1:
            where = "the batch size" if axis == 0 else f"axis {axis}"
            allowed = "None (any batch size) or an int >= 1" if axis == 0 else "an int >= 1"
            error = ValueError if is_int or extent is None else TypeError
            raise error(f"tinyml.onnx.export: {what} {tuple(shape)!r}: {where} must be "
                        f"{allowed}; got {extent!r}. Only the batch axis can be dynamic.")
    return tuple(None if extent is None else int(extent) for extent in shape)


def _check_fits(net, shapes):
    """The layer's own ValueError for a shape the net cannot take; a hint when the shape
    fits with a batch axis in front (one sample's shape was given)."""
    try:
        net.output_shape(shapes)
    except ValueError as error:
        if isinstance(shapes, tuple) and _takes(net, (None, *shapes)):
            raise ValueError(
                f"tinyml.onnx.export: input_shape {shapes} is one sample's shape; it is batch "
                f"first: input_shape={(None, *shapes)} for any batch size, or a fixed batch "
                "in place of None") from error
        raise


def _takes(net, shape):
    try:
        net.output_shape(shape)
    except ValueError:
        return False
    return True


def _check_input_dtype(input_dtype):
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(f"tinyml.onnx.export: input_dtype must be one of {INPUT_DTYPES}; got "
                         f"{input_dtype!r}")


def _check_opset(opset):
    if opset is None:
        return
    if isinstance(opset, bool) or not isinstance(opset, numbers.Integral):
        raise TypeError(f"tinyml.onnx.export: opset must be an int such as 21, or None; got "
                        f"{opset!r}")


def _checked_path(path):
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"tinyml.onnx.export: path must be a file name such as "
                        f"'model.onnx'; got {type(path).__name__}") from None
    if os.path.isdir(path):
        raise ValueError(f"tinyml.onnx.export: {path} is a folder; name a file in it, such as "
                         f"{os.path.join(path, 'model.onnx')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"tinyml.onnx.export: no folder {folder} to write {path} into; "
                                "create it first")
    return path


def _require():
    """(ndonnx, onnx), or a RuntimeError saying how to install them."""
    try:
        import ndonnx
        import onnx
    except ImportError as error:
        raise RuntimeError(f"tinyml.onnx.export needs the onnx extra, which is not installed "
                           f"({error}). Install it with: {INSTALL}") from None
    return ndonnx, onnx


# ---------------------------------------------------------------- the graph's ends
def _arguments(ndonnx, shapes, dtype):
    """{name: ndonnx argument}: ``input``, or ``input_0``, ``input_1``, ... for a list."""
    if isinstance(shapes, tuple):
        return {INPUT: ndonnx.argument(shape=shapes, dtype=dtype)}
    return {f"{INPUT}_{i}": ndonnx.argument(shape=shape, dtype=dtype)
            for i, shape in enumerate(shapes)}


def _outputs(ndonnx, net, result):
    """{name: ndonnx array}: ``output``, or ``output_0``, ... for a tuple or list."""
    named = ({OUTPUT: result} if not isinstance(result, (tuple, list))
             else {f"{OUTPUT}_{i}": item for i, item in enumerate(result)})
    for name, value in named.items():
        if not isinstance(value, ndonnx.Array):
            raise TypeError(f"{net.describe()} cannot be exported to ONNX: its forward returned "
                            f"{type(value).__name__} as {name}, not an array computed from its "
                            "input")
    return named


def _refusal(failure):
    error = failure.error
    return (f"{failure.layer.describe()} cannot be exported to ONNX: its eval-mode forward did "
            f"not run on ndonnx arrays ({type(error).__name__}: {error}). The exporter runs "
            "forward once on ndonnx arrays, which build the graph: standard Array API calls on "
            "the input's namespace export, random draws, values read to the host and array "
            "libraries named directly do not. Leave the layer out of the exported net, or "
            "write its forward in standard calls.")


def _description(net, shapes):
    return (f"{net.describe()}, exported by tinyml: its eval-mode forward, float32 weights, for "
            f"input {shapes} (None: any batch size). Initializers are named by the net's "
            "state_dict keys.")


def _write(model, path):
    """Write `model` beside `path` and rename it over `path`: a crash leaves the old file."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                             suffix=".tinyml-tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(model.SerializeToString())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
