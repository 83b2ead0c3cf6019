"""tinyml: a small deep-learning library you can read end to end.

Every layer writes its own forward and backward pass in standard Array API calls, so the same
Net and Learner train on NumPy on a CPU or CuPy on a GPU, picked with ``set_backend``.
"""

from . import (
    callbacks,
    data,
    distributed,
    init,
    layers,
    losses,
    metrics,
    models,
    onnx,
    optim,
    train,
    viz,
)
from .backend import (
    Backend,
    asarray,
    get_backend,
    seed,
    set_backend,
    to_numpy,
    use_backend,
    use_seed,
)
from .core import Buffer, Layer, Net, Parameter, load_net, no_grad, register_layer
from .train import Learner

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "Buffer",
    "Layer",
    "Learner",
    "Net",
    "Parameter",
    "__version__",
    "asarray",
    "callbacks",
    "data",
    "distributed",
    "get_backend",
    "init",
    "layers",
    "load_net",
    "losses",
    "metrics",
    "models",
    "no_grad",
    "onnx",
    "optim",
    "register_layer",
    "seed",
    "set_backend",
    "to_numpy",
    "train",
    "use_backend",
    "use_seed",
    "viz",
]
