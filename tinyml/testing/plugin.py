"""A pytest plugin: run your layer tests on every backend tinyml supports.

Enable it with ``pytest -p tinyml.testing.plugin`` or, in your root ``conftest.py``,
``pytest_plugins = ["tinyml.testing.plugin"]``. A test that takes ``backend`` (or
``backend32``) then runs once per backend:

- ``numpy``;
- ``array_api_strict`` on ``"device1"`` (not its default device), so an array created without
  ``device=`` fails loudly and anything outside the standard raises;
- ``torch`` on the CPU, skipped (with the reason) where torch is not installed;
- ``cupy``, marked ``gpu`` and skipped with the reason when CuPy or a CUDA device is missing.

``TINYML_TEST_BACKENDS=numpy,array_api_strict`` narrows the set; an unknown name is a usage
error. ``-m "not gpu"`` deselects the GPU runs.

What each library needs here (its device, its skip reason, its ``gpu`` mark) comes from its
adapter (:mod:`tinyml.backend.adapters`), so a new library is tested without an edit here.
"""

import os

import pytest

import tinyml
from tinyml.backend import adapters

_TESTED = sorted((adapters.named(name) for name in adapters.KNOWN_BACKENDS),
                 key=lambda adapter: adapter.gpu)  # the host libraries first
ALL_BACKENDS = tuple(adapter.name for adapter in _TESTED)
TEST_DEVICES = {adapter.name: adapter.test_device for adapter in _TESTED
                if adapter.test_device is not None}
ENV_VAR = "TINYML_TEST_BACKENDS"


def requested_backends():
    """The backends named by $TINYML_TEST_BACKENDS (all of them when unset or empty)."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return ALL_BACKENDS
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(set(names) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(f"{ENV_VAR} names unknown backends {unknown}; known: "
                                f"{ALL_BACKENDS}")
    return names


def backend_params():
    """One ``pytest.param`` per requested backend, with its ``gpu`` mark and skip reason."""
    params = []
    for name in requested_backends():
        adapter = adapters.named(name)
        marks = [pytest.mark.gpu] if adapter.gpu else []
        reason = adapter.test_skip_reason()
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


# ---------------------------------------------------------------------------- pytest hooks
def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device (CuPy backend)")
    requested_backends()  # an unknown name stops the run here, before anything is collected


def pytest_generate_tests(metafunc):
    """Parametrize every test that uses ``backend`` (directly or through ``backend32``) over
    the requested backends, read when the tests are collected. A test that parametrizes
    ``backend`` itself keeps its own values."""
    own = any("backend" in _argnames(mark) for mark in metafunc.definition.iter_markers(
        "parametrize"))
    if "backend" in metafunc.fixturenames and not own:
        metafunc.parametrize("backend", backend_params(), indirect=True)


def _argnames(mark):
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture
def backend(request):
    """The backend under test, current in the test and in float64 (the precision gradient
    checks need), drawing from fresh streams of seed 0 (``tinyml.use_seed(0)``: the suite's
    own streams are put back after the test)."""
    name = request.param
    with tinyml.use_backend(name, device=TEST_DEVICES.get(name), dtype="float64") as active:
        with tinyml.use_seed(0):
            yield active


@pytest.fixture
def backend32(backend):
    """The same backend in float32, tinyml's default dtype."""
    with tinyml.use_backend(backend, dtype="float32") as active:
        yield active
