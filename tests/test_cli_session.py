"""The command line across commands, from a shell: Ctrl-C's exit status, and what one command
leaves for the next (the dataset, input shape and class names stored with the weights, a
training checkpoint used as weights)."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.extra("data")  # the commands default to the digits


def tinyml_command(*argv, **kwargs):
    """`python -m tinyml *argv` from the repository root, this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tinyml", *map(str, argv)], cwd=ROOT,
                            env=env, text=True, **kwargs)


def read_until(stream, marker, seconds):
    """The lines of `stream` up to the first that holds `marker` (all of them if it never
    comes within `seconds`)."""
    lines, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        line = stream.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            break
    return lines


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_stops_cleanly_saves_and_exits_130(tmp_path):
    weights = tmp_path / "w.npz"
    process = tinyml_command("train", "--epochs", "500", "--verbose", "2", "--save", weights,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = read_until(process.stdout, "epoch   2/500", seconds=120)
        assert lines and "epoch   2/500" in lines[-1], lines
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C) during epoch" in out
    assert "weights of step" in err and f"saved to {weights}" in err
    assert "test accuracy" not in out
    assert weights.stat().st_size > 0


# ---------------------------------------------------------------- what the files remember
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`tinyml train` on a Fashion-MNIST-named folder of 64 random images, 2 epochs, with
    --save and --checkpoint; (folder, weights, checkpoint, what train printed)."""
    import numpy as np

    from tinyml.data import save_idx

    folder = tmp_path_factory.mktemp("fashion")
    rng = np.random.default_rng(0)
    for split, count in (("train", 64), ("t10k", 32)):
        save_idx(folder / f"{split}-images-idx3-ubyte.gz",
                 rng.integers(0, 256, (count, 28, 28)).astype(np.uint8), gz=True)
        save_idx(folder / f"{split}-labels-idx1-ubyte.gz",
                 (np.arange(count) % 10).astype(np.uint8), gz=True)
    np.save(folder / "three.npy", rng.random((3, 1, 28, 28), dtype=np.float32))
    weights, checkpoint = folder / "fm.npz", folder / "run.npz"
    done = run_tinyml("train", "--dataset", "fashion-mnist", "--data-dir", folder, "--model",
                      "cnn", "--epochs", "2", "--save", weights, "--checkpoint", checkpoint,
                      "--seed", "3", "--quiet")
    return folder, weights, checkpoint, done.stdout


def run_tinyml(*argv, cwd=ROOT):
    done = subprocess.run([sys.executable, "-m", "tinyml", *map(str, argv)], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return done


def test_evaluate_defaults_to_the_dataset_the_weights_were_trained_on(trained, tmp_path):
    folder, weights, _, trained_out = trained
    done = run_tinyml("evaluate", "--weights", weights, cwd=tmp_path)  # no --dataset, elsewhere
    lines = done.stdout.splitlines()
    assert lines[0] == f"{weights} on 32 test images of fashion-mnist"
    accuracy = trained_out.split("test accuracy ")[1].split()[0]
    assert lines[1].startswith(f"accuracy {accuracy}  ")  # train's test accuracy, again
    assert "classes: 0 T-shirt/top, 1 Trouser" in done.stdout


def test_a_training_checkpoint_works_as_weights_and_says_what_it_is(trained):
    folder, weights, checkpoint, _ = trained
    done = run_tinyml("evaluate", "--weights", checkpoint)
    assert done.stdout.splitlines()[0] == (
        f"{checkpoint} (a training checkpoint, after epoch 2; go on training with tinyml "
        f"train --resume {checkpoint}) on 32 test images of fashion-mnist")
    from_weights = run_tinyml("evaluate", "--weights", weights).stdout.splitlines()[1:]
    assert done.stdout.splitlines()[1:] == from_weights  # the same net: the last epoch's


def test_predict_prints_the_class_names(trained):
    folder, weights, _, _ = trained
    lines = run_tinyml("predict", "--weights", weights, "--input",
                       folder / "three.npy").stdout.splitlines()
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot")
    assert len(lines) == 3
    for index, line in enumerate(lines):
        number = int(line.split("class ")[1].split()[0])
        assert line.startswith(f"sample {index}: class {number} {names[number]} (p=")


def test_summary_of_weights_needs_no_dataset(trained):
    _, weights, checkpoint, _ = trained
    for path in (weights, checkpoint):
        out = run_tinyml("summary", "--weights", path).stdout
        assert "on fashion-mnist (samples of shape (1, 28, 28)):" in out.splitlines()[0]
        assert "conv1 (Conv2D)" in out and "(None, 16, 28, 28)" in out


def test_evaluate_splits_the_digits_with_the_seed_of_training(tmp_path):
    weights = tmp_path / "digits.npz"
    out = run_tinyml("train", "--epochs", "1", "--seed", "5", "--save", weights,
                     "--quiet").stdout
    accuracy = out.split("test accuracy ")[1].split()[0]
    evaluated = run_tinyml("evaluate", "--weights", weights).stdout.splitlines()[1]
    assert evaluated.startswith(f"accuracy {accuracy}  ")
