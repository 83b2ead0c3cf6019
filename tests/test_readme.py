"""The README's Python example runs as written (docs that match the code)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


def test_the_python_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(block for block in blocks if "Learner" in block)
    assert len(example.strip().splitlines()) <= 15
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(example, str(README), "exec"), namespace)
    assert namespace["learner"].evaluate(namespace["x_test"], namespace["y_test"])["accuracy"] > 0.9
    assert (tmp_path / "digits.npz").exists()
    assert "epoch 10/10" in capsys.readouterr().out
