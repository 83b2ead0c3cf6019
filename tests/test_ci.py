"""CI's oldest-versions run pins exactly the floors pyproject.toml states."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORED = ("numpy", "array-api-compat", "array-api-strict", "pytest", "hypothesis",
           "scikit-learn", "tqdm", "matplotlib", "tensorboardx")
# What the oldest run installs: the README's test command's extras but onnx (ndonnx needs
# NumPy 2, above the NumPy floor) and mpi (launching MPI twice would double the mpirun tests'
# time); their tests skip there and run in ci/test.sh.
EXTRAS = ("test", "data", "plots", "tensorboard")


def floors():
    """{name: version} from each ``name>=version`` in dependencies and the extras the tests
    install."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    found = {}
    for requirement in project["dependencies"] + [r for extra in EXTRAS for r in extras[extra]]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        found[name.lower()] = version
    return found


def pins():
    lines = (ROOT / "ci" / "oldest-constraints.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip().lower(): version.strip() for name, version in pairs}


def _release(version):
    """(1, 26, 0) for "1.26" and "1.26.0" alike."""
    parts = [int(part) for part in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def test_the_oldest_run_pins_every_floor_and_nothing_newer():
    wanted, pinned = floors(), pins()
    assert set(FLOORED) <= set(wanted)
    assert sorted(pinned) == sorted(wanted)
    for name, floor in wanted.items():
        assert _release(pinned[name]) == _release(floor), (
            f"ci/oldest-constraints.txt pins {name}=={pinned[name]} but pyproject.toml's floor "
            f"is {floor}: change both together")
