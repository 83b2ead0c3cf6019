"""The README's Python example runs as written (docs that match the code)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


@pytest.mark.extra("data")
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


@pytest.mark.extra("plots", "tensorboard")
def test_the_training_example_runs(tmp_path, monkeypatch, capsys):
    """The training section's example, on 200 random 28x28 images instead of Fashion-MNIST
    (which CI may not have) and with fewer epochs; every file it names is written."""
    import numpy as np

    import tinyml

    section = README.read_text().split("## Training: progress", 1)[1]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    rng = np.random.default_rng(0)

    def fake_fashion_mnist(path=None):
        images = rng.random((250, 1, 28, 28), dtype=np.float32)
        labels = rng.integers(0, 10, 250)
        return images[:200], labels[:200], images[200:], labels[200:]

    monkeypatch.setattr(tinyml.data, "load_fashion_mnist", fake_fashion_mnist)
    monkeypatch.chdir(tmp_path)
    shortened = example.replace("epochs=10", "epochs=2").replace("epochs=15", "epochs=3")
    assert shortened.count("epochs=") == 2 and shortened != example
    namespace = {}
    exec(compile(shortened, str(README), "exec"), namespace)
    assert namespace["learner"].epoch == 3
    for name in ("run.npz", "log.csv", "curves.png", "confusion.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert any((tmp_path / "tb").iterdir())
    assert "epoch 3/3" in capsys.readouterr().out
