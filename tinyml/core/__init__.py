"""The core every layer stands on: Parameter and Buffer, the Layer contract (recursive
discovery, per-call records, modes, moves, hyperparameters and configs), Net, ``load_net``,
``no_grad`` and ``skip_index_checks``."""

from .checks import (
    channels_hint,
    check_input_dim,
    check_positive_int,
    counted,
    format_shape,
    reshape_target,
    shape_error,
)
from .config import register_layer, registered_layers
from .files import load_net
from .indices import index_checks_enabled, skip_index_checks
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
    "index_checks_enabled",
    "load_net",
    "no_grad",
    "register_layer",
    "registered_layers",
    "reshape_target",
    "shape_error",
    "skip_index_checks",
]
