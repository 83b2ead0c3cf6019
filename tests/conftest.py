"""The backend fixtures: every layer test runs on each backend tinyml supports.

- numpy;
- array_api_strict on "device1" (not its default device), so an array created without
  ``device=`` fails loudly and anything outside the standard raises;
- torch on the CPU, where torch is installed;
- cupy, marked ``gpu`` and skipped with the reason when no CUDA device is visible.

``TINYML_TEST_BACKENDS=numpy,array_api_strict`` narrows the set.
"""

import importlib.util
import os

import pytest

import tinyml
from tinyml.backend._registry import _cuda_devices

ALL_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")
TEST_DEVICES = {"array_api_strict": "device1"}


def _requested():
    raw = os.environ.get("TINYML_TEST_BACKENDS", "").strip()
    if not raw:
        return ALL_BACKENDS
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(set(names) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"TINYML_TEST_BACKENDS names unknown backends {unknown}; known: {ALL_BACKENDS}"
        )
    return names


def _cupy_skip_reason():
    if importlib.util.find_spec("cupy") is None:
        return 'CuPy is not installed (pip install "tinyml-xp[cuda12]")'
    import cupy

    count, reason = _cuda_devices(cupy)
    return None if count else f"no CUDA device visible to CuPy ({reason})"


def backend_params():
    params = []
    for name in _requested():
        marks = []
        if name == "torch" and importlib.util.find_spec("torch") is None:
            marks.append(pytest.mark.skip(reason="torch is not installed (optional backend)"))
        if name == "cupy":
            marks.append(pytest.mark.gpu)
            reason = _cupy_skip_reason()
            if reason:
                marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


BACKEND_PARAMS = backend_params()


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request):
    """The backend under test, current and in float64 (the precision gradient checks need)."""
    name = request.param
    if name == "torch":
        _single_thread_torch()
    with tinyml.use_backend(name, device=TEST_DEVICES.get(name), dtype="float64") as active:
        tinyml.seed(0)
        yield active


def _single_thread_torch():
    """Tests use tiny arrays, where torch's thread pool gains nothing, and its threads
    spin-waiting for a busy core made single steps take milliseconds here when other jobs
    shared the machine. One thread keeps the torch runs predictable."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def backend32(backend):
    """The same backend in float32, tinyml's default dtype."""
    with tinyml.use_backend(backend, dtype="float32") as active:
        yield active


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may call set_backend or seed; put the backend and the random streams back."""
    saved = tinyml.backend.snapshot()
    yield
    tinyml.backend.restore(saved)
