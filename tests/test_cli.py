"""The demo command: `tinyml train`."""

import subprocess
import sys

import numpy as np
import pytest

import tinyml
from tinyml import cli, io

pytestmark = pytest.mark.slow


def test_train_prints_test_accuracy_and_saves_weights(tmp_path, capsys):
    path = tmp_path / "mlp.npz"
    assert cli.main(["train", "--epochs", "3", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Total params" in out and "epoch 3/3" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.8
    assert io.load_state(path)["fc1.weight"].shape == (128, 64)


def test_cnn_on_array_api_strict_quietly(capsys):
    code = cli.main(["train", "--backend", "array_api_strict", "--device", "device1",
                     "--model", "cnn", "--epochs", "1", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("test accuracy ") and "array_api_strict" in out
    assert len(out.strip().splitlines()) == 1


def test_unusable_backend_is_a_clean_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert cli.main(["train", "--backend", "cupy", "--epochs", "1"]) == 2
    assert 'tinyml: error: the cupy backend needs' in capsys.readouterr().err


def test_unknown_option_values_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--model", "transformer"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'transformer'" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run([sys.executable, "-m", "tinyml", "train", "--epochs", "1", "--quiet"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert np.isfinite(float(done.stdout.split("test accuracy ")[1].split()[0]))


def test_the_environment_variable_picks_the_demo_backend(monkeypatch, capsys):
    monkeypatch.setenv("TINYML_BACKEND", "array_api_strict")
    tinyml.backend.reset()  # as in a new process: the demo reads the variable
    assert cli.main(["train", "--epochs", "1", "--quiet"]) == 0
    assert "array_api_strict" in capsys.readouterr().out
