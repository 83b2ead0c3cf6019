"""What fit shows: a live bar in a terminal, one clean line per epoch in a pipe; neither reads
the device more than the loop does."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml.callbacks.progress import ProgressBar, progress_callbacks
from tinyml.callbacks.progress_layout import epoch_lines, format_duration, live_line
from tinyml.layers import Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD

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


TERMINAL_SCRIPT = """
import json, numpy as np, tinyml
from tinyml.layers import Linear, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
x = np.random.default_rng(0).standard_normal((400, 4)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
tinyml.seed(0)
learner = tinyml.Learner(tinyml.Net([Linear("fc", 4, 2), Softmax("sm")]), cross_entropy,
                         SGD(lr=0.1), batch_size=8, metrics=["f1"])
history = learner.fit(x, y, epochs=3, validation_split=0.25, verbose=1, log_every=5)
print("HISTORY " + json.dumps(dict(history)))
"""


def run_in_terminal(script, columns=None, seconds=120):
    """What a pseudo-terminal of `columns` (None: one that reports no size) received from
    `script`, as bytes decoded."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    main, child = pty.openpty()
    if columns is not None:
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-c", script], stdin=child, stdout=child,
                               stderr=child, cwd=ROOT, close_fds=True)
    os.close(child)
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert process.returncode == 0, b"".join(chunks).decode("utf-8", "replace")[-3000:]
    return b"".join(chunks).decode("utf-8", "replace")


def screen(text, columns):
    """The lines a terminal `columns` wide shows after `text`: carriage return, newline, the
    erase-line escape, and wrapping at the last column, as a VT100 does."""
    lines, row, col = [""], 0, 0
    index = 0
    while index < len(text):
        if text.startswith("\x1b[K", index):
            lines[row] = lines[row][:col]
            index += 3
            continue
        char = text[index]
        index += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append("")
        else:
            if col == columns:  # a character past the last column wraps onto a new line
                row, col = row + 1, 0
                if row == len(lines):
                    lines.append("")
            line = lines[row].ljust(col)
            lines[row] = line[:col] + char + line[col + 1:]
            col += 1
    return [line.rstrip() for line in lines]


def epoch_summaries(lines):
    """{epoch: the text of its summary (its line and the indented lines after it)}."""
    found, current = {}, None
    for line in lines:
        if line.startswith("epoch "):
            current = int(line.split()[1].split("/")[0])
            found[current] = line
        elif line.startswith("  ") and current is not None:
            found[current] += " " + line.strip()
        else:
            current = None
    return found


def check_summaries(lines, history):
    """Each epoch left its summary, every log in it, every number whole."""
    summaries = epoch_summaries(lines)
    assert sorted(summaries) == [1, 2, 3], lines
    for epoch, text in summaries.items():
        assert f"epoch {epoch}/3  38/38  " in text, text
        assert "s/step" in text and "[" not in text, text  # no bar left behind
        for key in ("loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"):
            assert f" {key} {history[key][epoch - 1]:.4f}" in text, (key, text)
        assert f" lr {history['lr'][epoch - 1]:.3g}" in text, text


@pytest.mark.skipif(os.name != "posix", reason="needs a POSIX pseudo-terminal")
def test_at_80_columns_each_epoch_leaves_every_figure_whole():
    out = run_in_terminal(TERMINAL_SCRIPT, columns=80)
    history = json.loads(out.split("HISTORY ")[1].splitlines()[0])
    assert "\r" in out, "the live line is redrawn in place"
    assert "38/38" in out and "ETA" in out
    lines = screen(out.split("HISTORY ")[0], 80)
    assert all(len(line) <= 79 for line in lines), [line for line in lines if len(line) > 79]
    assert "" not in lines[:-1], "no blank line"
    check_summaries(lines, history)
    first = next(line for line in lines if line.startswith("epoch 1/3"))
    assert first.startswith("epoch 1/3  38/38  ") and len(first) <= 79
    wrapped = lines[lines.index(first) + 1]
    assert wrapped.startswith("  ") and wrapped.split()[0] in ("val_loss", "f1", "accuracy")


@pytest.mark.skipif(os.name != "posix", reason="needs a POSIX pseudo-terminal")
def test_a_terminal_without_a_size_gets_80_columns_and_no_blank_lines():
    out = run_in_terminal(TERMINAL_SCRIPT, columns=None)
    history = json.loads(out.split("HISTORY ")[1].splitlines()[0])
    lines = screen(out.split("HISTORY ")[0], 10_000)  # however wide it really is
    assert "" not in lines[:-1], lines
    assert all(len(line) <= 79 for line in lines), lines
    check_summaries(lines, history)


