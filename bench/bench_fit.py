"""What fit's loop costs beyond its steps: events, the NaN guard's losses, the Ctrl-C guard,
the progress display, against a bare loop of ``learner.train_step`` over the same batches.

    python bench/bench_fit.py                 # numpy, about 30 seconds
    python bench/bench_fit.py --backend torch

Prints milliseconds per step and the ratio fit / bare loop for each setting, measured in the
same run (the median of 5 rounds). A benchmark, not a test: it checks nothing.
"""

import argparse
import io
import statistics
import sys
import time

import numpy as np

import tinyml
from tinyml.data.batches import batches
from tinyml.layers import Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD


class Terminal(io.StringIO):
    """Standard output that claims to be a terminal, so verbose=1 draws the live progress line."""

    def isatty(self):
        return True


def make_learner(width, batch_size):
    tinyml.seed(0)
    net = tinyml.Net([Linear("fc1", 64, width), ReLU("relu"), Linear("fc2", width, 10),
                      Softmax("softmax")])
    return tinyml.Learner(net, cross_entropy, SGD(lr=0.01, momentum=0.9), batch_size=batch_size)


def bare_loop(learner, x, y, epochs):
    backend = learner.net.backend
    learner.net.train()
    for _ in range(epochs):
        order = backend.permutation(x.shape[0])
        for x_batch, y_batch in batches(x, y, learner.batch_size, backend, order):
            learner.train_step(x_batch, y_batch)


def timed(run, rounds=5):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args()
    tinyml.set_backend(args.backend)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 64)).astype(np.float32)
    y = rng.integers(0, 10, 4096)
    print(f"backend {args.backend}; 4096 samples, 2 epochs per round; ms per step (ratio to "
          "the bare loop)")
    print(f"{'model':<18}{'bare':>8}{'fit v=0':>16}{'fit bar':>16}{'log_every=1':>16}")
    for width, batch_size in ((16, 8), (128, 32), (512, 128)):
        print(f"{f'64-{width}-10 b{batch_size}':<18}" + row(make_learner(width, batch_size), x, y))


def row(learner, x, y):
    """The table's cells for one learner: bare loop, then fit in three settings."""
    steps = 2 * -(-x.shape[0] // learner.batch_size)
    bare = timed(lambda: bare_loop(learner, x, y, 2)) / steps * 1e3
    quiet = timed(lambda: learner.fit(x, y, epochs=2, verbose=0)) / steps * 1e3
    stdout, sys.stdout = sys.stdout, Terminal()
    try:
        bar = timed(lambda: learner.fit(x, y, epochs=2, verbose=1)) / steps * 1e3
    finally:
        sys.stdout = stdout
    every = timed(lambda: learner.fit(x, y, epochs=2, verbose=0, log_every=1)) / steps * 1e3
    return f"{bare:>8.3f}" + "".join(f"{t:>8.3f} ({t / bare:4.2f})" for t in (quiet, bar, every))

if __name__ == "__main__":
    main()
