"""Saves SIGKILLed mid-write: the checkpoint left always loads and holds one whole weight set,
and the next save leaves no temporary file behind.

A child process (``sys.executable`` running SAVER) imports tinyml once and builds two nets with
different weights. For each round it forks a worker that saves the two nets in turn to one file
without end, and SIGKILLs it after the delay the test sends (drawn from a seeded generator, so
a failing round can be replayed); forking spares each round the second it takes to import
tinyml. The delay only picks the moment of the kill: nothing waits for a condition on a clock,
and no assertion depends on how long anything took.
"""

import inspect
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tinyml import io

pytestmark = [pytest.mark.slow,  # about 5 s: 40 rounds of saving 1.5 MB and checking it
              pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                                 reason="needs fork and SIGKILL (POSIX)")]

ROOT = Path(__file__).resolve().parents[1]
KILLS = 40
MAX_DELAY = 0.04  # seconds: a few saves of the 1.5 MB file


def weight_set(which):
    """The weights of net `which` (0 or 1), 1.5 MB of float32, so a save takes a while."""
    import numpy as np  # this function also runs in the child

    shapes = {"fc1.weight": (512, 512), "fc1.bias": (512,), "fc2.weight": (256, 512),
              "fc2.bias": (256,)}
    rng = np.random.default_rng(which)
    return {key: rng.standard_normal(shape).astype(np.float32) for key, shape in shapes.items()}


SAVER = inspect.getsource(weight_set) + '''
import os, signal, sys, time

import numpy as np

import tinyml
from tinyml.layers import Linear

nets = []
for which in (0, 1):
    net = tinyml.Net([Linear("fc1", 512, 512), Linear("fc2", 512, 256)])
    net.load_state_dict(weight_set(which))
    nets.append(net)
path = sys.argv[1]
print("ready", flush=True)
for line in sys.stdin:  # one round a line: "kill DELAY" or "die" (a save that kills itself)
    command = line.split()
    pid = os.fork()
    if pid == 0:
        if command[0] == "die":
            write_array = np.lib.format.write_array

            def write_and_die(*args, **kwargs):
                write_array(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)

            np.lib.format.write_array = write_and_die
        for step in range(1_000_000):  # killed long before the end
            nets[step % 2].save(path, config=False)
        os._exit(0)
    if command[0] == "kill":
        time.sleep(float(command[1]))  # the random moment of the kill
        os.kill(pid, signal.SIGKILL)
    status = os.waitpid(pid, 0)[1]
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    print("killed" if killed else f"ended with status {status}", flush=True)
'''


class Saver:
    """The child process, and a round of it: a worker saving in a loop, killed."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / "weights.npz"
        self.log = open(self.folder.parent / "saver-stderr.txt", "w+")
        self.process = subprocess.Popen([sys.executable, "-c", SAVER, str(self.path)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)
        self.watchdog = threading.Timer(300, self.process.kill)  # a hung child cannot hang CI
        self.watchdog.start()
        self.expect("ready")

    def expect(self, wanted):
        line = self.process.stdout.readline().strip()
        if line != wanted:
            self.log.seek(0)
            pytest.fail(f"the saving child said {line!r}, not {wanted!r}:\n{self.log.read()}")

    def round(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self.expect("killed")

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.watchdog.cancel()
        self.log.close()


@pytest.fixture(scope="module")
def saver(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill") / "run"
    folder.mkdir()
    child = Saver(folder)
    yield child
    child.close()


def which_set(state):
    """0 or 1: the weight set `state` equals, key for key and bit for bit; None for neither."""
    for which in (0, 1):
        weights = weight_set(which)
        if list(state) == list(weights) and all(
                state[key].dtype == value.dtype and np.array_equal(state[key], value)
                for key, value in weights.items()):
            return which
    return None


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name != "weights.npz")


def test_a_save_killed_mid_write_leaves_the_old_file_and_litter_the_next_save_removes(saver):
    io.save_state(weight_set(0), saver.path)
    saver.round("die")  # its save has created its temporary file and written an array
    assert len(temporaries(saver.folder)) == 1, "the killed save left no temporary file?"
    assert which_set(io.load_state(saver.path)) == 0
    io.save_state(weight_set(1), saver.path)
    assert temporaries(saver.folder) == []
    assert which_set(io.load_state(saver.path)) == 1


def test_saves_killed_at_random_moments_always_leave_a_whole_checkpoint(saver):
    rng = random.Random(9)
    io.save_state(weight_set(0), saver.path)
    mid_write, held = 0, {0: 0, 1: 0}
    for kill in range(KILLS):
        delay = rng.uniform(0, MAX_DELAY)
        saver.round(f"kill {delay:.4f}")
        left = temporaries(saver.folder)
        assert len(left) <= 1, f"kill {kill} (after {delay:.4f} s): {left}"
        mid_write += len(left)
        which = which_set(io.load_state(saver.path))
        assert which is not None, f"kill {kill} (after {delay:.4f} s) left a mixed checkpoint"
        held[which] += 1
        io.save_state(weight_set(kill % 2), saver.path)
        assert temporaries(saver.folder) == [], f"kill {kill}: the next save left litter"
    print(f"{KILLS} SIGKILLs during saves: {mid_write} mid-write (a temporary file left), "
          f"{KILLS - mid_write} between writes; the file then held set 0 {held[0]} times, "
          f"set 1 {held[1]} times")
