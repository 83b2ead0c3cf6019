"""Time a Fashion-MNIST epoch in one process and in two (``mpirun -n 2``), with the CLI.

A benchmark, not a test: it prints a table and checks nothing. It needs the mpi extra
(``pip install -e ".[mpi]"``) and Debian's dataset-fashion-mnist files (or ``--data-dir``).

    python bench/bench_distributed.py                  # cnn, 1 epoch: a few minutes
    python bench/bench_distributed.py --model mlp --epochs 2

Three runs with the same global batch (64 by default) and seed: one process on every BLAS
thread the machine gives it, one process on one thread, and two processes of one thread each
(32 samples each per step). Epoch times include the validation pass on the 10,000 test images
(split over the processes in the 2-process run). On a machine shared with other jobs the
times move from run to run: compare the rows of one run.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH_LINE = re.compile(r"^epoch\s+(\d+)/\d+.*\((\d+\.\d+)s\)\s*$")


def run(command, threads, timeout):
    env = dict(os.environ, PYTHONPATH=ROOT)
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    times = [float(match.group(2)) for match in map(EPOCH_LINE.match, done.stdout.splitlines())
             if match]
    accuracy = re.search(r"test accuracy (\S+)", done.stdout).group(1)
    return times, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", choices=("cnn", "mlp"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--timeout", type=int, default=3000)
    args = parser.parse_args()
    flags = ["train", "--dataset", "fashion-mnist", "--model", args.model, "--epochs",
             str(args.epochs), "--verbose", "2", "--seed", "0"]
    if args.data_dir:
        flags += ["--data-dir", args.data_dir]
    mpirun = os.path.join(os.path.dirname(sys.executable), "mpirun")
    mpirun = mpirun if os.path.exists(mpirun) else shutil.which("mpirun")
    one = [sys.executable, "-m", "tinyml", *flags, "--batch-size", str(args.global_batch)]
    two = [mpirun, "-n", "2", "--oversubscribe", sys.executable, "-m", "mpi4py", "-m",
           "tinyml", *flags, "--batch-size", str(args.global_batch // 2)]
    rows = [("1 process, default BLAS threads", one, None),
            ("1 process, 1 thread", one, 1),
            ("2 processes, 1 thread each", two, 1)]
    print(f"Fashion-MNIST, {args.model}, global batch {args.global_batch}, float32, "
          f"{os.cpu_count()} cores")
    print(f"{'run':34} {'epoch times (s)':24} test accuracy")
    for name, command, threads in rows:
        times, accuracy = run(command, threads, args.timeout)
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"{name:34} {shown:24} {accuracy}", flush=True)


if __name__ == "__main__":
    main()
