"""Running a net's forward on ndonnx arrays, and leaving the net exactly as it was.

While :func:`traced` runs, every parameter and buffer of the net is an ndonnx argument named
by its ``state_dict`` key, the net is in eval mode, ``tinyml.no_grad()`` holds (no records),
the backend operations run their natives (the ONNX operators), even where
``TINYML_PORTABLE_OPS=1`` or ``portable_ops()`` forces the portable paths, and each layer's
forward is wrapped so that a failure names the layer it happened in. When it
ends, every layer's attributes, every parameter's and buffer's array, and the backend and
random streams are put back as they were, whatever happened.
"""

import contextlib

from ..backend import is_floating, portable_ops, restore, snapshot, to_numpy
from ..core import no_grad


class LayerNotTraceable(Exception):
    """A layer's forward failed on ndonnx arrays: ``layer`` and the ``error`` it raised."""

    def __init__(self, layer, error):
        super().__init__(f"{layer.describe()}: {type(error).__name__}: {error}")
        self.layer = layer
        self.error = error


def owned_arrays(net):
    """{state_dict key: Parameter or Buffer} of `net`, in state_dict order."""
    return {**net.named_parameters(), **net.named_buffers()}


def host_values(owned):
    """{key: host NumPy copy} of each owned array, floating ones as float32 (the graph's dtype)."""
    values = {}
    for key, item in owned.items():
        host = to_numpy(item.data)
        values[key] = host.astype("float32") if is_floating(item.data) else host.copy()
    return values


@contextlib.contextmanager
def traced(net, values):
    """``with traced(net, values) as arguments:`` the net ready to run forward on ndonnx arrays.

    Parameters
    ----------
    net : Layer
    values : dict
        {key: host array} from :func:`host_values`: each owned array becomes an ndonnx
        argument of that array's shape and dtype.

    Yields
    ------
    arguments : dict
        {key: ndonnx argument} standing in for each parameter and buffer.
    """
    import ndonnx

    owned = owned_arrays(net)
    layers = [net, *net.named_layers().values()]
    saved_layers = [(layer, dict(vars(layer))) for layer in layers]
    saved_data = [(item, item.data) for item in owned.values()]
    saved_streams = snapshot()
    try:
        arguments = {}
        for key, item in owned.items():
            dtype = ndonnx.from_numpy_dtype(values[key].dtype)
            item.data = arguments[key] = ndonnx.argument(shape=values[key].shape, dtype=dtype)
        net.eval()
        for layer in layers:
            _name_failures(layer)
        with no_grad(), portable_ops(False):
            yield arguments
    finally:
        for layer, attributes in saved_layers:
            vars(layer).clear()
            vars(layer).update(attributes)
        for item, data in saved_data:
            item.data = data
        restore(saved_streams)


def _name_failures(layer):
    """Wrap `layer`'s forward (on the instance) so that an error inside it becomes a
    LayerNotTraceable naming the innermost layer that failed."""
    forward = layer.forward

    def forward_naming_the_layer(*args, **kwargs):
        try:
            return forward(*args, **kwargs)
        except LayerNotTraceable:
            raise
        except Exception as error:
            raise LayerNotTraceable(layer, error) from error

    vars(layer)["forward"] = forward_naming_the_layer
