"""What tinyml's own tests add to the backend fixtures of ``tinyml.testing.plugin`` (enabled in
the root conftest.py): torch on one thread, the globals put back after every test, tests that
need an optional extra skipped where it is not installed, and the skips summed up by reason
at the end of a run instead of one line each."""

import collections
import importlib.util
import os

import pytest

import tinyml
from tinyml.testing import plugin

# extra -> (the module it installs, the package to name)
EXTRAS = {"data": ("sklearn", "scikit-learn"), "plots": ("matplotlib", "matplotlib"),
          "tensorboard": ("tensorboardX", "tensorboardX")}
TORCH_INSTALL = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def pytest_configure(config):
    config.addinivalue_line("markers", "extra(*names): needs tinyml's optional extras "
                            f"({', '.join(EXTRAS)}); skipped where one is not installed")


def missing_extra(names):
    """The skip reason for the first extra of `names` that is not installed, or None."""
    for name in names:
        module, package = EXTRAS[name]
        if importlib.util.find_spec(module) is None:
            return (f"needs the {name} extra ({package} is not installed): "
                    f'pip install -e ".[{name}]"')
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        for mark in item.iter_markers("extra"):
            unknown = sorted(set(mark.args) - set(EXTRAS))
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown extras {unknown}")
            reason = missing_extra(mark.args)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------- the summary at the end
def backend_lines():
    """Which backends this run tested, and why the others were not: a line each."""
    ran, skipped = [], []
    for param in plugin.backend_params():
        reasons = [mark.kwargs.get("reason", "") for mark in param.marks
                   if mark.name == "skip"]
        if reasons:
            skipped.append(f"not tested: {param.values[0]}: {reasons[0]}")
        else:
            ran.append(param.values[0])
    narrowed = f" ({plugin.ENV_VAR} names them)" if os.environ.get(plugin.ENV_VAR, "").strip() \
        else ""
    return [f"tested: {', '.join(ran) or 'none'}{narrowed}", *skipped]


def skip_reason(report):
    """The reason text of a skipped test's report, without pytest's 'Skipped: ' prefix."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter):
    """The skips counted by reason, most common first, in a few lines (pytest's own ``-rs``
    still lists them one by one)."""
    reporter = terminalreporter
    reporter.write_sep("-", "backends")
    for line in backend_lines():
        reporter.write_line(line)
    if importlib.util.find_spec("torch") is None:
        reporter.write_line(f"add torch's backend (a CPU build is enough): {TORCH_INSTALL}")
    skipped = [report for report in reporter.stats.get("skipped", ())
               if getattr(report, "skipped", False)]
    if not skipped:
        return
    counts = collections.Counter(skip_reason(report) for report in skipped)
    reporter.write_sep("-", f"{len(skipped)} skipped, by reason")
    for reason, count in counts.most_common():
        reporter.write_line(f"{count:6d}  {reason}")


# ---------------------------------------------------------------- fixtures
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
