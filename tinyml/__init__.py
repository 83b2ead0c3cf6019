"""tinyml: a small deep-learning library you can read end to end.

Every layer writes its own forward and backward pass in standard Array API calls, so the same
Net and Learner train on NumPy on a CPU or CuPy on a GPU, picked with ``set_backend``.
"""

from . import data, init, layers, losses, metrics, models, optim
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
from .learner import Learner
from .net import Net
from .parameter import Parameter

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "Learner",
    "Net",
    "Parameter",
    "__version__",
    "asarray",
    "data",
    "get_backend",
    "init",
    "layers",
    "losses",
    "metrics",
    "models",
    "optim",
    "seed",
    "set_backend",
    "to_numpy",
    "use_backend",
    "use_seed",
]
