"""The package's metadata: an SPDX license with its file shipped, built without a warning."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BUILD_METADATA = """
import sys, warnings
warnings.simplefilter("error")  # a deprecation today is a failed install on a later setuptools
from setuptools import build_meta
out = sys.argv[1]  # setuptools rewrites sys.argv while it runs
name = build_meta.prepare_metadata_for_build_wheel(out)
print(open(f"{out}/{name}/METADATA").read())
"""


def project():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_string_with_its_file_shipped():
    metadata = project()
    assert metadata["project"]["license"] == "MIT"
    assert metadata["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "setuptools>=77" in metadata["build-system"]["requires"]  # the first with PEP 639


def test_the_metadata_builds_without_a_warning(tmp_path):
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} predates SPDX license strings; pip "
                    "builds with the setuptools>=77 that pyproject.toml asks for")
    source = tmp_path / "source"
    shutil.copytree(ROOT / "tinyml", source / "tinyml",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-c", BUILD_METADATA, str(tmp_path / "out")],
                          cwd=source, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "License-Expression: MIT" in done.stdout
    assert "License-File: LICENSE" in done.stdout
