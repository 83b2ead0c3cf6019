"""tinyml.testing.plugin in a user's own suite (run by pytester in a sandbox folder), and the
README's "Testing your own layers" example on every backend."""

import importlib.util
import pathlib
import re

import pytest

import tinyml
from tinyml.backend import make_backend
from tinyml.testing.plugin import TEST_DEVICES, backend_params

ROOT = pathlib.Path(tinyml.__file__).resolve().parents[1]
README = ROOT / "README.md"

USER_TEST = """
import pytest

def test_name(backend, backend32):
    assert backend.dtype_name == "float64" and backend32.dtype_name == "float32"
    assert backend32.name == backend.name
"""


@pytest.fixture(autouse=True, scope="module")
def _backends_imported():
    """pytester's in-process runs forget the modules they import, and numpy's C extensions
    cannot be imported twice: import every backend's modules here, before the first run."""
    for name in ("numpy", "array_api_strict", "torch"):
        if importlib.util.find_spec(name):
            make_backend(name, device=TEST_DEVICES.get(name))


@pytest.fixture(autouse=True)
def _no_other_plugins(monkeypatch):
    """The sandboxed runs load only the plugins they name (hypothesis's alone costs seconds)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def readme_example():
    section = README.read_text().split("## Testing your own layers", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_readme_example_runs_on_every_backend(pytester, monkeypatch):
    monkeypatch.delenv("TINYML_TEST_BACKENDS", raising=False)
    pytester.makepyfile(test_scale=readme_example())
    result = pytester.runpytest("-p", "tinyml.testing.plugin", "-v")
    params = backend_params()
    skipped = sum(any(mark.name == "skip" for mark in param.marks) for param in params)
    result.assert_outcomes(passed=len(params) - skipped, skipped=skipped)
    result.stdout.fnmatch_lines(["*test_scale[[]numpy[]] PASSED*",
                                 "*test_scale[[]array_api_strict[]] PASSED*"])


def test_a_fresh_interpreter_loads_it_with_dash_p(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", "numpy")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's tinyml, not an installed one
    pytester.makepyfile(test_user=USER_TEST)
    pytester.runpytest_subprocess("-p", "tinyml.testing.plugin").assert_outcomes(passed=1)


def test_a_root_conftest_enables_it_too(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", "numpy,array_api_strict")
    pytester.makeconftest('pytest_plugins = ["tinyml.testing.plugin"]')
    pytester.makepyfile(test_user=USER_TEST)
    pytester.runpytest().assert_outcomes(passed=2)


def test_the_environment_narrows_the_backends(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", " numpy ")
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("-p", "tinyml.testing.plugin", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_name[[]numpy[]] PASSED*"])


def test_an_unknown_backend_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", "numpy,jax")
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("-p", "tinyml.testing.plugin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.re_match_lines([re.escape("ERROR: TINYML_TEST_BACKENDS names unknown backends "
                                            "['jax']; known: ")])


def test_the_gpu_mark_is_registered_and_deselects_cupy(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", "numpy,cupy")
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("-p", "tinyml.testing.plugin", "--strict-markers", "-m",
                                "not gpu")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_test_that_parametrizes_backend_keeps_its_values(pytester, monkeypatch):
    monkeypatch.setenv("TINYML_TEST_BACKENDS", "numpy")
    pytester.makepyfile(test_user="""
import pytest

@pytest.mark.parametrize("backend", ["array_api_strict"], indirect=True)
def test_strict_only(backend):
    assert backend.name == "array_api_strict" and "device1" in str(backend.device)
""")
    pytester.runpytest("-p", "tinyml.testing.plugin").assert_outcomes(passed=1)
