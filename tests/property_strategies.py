"""What the property tests share (tests/test_properties.py, tests/test_properties_layers.py):
one place for hypothesis's settings, and strategies for float arrays on the backend under test.

Settings: every property runs a fixed number of examples per backend, derandomized and without
an example database, so CI draws the same examples on every run and no run depends on what an
earlier one found. The ``backend`` fixture is function-scoped, which hypothesis warns about
because it is not reset between examples: it only makes a backend current, and each example
builds its layers inside ``fresh_streams()``, so nothing carries over from one example to the
next (a replayed or shrunk example builds the very same weights).

Arrays: ``hypothesis.extra.array_api`` draws arrays in the backend's own namespace where that
namespace is one hypothesis accepts, i.e. where the arrays have ``__array_namespace__``: NumPy
>= 2 and array_api_strict. Elsewhere (NumPy 1.26, the oldest tinyml supports, whose ndarray
has no ``__array_namespace__``; torch, whose tensors have none either) hypothesis would only
warn that it "could not determine whether module ... is an Array API library" and the dtype
lookups fail, so those backends get NumPy arrays from ``hypothesis.extra.numpy``. Either way
the drawn array goes through ``backend.asarray``: array_api_strict's strategies create arrays
on its default device, and the fixture runs it on "device1", where tinyml's arrays must live.

The api_version is pinned to "2023.12" (what these strategies use, float64 arrays of a shape,
is in every version): hypothesis 6.100, the oldest tinyml's tests support, infers it from
``xp.__array_api_version__`` only for versions up to 2023.12, and array_api_strict 2.3+ and
NumPy 2.2+ report 2024.12 or later.
"""

import contextlib
import functools

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra.array_api import make_strategies_namespace

import tinyml

EXAMPLES = 30  # per property (and parametrization) and backend
# The layer properties run once per layer class (37 of them), so these counts are per class:
# more for the shape formulas, whose arguments combine in many ways (paddings, strides,
# dilations) and whose examples are cheap; fewer for the per-sample gradients, whose examples
# are new values for the same math (10 x 37 classes is still 370 a backend).
SHAPE_EXAMPLES = 40  # per layer class and backend
GRADIENT_EXAMPLES = 10  # per layer class and backend

PROPERTIES = settings(
    max_examples=EXAMPLES,
    deadline=None,  # torch's first call and a busy shared machine make timings meaningless
    derandomize=True,
    database=None,
    # function_scoped_fixture: see the module notes; too_slow: drawing arrays element by
    # element in array_api_strict is slow, and slower on a busy machine, by no fault of a test
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SHAPE_PROPERTIES = settings(PROPERTIES, max_examples=SHAPE_EXAMPLES)
GRADIENT_PROPERTIES = settings(PROPERTIES, max_examples=GRADIENT_EXAMPLES)

API_VERSION = "2023.12"


@contextlib.contextmanager
def fresh_streams():
    """Random streams of seed 0 for one example: the layers it builds get the same weights
    however many examples ran before it (hypothesis replays and shrinks examples)."""
    with tinyml.use_seed(0):
        yield


def array_api_strategies(backend):
    """hypothesis's strategies namespace for `backend`'s namespace, or None where hypothesis
    does not take it as an Array API library (see the module notes)."""
    if not hasattr(backend.zeros((1,)), "__array_namespace__"):
        return None
    return _strategies_for(backend.xp)


@functools.cache
def _strategies_for(xp):
    return make_strategies_namespace(xp, api_version=API_VERSION)


def reals(low, high):
    """Finite float64 values in [low, high]. No subnormals: they are not what these properties
    are about, and a backend that flushes them would make hypothesis complain."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=64)


def float_arrays(backend, shape, *, low=-3.0, high=3.0):
    """Strategy: arrays of `shape` on `backend` (its dtype, its device), values in
    [low, high]."""
    xps = array_api_strategies(backend)
    if xps is None:
        drawn = hnp.arrays(np.float64, tuple(shape), elements=reals(low, high))
    else:
        drawn = xps.arrays(backend.xp.float64, tuple(shape), elements=reals(low, high))
    return drawn.map(backend.asarray)


def on_host(x):
    """A host copy of a backend array (of each of a list), for the references. Always a copy:
    on NumPy ``to_numpy`` hands back the array itself, and a gradient kept that way would
    change with the next backward, which adds into it in place."""
    if isinstance(x, (list, tuple)):  # a list of inputs, or a tuple (a cell's (h, c))
        return type(x)(on_host(each) for each in x)
    return None if x is None else np.array(tinyml.to_numpy(x), copy=True)
