"""What tinyml's own tests add to the backend fixtures of ``tinyml.testing.plugin`` (enabled in
the root conftest.py): torch on one thread, and the globals put back after every test."""

import pytest

import tinyml


@pytest.fixture
def backend(backend):
    """The plugin's backend. Tests use tiny arrays, where torch's thread pool gains nothing,
    and its threads spin-waiting for a busy core made single steps take milliseconds here when
    other jobs shared the machine. One thread keeps the torch runs predictable."""
    if backend.name == "torch":
        import torch

        torch.set_num_threads(1)
    return backend


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may call set_backend or seed; put the backend and the random streams back."""
    saved = tinyml.backend.snapshot()
    yield
    tinyml.backend.restore(saved)
