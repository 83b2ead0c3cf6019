"""How long a training step of tinyml's LSTM and GRU takes, next to PyTorch's, in one run.

    python bench/bench_recurrent.py               # about 30 seconds
    python bench/bench_recurrent.py --quick       # about 10 seconds, rougher numbers
    python bench/bench_recurrent.py --backend array_api_strict
    OPENBLAS_NUM_THREADS=1 python bench/bench_recurrent.py --threads 1 --cpu-time  # busy machine

A step is the layer's forward over a batch-first sequence (N=64, T=28, F=28: MNIST read row by
row; H=128), then its backward through time from a fixed random dL/d(output) of every step,
which adds every parameter's gradient and returns dx; in float32, gradients zeroed first. The
PyTorch step is ``torch.nn.LSTM``/``GRU(batch_first=True)`` with the same weights (copied),
forward, ``output.backward(g)`` with the input requiring grad. Before timing, one step of each
checks that the two compute the same output and gradients: the largest difference of each,
relative to the largest value, is printed (float32 rounding: about 1e-7 to 1e-6). ``cells ms``
is the same step as a Python loop of T calls of the layer's cell (same weights), forward then
backward. See bench/README.md.
"""

import argparse
import statistics
import time

import numpy as np

import tinyml
from tinyml import layers as L

try:
    import torch
except ImportError:
    torch = None

N, T, F, H = 64, 28, 28, 128
KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
CLOCK = {"clock": time.perf_counter}  # time.thread_time with --cpu-time


def tinyml_step(layer, x, g):
    def step():
        layer.zero_grad()
        layer.forward(x)
        return layer.backward(g)
    return step


def cell_loop_step(cell, x, g):
    """The same training step as T calls of the layer's cell forward, then T backward (the
    loop a user would write): a check that the full layer's one-GEMM arrangement pays."""
    steps, lstm = x.shape[1], isinstance(cell, L.LSTMCell)

    def step():
        cell.zero_grad()
        state = None
        for t in range(steps):
            state = cell.forward(x[:, t, :], state)
        carry = None
        for t in reversed(range(steps)):
            g_h = g[:, t, :] if carry is None else g[:, t, :] + (carry[0] if lstm else carry)
            if lstm:
                g_h = (g_h, carry[1] if carry is not None else 0.0 * g_h)
            _, carry = cell.backward(g_h)
    return step


def same_weights_cell(kind, layer):
    cell = getattr(L, kind + "Cell")("cell", F, H)
    for key in KEYS:
        getattr(cell, key).data = getattr(layer, key).data
    return cell


def torch_step(layer, x, g):
    def step():
        layer.zero_grad()
        x.grad = None
        output, _ = layer(x)
        output.backward(g)
        return x.grad
    return step


def torch_twin(kind, layer):
    twin = getattr(torch.nn, kind)(F, H, batch_first=True)
    with torch.no_grad():
        for key in KEYS:
            getattr(twin, key + "_l0").copy_(torch.from_numpy(tinyml.to_numpy(
                getattr(layer, key).data)))
    return twin


def relative_difference(ours, theirs):
    """max |ours - torch| / max |torch|."""
    theirs = theirs.detach().numpy()
    return np.abs(tinyml.to_numpy(ours) - theirs).max() / np.abs(theirs).max()


def largest_differences(layer, twin, ours_dx, theirs_dx, ours_y, theirs_y):
    """The relative differences from torch of the output, dx and the parameter gradients."""
    return {"output": relative_difference(ours_y, theirs_y),
            "dx": relative_difference(ours_dx, theirs_dx),
            "grads": max(relative_difference(getattr(layer, key).grad,
                                             getattr(twin, key + "_l0").grad) for key in KEYS)}


def timed(step, repeats):
    """Median seconds of `repeats` calls of `step`."""
    times = []
    for _ in range(repeats):
        start = CLOCK["clock"]()
        step()
        times.append(CLOCK["clock"]() - start)
    return statistics.median(times)


def bench(kind, rounds, repeats):
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((N, T, F)).astype(np.float32)
    g_host = rng.standard_normal((N, T, H)).astype(np.float32)
    tinyml.seed(0)
    layer = getattr(L, kind)("rnn", F, H)
    x, g = tinyml.asarray(x_host), tinyml.asarray(g_host)
    ours = tinyml_step(layer, x, g)
    row = {"kind": kind}
    if torch is not None:
        twin = torch_twin(kind, layer)
        xt = torch.from_numpy(x_host).requires_grad_(True)
        gt = torch.from_numpy(g_host)
        theirs = torch_step(twin, xt, gt)
        layer.zero_grad()
        ours_y = layer.forward(x)
        ours_dx = layer.backward(g)
        twin.zero_grad()
        theirs_y, _ = twin(xt)
        theirs_y.backward(gt)
        row.update(largest_differences(layer, twin, ours_dx, xt.grad, ours_y, theirs_y))
    for _ in range(2):  # warm up
        ours()
        if torch is not None:
            theirs()
    cells = cell_loop_step(same_weights_cell(kind, layer), x, g)
    cells()
    ours_times, theirs_times, cell_times = [], [], []
    for _ in range(rounds):  # taking turns: another process's load slows both
        ours_times.append(timed(ours, repeats))
        cell_times.append(timed(cells, repeats))
        if torch is not None:
            theirs_times.append(timed(theirs, repeats))
    row["tinyml"] = statistics.median(ours_times)
    row["cells"] = statistics.median(cell_times)
    row["spread"] = max(ours_times) / min(ours_times) - 1
    if torch is not None:
        row["torch"] = statistics.median(theirs_times)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--backend", default="numpy", help="tinyml's backend (numpy)")
    parser.add_argument("--threads", type=int, default=2, help="torch's threads (2)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time CPU seconds of this thread (with OPENBLAS_NUM_THREADS=1 "
                             "--threads 1): what other processes take is left out")
    args = parser.parse_args()
    if args.cpu_time:
        CLOCK["clock"] = time.thread_time
    tinyml.set_backend(args.backend, dtype="float32")
    if torch is not None:
        torch.set_num_threads(args.threads)
    rounds, repeats = (3, 3) if args.quick else (7, 5)
    print(f"training step of one layer: forward + backward through time, N={N} T={T} F={F} "
          f"H={H}, float32, tinyml on {args.backend}"
          + ("" if torch is not None else " (torch not installed: tinyml only)"))
    print(f"{'layer':6} {'tinyml ms':>10} {'±':>5} {'cells ms':>9} {'torch ms':>9} {'ratio':>6} "
          f"{'rel dy':>9} {'rel ddx':>9} {'rel dgrad':>10}")
    for kind in ("LSTM", "GRU"):
        row = bench(kind, rounds, repeats)
        line = (f"{kind:6} {row['tinyml'] * 1e3:10.2f} {row['spread']:5.0%} "
                f"{row['cells'] * 1e3:9.2f}")
        if torch is not None:
            line += (f" {row['torch'] * 1e3:9.2f} {row['tinyml'] / row['torch']:6.2f} "
                     f"{row['output']:9.1e} {row['dx']:9.1e} {row['grads']:10.1e}")
        print(line)


if __name__ == "__main__":
    main()
