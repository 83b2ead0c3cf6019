"""The core every layer stands on: Parameter and Buffer, the Layer contract (recursive
discovery, per-call records, modes, moves, hyperparameters and configs), Net, ``load_net``
and ``no_grad``."""

from .checks import (
    channels_hint,
    check_input_dim,
    check_positive_int,
    counted,
    format_shape,
    shape_error,
)
from .config import register_layer, registered_layers
from .files import load_net
from .layer import Layer
from .loading import LoadResult
from .net import Net
from .parameter import Buffer, Parameter
from .records import grad_enabled, no_grad

__all__ = [
    "Buffer",
    "Layer",
    "LoadResult",
    "Net",
    "Parameter",
    "channels_hint",
    "check_input_dim",
    "check_positive_int",
    "counted",
    "format_shape",
    "grad_enabled",
    "load_net",
    "no_grad",
    "register_layer",
    "registered_layers",
    "shape_error",
]
