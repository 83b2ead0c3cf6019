"""Training killed the hard ways: SIGKILL while a checkpoint is written, SIGINT (Ctrl-C) while
fit runs.

A child process (``sys.executable`` running CHILD) imports tinyml once and builds what it needs;
for each round it forks a worker and signals it after a delay the test sends (drawn from a
seeded generator, so a failing round can be replayed). The delay only picks the moment of the
signal: no assertion depends on how long anything took.

- SIGKILL mid-``save_checkpoint``: the file left always loads into a fresh learner and holds
  one of the two checkpoints being written, whole; the next save leaves no temporary file.
- SIGINT mid-``fit``: ``fit`` returns (the worker exits cleanly) with ``history.interrupted``,
  and the weights equal, bit for bit, an uninterrupted run stopped after the same number of
  steps: every parameter is from one step, none half updated, all finite.
"""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                                 reason="needs fork, SIGKILL and SIGINT (POSIX)")]

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 30

CHILD = r'''
import os, signal, sys, time

import numpy as np

import tinyml
from tinyml.callbacks import Callback
from tinyml.io import TEMPORARY_SUFFIX
from tinyml.layers import Dropout, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

rng = np.random.default_rng(0)
X = rng.standard_normal((64, 32)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def make_learner(hidden):
    tinyml.seed(1)
    net = tinyml.Net([Linear("fc1", 32, hidden), ReLU("relu"), Dropout("drop", 0.2),
                      Linear("fc2", hidden, 2), Softmax("softmax")])
    return tinyml.Learner(net, cross_entropy, Adam(lr=1e-3), batch_size=8, seed=0)


def weights(learner):
    return {k: tinyml.to_numpy(v).copy() for k, v in learner.net.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


class StopAfter(Callback):
    def __init__(self, steps):
        self.steps = steps

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.steps:
            self.learner.stop_training = True


mode, folder = sys.argv[1], sys.argv[2]
path = os.path.join(folder, "run.npz")
if mode == "kill-save":  # two learners a step apart, 0.8 MB checkpoints (Adam: 3 arrays each)
    savers = [make_learner(256), make_learner(256)]
    savers[0].fit(X, Y, epochs=1, verbose=0)
    savers[1].fit(X, Y, epochs=2, verbose=0)
    expected = [weights(s) for s in savers]
print("ready", flush=True)
for line in sys.stdin:
    delay = float(line)
    if mode == "kill-save":
        pid = os.fork()
        if pid == 0:
            for turn in range(1_000_000):
                savers[turn % 2].save_checkpoint(path)
            os._exit(0)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if not os.path.exists(path):
            print("none", flush=True)  # killed before the first save ended
            continue
        left = sum(name.endswith(TEMPORARY_SUFFIX) for name in os.listdir(folder))
        reader = make_learner(256)
        reader.load_checkpoint(path)
        which = [i for i, w in enumerate(expected) if same(weights(reader), w)]
        assert len(which) == 1 and reader.epoch == which[0] + 1, (which, reader.epoch)
        savers[0].save_checkpoint(path)
        litter = [name for name in os.listdir(folder) if name.endswith(TEMPORARY_SUFFIX)]
        assert not litter, litter
        print(f"loaded {which[0]} {'mid-write' if left else 'between-saves'}", flush=True)
    else:  # sigint-fit
        learner = make_learner(16)
        initial = weights(learner)
        ready, started = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(started, b"!")  # the fork is done: a SIGINT now lands in this worker's code
            try:
                history = learner.fit(X, Y, epochs=10_000, verbose=0)
                code = 3 if history.interrupted else 4
            except KeyboardInterrupt:  # Ctrl-C before fit began training: nothing changed
                code = 5 if same(weights(learner), initial) else 6
            np.savez(os.path.join(folder, "after.npz"), step=learner.step, **weights(learner))
            os._exit(code)
        os.read(ready, 1)
        os.close(ready)
        os.close(started)
        time.sleep(delay)
        os.kill(pid, signal.SIGINT)
        status = os.waitpid(pid, 0)[1]
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        if code == 5:
            print("before", flush=True)
            continue
        assert code == 3, f"worker ended with {status}"
        with np.load(os.path.join(folder, "after.npz")) as saved:
            after = {k: saved[k] for k in saved.files if k != "step"}
            steps = int(saved["step"])
        assert all(np.isfinite(v).all() for v in after.values())
        replay = make_learner(16)
        if steps:
            replay.fit(X, Y, epochs=10_000, verbose=0, callbacks=[StopAfter(steps)])
        assert same(weights(replay), after), f"not the weights of step {steps}"
        print(f"interrupted {steps}", flush=True)
'''


def run_rounds(mode, folder, delays):
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(folder)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        results = []
        for delay in delays:
            child.stdin.write(f"{delay}\n")
            child.stdin.flush()
            line = child.stdout.readline().strip()
            assert line, f"round {len(results)} (delay {delay}): {child.stderr.read()[-3000:]}"
            results.append(line)
        return results
    finally:
        child.kill()
        child.wait()


def test_sigkill_mid_checkpoint_always_leaves_a_whole_checkpoint(tmp_path):
    draw = random.Random(0)
    results = run_rounds("kill-save", tmp_path, [draw.uniform(0, 0.08) for _ in range(ROUNDS)])
    loaded = [r.split() for r in results if r.startswith("loaded")]
    mid_write = sum(r[2] == "mid-write" for r in loaded)
    print(f"{ROUNDS} SIGKILLs mid-save: {results.count('none')} before any file; "
          f"{len(loaded)} left a checkpoint that loaded whole ({mid_write} of them killed "
          f"mid-write, leaving a temporary file the next save removed)")
    assert results.count("none") < ROUNDS, "no save ever completed: the delays are too short"


def test_sigint_mid_fit_stops_at_a_step_boundary(tmp_path):
    draw = random.Random(1)
    results = run_rounds("sigint-fit", tmp_path, [draw.uniform(0, 0.4) for _ in range(20)])
    interrupted = [r for r in results if r.startswith("interrupted")]
    print(f"20 SIGINTs mid-fit: {len(interrupted)} returned at a step boundary, "
          f"{results.count('before')} before training began; steps: "
          f"{[int(r.split()[1]) for r in interrupted]}")
    assert len(interrupted) >= 10
