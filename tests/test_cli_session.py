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
