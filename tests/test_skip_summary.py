"""The end of a run: skips summed up by reason in a few lines, the backends tested named, and
tests that need an optional extra skipped (never failed) where it is not installed."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLOTS = importlib.util.find_spec("matplotlib") is not None
CONFTEST = (Path(__file__).parent / "conftest.py").read_text()

SUITE = """
import pytest

@pytest.mark.parametrize("n", range(5))
def test_skipped_for_one_reason(n):
    pytest.skip("reason one")

@pytest.mark.parametrize("n", range(2))
def test_skipped_for_another(n):
    pytest.skip("reason two")

@pytest.mark.extra("fake")
def test_needs_a_missing_extra():
    raise AssertionError("it ran without its extra")

@pytest.mark.extra("plots")
def test_needs_an_installed_extra():
    pass

def test_on_a_backend(backend):
    pass
"""


def run_sandbox(pytester, monkeypatch, backends, *args):
    """A small suite run in a fresh interpreter with tests/conftest.py as its conftest (and
    one more extra, "fake", whose module is nowhere)."""
    monkeypatch.setenv("TINYML_TEST_BACKENDS", backends)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's tinyml
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest('pytest_plugins = ["tinyml.testing.plugin"]\n' + CONFTEST +
                          '\nEXTRAS["fake"] = ("no_such_module_for_tinyml", "nothing")\n')
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfEX", *args,
                                         timeout=120)


def test_skips_are_summed_by_reason_not_listed(pytester, monkeypatch):
    result = run_sandbox(pytester, monkeypatch, "numpy,array_api_strict")
    result.assert_outcomes(passed=2 + PLOTS, skipped=8 + (not PLOTS))
    text = result.stdout.str()
    assert "SKIPPED [" not in text, "no line per skip"
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "skipped, by reason" in line)
    assert lines[start + 1:start + 4] == [
        "     5  reason one",
        "     2  reason two",
        '     1  needs the fake extra (nothing is not installed): pip install -e ".[fake]"']
    assert "tested: numpy, array_api_strict (TINYML_TEST_BACKENDS names them)" in text


def test_without_skips_nothing_is_summed(pytester, monkeypatch):
    result = run_sandbox(pytester, monkeypatch, "numpy", "-k", "backend")
    result.assert_outcomes(passed=1)
    assert "by reason" not in result.stdout.str()
    assert "tested: numpy" in result.stdout.str()
