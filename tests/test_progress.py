"""What fit shows: a live bar in a terminal, one clean line per epoch in a pipe; neither reads
the device more than the loop does."""

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyml
from tinyml.layers import Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.train.progress import ProgressBar, progress_callbacks

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import numpy as np, tinyml
from tinyml.layers import Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
x = np.random.default_rng(0).standard_normal((400, 4)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
tinyml.seed(0)
learner = tinyml.Learner(tinyml.Net([Linear("fc", 4, 2), Softmax("sm")]), cross_entropy,
                         SGD(lr=0.1), batch_size=8)
learner.fit(x, y, epochs=2, validation_split=0.25, verbose=1, log_every=5)
print("done")
"""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_1_picks_a_bar_for_a_terminal_and_lines_otherwise():
    assert isinstance(progress_callbacks(1, Terminal())[0], ProgressBar)
    assert not isinstance(progress_callbacks(1, io.StringIO())[0], ProgressBar)
    assert not isinstance(progress_callbacks(2, Terminal())[0], ProgressBar)
    assert progress_callbacks(0, Terminal()) == []


def test_in_a_pipe_each_epoch_is_one_clean_line():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[-1] == "done" and len(lines) == 3, lines
    for number, line in enumerate(lines[:2], 1):
        assert line.startswith(f"epoch {number}/2  loss ") and "val_accuracy" in line
    assert "\r" not in done.stdout and "\x1b" not in done.stdout


@pytest.mark.skipif(os.name != "posix", reason="needs a POSIX pseudo-terminal")
def test_in_a_terminal_a_bar_shows_steps_rate_loss_and_eta():
    import fcntl
    import pty
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # rows, columns
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], stdin=child, stdout=child,
                               stderr=child, cwd=ROOT, close_fds=True)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=120) == 0
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "done" in out
    assert "\r" in out, "a bar redraws its line in place"
    assert "epoch 1/2" in out and "epoch 2/2" in out
    assert "38/38" in out, "the bar counts the 38 steps of an epoch"
    assert "step/s" in out or "s/step" in out, "the bar shows the rate"
    assert "<" in out, "tqdm's elapsed<remaining, the ETA"
    assert "loss 0." in out and "val_loss" in out


def test_the_bar_reads_the_device_no_more_than_the_loop(monkeypatch):
    torch = pytest.importorskip("torch")
    reads = []
    for method in ("__float__", "__bool__", "__int__", "item", "numpy", "tolist"):
        original = getattr(torch.Tensor, method)

        def counting(self, *args, _original=original, _method=method, **kwargs):
            reads.append(_method)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counting)
    x = np.random.default_rng(0).standard_normal((80, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    counts = {}
    for verbose, stream in ((0, io.StringIO()), (1, Terminal())):
        monkeypatch.setattr(sys, "stdout", stream)
        with tinyml.use_backend("torch"):
            tinyml.seed(0)
            learner = tinyml.Learner(tinyml.Net([Linear("fc", 4, 2), Softmax("sm")]),
                                     cross_entropy, SGD(lr=0.1), batch_size=8)
            reads.clear()
            learner.fit(x, y, epochs=2, verbose=verbose, log_every=4)
            counts[verbose] = len(reads)
    monkeypatch.undo()
    assert counts[1] == counts[0] == 2 * (10 // 4 + 1), counts