@pytest.mark.skipif(os.name != "posix", reason="needs a POSIX pseudo-terminal")
def test_at_160_columns_a_summary_is_one_line():
    out = run_in_terminal(TERMINAL_SCRIPT, columns=160)
    history = json.loads(out.split("HISTORY ")[1].splitlines()[0])
    lines = screen(out.split("HISTORY ")[0], 160)
    check_summaries(lines, history)
    assert [line for line in lines if line.startswith("  ")] == [], "nothing wrapped"


def test_the_bar_reads_the_device_no_more_than_the_loop(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
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


# ---------------------------------------------------------------- the layout, without a terminal
def test_a_live_line_fits_and_keeps_what_matters_most():
    running = {"loss": 0.45123, "accuracy": 0.8391}
    wide = live_line("epoch 1/3", 123, 1875, 5.0, running, 120)
    assert wide.startswith("epoch 1/3  [") and wide.endswith("  24.6 steps/s")
    assert "123/1875  loss 0.4512  accuracy 0.8391  ETA 1:11" in wide
    at_80 = live_line("epoch 1/3", 123, 1875, 5.0, running, 80)
    assert len(at_80) <= 79 and "ETA 1:11" in at_80 and "steps/s" not in at_80
    narrow = live_line("epoch 1/3", 123, 1875, 5.0, running, 33)
    assert narrow == "epoch 1/3  123/1875  loss 0.4512"
    assert live_line("epoch 1/3", 5, None, 1.0, {}, 80) == "epoch 1/3  5 steps  5.0 steps/s"


def test_a_summary_wraps_between_items_never_inside_one():
    logs = {"loss": 0.4512, "accuracy": 0.8391, "val_loss": 0.39, "val_accuracy": 0.86,
            "lr": 0.001, "epoch_time": 12.3}
    assert epoch_lines("epoch 1/3", 1875, 1875, logs, 200) == [
        "epoch 1/3  1875/1875  12.3s  7ms/step  loss 0.4512  accuracy 0.8391  val_loss 0.3900"
        "  val_accuracy 0.8600  lr 0.001"]
    assert epoch_lines("epoch 1/3", 1875, 1875, logs, 40) == [
        "epoch 1/3  1875/1875  12.3s  7ms/step", "  loss 0.4512  accuracy 0.8391",
        "  val_loss 0.3900  val_accuracy 0.8600", "  lr 0.001"]
    tiny = epoch_lines("epoch 1/3", 1875, 1875, logs, 12)
    assert "  val_accuracy 0.8600" in tiny  # longer than the line: alone, whole


@pytest.mark.parametrize(("seconds", "text"), [
    (0.412, "0.41s"), (12.34, "12.3s"), (125, "2:05"), (3725, "1:02:05"), (float("nan"), "?")])
def test_durations_read_short(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("width", [12, 40, 80, 81, 120, 200])
def test_the_live_line_never_reaches_the_last_column(width):
    running = {"loss": 3.4444, "accuracy": 0.3854}
    for done in range(0, 1876, 7):
        for elapsed in (0.001, 5.0, 777.0, 40_000.0):
            line = live_line("epoch 1/3", done, 1875, elapsed, running, width)
            assert len(line) <= width - 1, (done, elapsed, line)
            if width < 20:
                continue  # narrower than the title and the count: those are cut
            items = line.split("  ")
            assert items[0] == "epoch 1/3" and f"{done}/1875" in items, line
            if done:
                eta = format_duration(elapsed / done * (1875 - done))
                assert [item for item in items if item.startswith("ETA")] in ([], [f"ETA {eta}"])
            assert [item for item in items if item.startswith("loss")] in ([], ["loss 3.4444"])


def test_a_bar_is_as_wide_as_asked():
    from tinyml.callbacks.progress_layout import bar

    for width in (10, 17, 30):
        for done in (0, 1, 5, 9, 10):
            drawn = bar(done, 10, width)
            assert len(drawn) == width and drawn[0] == "[" and drawn[-1] == "]", drawn
    assert bar(0, 10, 10) == "[>.......]" and bar(10, 10, 10) == "[========]"


def test_the_commands_lines_wrap_between_words_on_a_terminal_only():
    from tinyml.cli.screen import fitted

    text = ("test accuracy 0.8657  test loss 0.3776  (cnn, numpy, 3 epochs in 269.5s, 89.7s "
            "per epoch)")
    assert fitted(text, io.StringIO()) == text  # a log or a pipe: one line
    lines = fitted(text, Terminal()).splitlines()  # no size: 80 columns
    assert all(len(line) <= 79 for line in lines) and len(lines) == 2
    assert lines[1].startswith("  ") and lines[1].endswith(" per epoch)")
    assert " ".join(line.strip() for line in lines).split() == text.split()
