"""The core every layer stands on: Parameter and Buffer, the Layer contract (recursive
discovery, per-call records, modes, moves, hyperparameters and configs), Net, ``load_net``,
``no_grad`` and ``skip_index_checks``."""

from .checks import (
    check_input_dim,
    check_positive_int,
    format_shape,
    reshape_target,
    shape_error,
)
from .config import register_layer, registered_layers
from .indices import index_checks_enabled, skip_index_checks
from .layer import Layer
from .loading import LoadResult
from .net import Net, load_net
from .parameter import Buffer, Parameter
from .records import grad_enabled, no_grad

__all__ = [
    "Buffer",
    "Layer",
    "LoadResult",
    "Net",
    "Parameter",
    "check_input_dim",
    "check_positive_int",
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
