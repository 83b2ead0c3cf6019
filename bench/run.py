"""tinyml against PyTorch on the CPU, in one process: the benchmark of issue 19.

    python bench/run.py                  # about 6 minutes (4 with no Fashion-MNIST files)
    python bench/run.py --quick          # about 2 minutes, rougher numbers
    python bench/run.py --json out.json  # the numbers as JSON too

Times training steps (LeNet-5, an MLP) and each layer alone on NumPy (natives, and the portable
path forced), on the torch backend, and in PyTorch itself, taking turns; counts the operations
and host syncs of a step; measures the peak memory of a LeNet step; trains one Fashion-MNIST
epoch in both libraries when the files are there; and checks the issue's goals. See
bench/README.md for how to read it.
"""

import argparse
import json
import os
import platform
import sys
import time

# The tinyml of this checkout, also where another copy is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
from bench_steps import agreement, build_pair, show, time_ms, tinyml_step, torch_step
from cases import (
    COUNTED_MODELS,
    LAYER_CASES,
    MODELS,
    NOT_ALONE,
    random_input,
    tree_leaves,
    tree_map,
    uncovered_layers,
)
from goals import check_goals, print_goals
from measure import (
    LoadMonitor,
    blas_info,
    count_operations,
    limit_threads,
    load_average,
    probe_memory,
    step_peak_mb,
)

import tinyml
from tinyml.backend import make_backend, portable_ops
from tinyml.losses import cross_entropy

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

LR, MOMENTUM = 0.01, 0.9
PATHS = ("numpy", "portable", "torch backend", "pytorch")


def torch_backend():
    return make_backend("torch", dtype="float32")


def on_torch_backend(builder, shape, batch):
    """A Learner whose net (same seed, so the same weights) runs on the torch backend, and a
    batch there."""
    tinyml.seed(0)
    net = builder()
    learner = tinyml.Learner(net, cross_entropy, tinyml.optim.SGD(LR, momentum=MOMENTUM), batch,
                             backend=torch_backend())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    backend = torch_backend()
    return learner, backend.asarray(x), backend.asarray(rng.integers(0, 10, size=batch))


def portable_step(learner, x, y):
    with portable_ops():
        return learner.train_step(x, y)[1]


def step_functions(builder, shape, batch):
    """{path: one training step} for each path this machine has, same weights and data."""
    tiny, ref = build_pair(builder, shape, batch)
    steps = {"numpy": lambda: tinyml_step(*tiny), "portable": lambda: portable_step(*tiny)}
    if ref is not None:
        on_torch = on_torch_backend(builder, shape, batch)
        steps["torch backend"] = lambda: tinyml_step(*on_torch)
        steps["pytorch"] = lambda: torch_step(*ref)
    return steps, tiny, ref


CLOCK = {"clock": time.perf_counter}  # time.thread_time with --cpu-time


def timed(functions, seconds):
    """{name: (median ms, spread)} with the functions taking turns (bench_steps.time_ms)."""
    names = list(functions)
    return dict(zip(names, time_ms([functions[n] for n in names], seconds,
                                   clock=CLOCK["clock"]), strict=True))


def ratio(a, b):
    return a / b if a is not None and b else None


# ---------------------------------------------------------------------------- steps
def bench_steps(seconds):
    print("\nTraining steps: ms per step (median of the calmest round), ratios")
    print(f"{'model':<6} {'batch':>5} {'numpy':>8} {'portable':>8} {'torch be':>8} "
          f"{'pytorch':>8} {'np/pt':>6} {'port/np':>7} {'be/pt':>6} {'spread':>6} "
          f"{'|dloss|':>8} {'max|dw|':>8}")
    rows = []
    for name, builder, shape, batches in MODELS:
        for batch in batches:
            steps, tiny, ref = step_functions(builder, shape, batch)
            gaps = agreement(tiny, ref) if ref else (None, None)
            times = timed(steps, seconds)
            ms = {path: times[path][0] if path in times else None for path in PATHS}
            row = dict(model=name, batch=batch, ms=ms, spread=max(s for _, s in times.values()),
                       numpy_vs_pytorch=ratio(ms["numpy"], ms["pytorch"]),
                       portable_vs_numpy=ratio(ms["portable"], ms["numpy"]),
                       backend_vs_pytorch=ratio(ms["torch backend"], ms["pytorch"]),
                       loss_gap=gaps[0], weight_gap=gaps[1])
            rows.append(row)
            print(f"{name:<6} {batch:>5} " + " ".join(f"{show(ms[p], '8.3f'):>8}" for p in PATHS)
                  + f" {show(row['numpy_vs_pytorch'], '6.2f'):>6}"
                  f" {show(row['portable_vs_numpy'], '7.2f'):>7}"
                  f" {show(row['backend_vs_pytorch'], '6.2f'):>6} {row['spread']:>6.0%}"
                  f" {show(gaps[0], '8.1e'):>8} {show(gaps[1], '8.1e'):>8}", flush=True)
    return rows


# ---------------------------------------------------------------------------- layers
def layer_functions(case, batch):
    """{path: forward + backward of the case's layer} on each path, and the largest
    difference of the output from the PyTorch twin's, relative to its largest value (None
    without a twin holding the same weights)."""
    xs = case.host_inputs(batch)
    layer = case.build()
    g = tree_map(lambda y: random_input(tuple(y.shape)[1:], batch, seed=1),
                 layer.forward(*xs))
    layer.backward(g)
    steps = {"numpy": lambda: (layer.forward(*xs), layer.backward(g))}
    steps["portable"] = lambda: _portable(layer, xs, g)
    if torch is None:
        return steps, None
    moved, backend = case.build(), torch_backend()
    moved.to(backend)
    xt, gt = tree_map(backend.asarray, xs), tree_map(backend.asarray, g)
    steps["torch backend"] = lambda: (moved.forward(*xt), moved.backward(gt))
    if case.twin is None:
        return steps, None
    twin = case.make_twin(layer)
    xr = tree_map(_torch_input, xs)
    gr = tree_map(torch.from_numpy, g)
    leaves = [leaf for leaf in tree_leaves(xr) if leaf.requires_grad]
    steps["pytorch"] = lambda: _torch_forward_backward(twin, xr, gr, leaves)
    gap = _output_gap(layer, xs, twin, xr) if case.twin_takes_layer else None
    return steps, gap


def _torch_input(array):
    """A PyTorch leaf of host input `array`: float ones require grad, indices do not."""
    tensor = torch.from_numpy(array)
    return tensor.requires_grad_() if tensor.is_floating_point() else tensor


def _torch_forward_backward(twin, xs, g, leaves):
    outputs = twin(*xs)
    torch.autograd.backward(tree_leaves(outputs), tree_leaves(g))
    for leaf in leaves:
        leaf.grad = None


def _output_gap(layer, xs, twin, xr):
    ours = [tinyml.to_numpy(y) for y in tree_leaves(layer.forward(*xs))]
    layer.clear_records()
    with torch.no_grad():
        theirs = [y.numpy() for y in tree_leaves(twin(*xr))]
    return max(float(np.abs(a - b).max() / np.abs(b).max())
               for a, b in zip(ours, theirs, strict=True))


def _portable(layer, xs, g):
    with portable_ops():
        layer.forward(*xs)
        layer.backward(g)


def bench_layers(batch, seconds, only=None):
    print(f"\nEach layer alone, forward + backward with the input gradient, batch {batch}: ms;"
          " rel|dy|: the output's largest difference from a twin holding the same weights")
    print(f"{'layer':<35} {'numpy':>7} {'portable':>8} {'torch be':>8} {'pytorch':>7} "
          f"{'np/pt':>6} {'be/pt':>6} {'rel|dy|':>8}")
    rows = []
    for case in LAYER_CASES:
        if only is not None and not any(part.strip().lower() in case.name.lower()
                                        for part in only.split(",")):
            continue
        functions, gap = layer_functions(case, batch)
        times = timed(functions, seconds)
        ms = {path: times[path][0] if path in times else None for path in PATHS}
        row = dict(layer=case.name, ms=ms, numpy_vs_pytorch=ratio(ms["numpy"], ms["pytorch"]),
                   backend_vs_pytorch=ratio(ms["torch backend"], ms["pytorch"]),
                   output_gap=gap)
        rows.append(row)
        print(f"{case.name:<35} {show(ms['numpy'], '7.3f'):>7} {show(ms['portable'], '8.3f'):>8}"
              f" {show(ms['torch backend'], '8.3f'):>8} {show(ms['pytorch'], '7.3f'):>7}"
              f" {show(row['numpy_vs_pytorch'], '6.2f'):>6}"
              f" {show(row['backend_vs_pytorch'], '6.2f'):>6} {show(gap, '8.1e'):>8}",
              flush=True)
    missing = uncovered_layers()
    if missing:
        print(f"NOT TIMED (no case in bench/cases.py yet): {', '.join(missing)}")
    print("Timed inside the models only: " + "; ".join(f"{k} ({v})" for k, v in
                                                       NOT_ALONE.items() if k != "Layer"))
    return rows


# ---------------------------------------------------------------------------- operations
def bench_operations():
    if torch is None:
        print("\nOperations per step: needs PyTorch (they are counted on the torch backend).")
        return []
    print("\nOperations per training step on the torch backend (each a kernel launch on a GPU;"
          " views and slices left out), and host syncs (reads that wait for a GPU)")
    print(f"{'model':<11} {'batch':>5} {'native':>7} {'portable':>8} {'pytorch':>8} "
          f"{'nat/pt':>7} {'syncs':>6} {'views':>6}")
    rows = []
    for name, builder, shape, batch in COUNTED_MODELS:
        learner, x, y = on_torch_backend(builder, shape, batch)
        learner.train_step(x, y)  # the first step creates the momentum buffers
        native = count_operations(learner.train_step, x, y)
        portable = count_operations(portable_step, learner, x, y)
        _, ref = build_pair(builder, shape, batch)
        torch_step(*ref)
        theirs = count_operations(torch_step, *ref)
        rows.append(dict(model=name, batch=batch, native=native[0], portable=portable[0],
                         pytorch=theirs[0], syncs=native[2], portable_syncs=portable[2],
                         pytorch_syncs=theirs[2], views=native[1],
                         native_kernels=dict(native[3]), pytorch_kernels=dict(theirs[3])))
        print(f"{name:<11} {batch:>5} {native[0]:>7} {portable[0]:>8} {theirs[0]:>8} "
              f"{native[0] / theirs[0]:>7.2f} {native[2]:>6} {native[1]:>6}", flush=True)
    return rows


# ---------------------------------------------------------------------------- memory
def bench_memory(batch):
    print(f"\nPeak memory of one LeNet step at batch {batch}, each in a fresh process: MB "
          "above the resident size between steps")
    results = {}
    for path in PATHS if torch is not None else PATHS[:2]:
        results[path] = probe_memory(__file__, ["lenet", str(batch), path])
        got = results[path]
        detail = (f"  (tracemalloc: {got['tracemalloc_mb']:.1f} MB)"
                  if got.get("tracemalloc_mb") is not None else "")
        print(f"  {path:<14} " + (f"{got['peak_mb']:7.1f}{detail}" if "peak_mb" in got
                                  else f"not measured: {got['error']}"), flush=True)
    return results


def memory_probe(model, batch, path):
    """In a subprocess (probe_memory): the step's peak, printed as JSON on the last line."""
    import tracemalloc

    builder, shape = {name: (b, s) for name, b, s, _ in MODELS}[model]
    tinyml.set_backend("numpy", dtype="float32")
    if torch is not None:
        torch.set_num_threads(2)
    steps, _, _ = step_functions(builder, shape, int(batch))
    step = steps[path]
    result = {"peak_mb": step_peak_mb(step), "tracemalloc_mb": None}
    if path in ("numpy", "portable"):
        tracemalloc.start()
        step()
        result["tracemalloc_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(result))


# ---------------------------------------------------------------------------- an epoch
def bench_epoch(images, batch=64, segments=10):
    """One Fashion-MNIST epoch of LeNet in both libraries, same data order and batch size,
    cut into `segments` consecutive parts that the two libraries train in turns (so load from
    other processes hits both alike)."""
    try:
        x, y, _, _ = tinyml.data.load_fashion_mnist()
    except (FileNotFoundError, OSError) as missing:
        print(f"\nFashion-MNIST epoch: skipped ({str(missing).splitlines()[0]})")
        return None
    order = np.random.default_rng(0).permutation(len(x))[:images]
    x, y = np.ascontiguousarray(x[order]), np.ascontiguousarray(y[order])
    trainers = {"numpy": _tinyml_trainer(x, y, batch)}
    if torch is not None:
        trainers["pytorch"] = _torch_trainer(x, y, batch)
    seconds = {path: [] for path in trainers}
    bounds = np.linspace(0, len(x) // batch, segments + 1).astype(int) * batch
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        for path, (train, _) in trainers.items():
            seconds[path].append(_time_once(train, start, stop))
    accuracy = {path: evaluate() for path, (_, evaluate) in trainers.items()}
    totals = {path: sum(parts) for path, parts in seconds.items()}
    ratios = ([a / b for a, b in zip(seconds["numpy"], seconds["pytorch"], strict=True)]
              if "pytorch" in seconds else None)
    result = dict(images=len(x), batch=batch, seconds=totals, accuracy=accuracy,
                  total_ratio=ratio(totals["numpy"], totals.get("pytorch")),
                  numpy_vs_pytorch=float(np.median(ratios)) if ratios else None)
    print(f"\nFashion-MNIST: one LeNet epoch of {len(x)} images, batch {batch}, same order, "
          f"in {segments} parts taken in turns")
    for path, took in totals.items():
        print(f"  {path:<8} {took:7.2f} s   training accuracy after it {accuracy[path]:.3f}")
    print(f"  ratio of the totals {show(result['total_ratio'], '.2f')}, median ratio of the "
          f"parts {show(result['numpy_vs_pytorch'], '.2f')}")
    return result


def _tinyml_trainer(x, y, batch):
    """(train on samples [start, stop), training accuracy) for tinyml's LeNet."""
    from bench_steps import lenet

    tinyml.seed(0)
    learner = tinyml.Learner(lenet(), cross_entropy, tinyml.optim.SGD(LR, momentum=MOMENTUM),
                             batch)

    def train(start, stop):
        learner.fit(x[start:stop], y[start:stop], epochs=1, shuffle=False, verbose=0)

    return train, lambda: float(learner.evaluate(x, y)["accuracy"])


def _torch_trainer(x, y, batch):
    """The same for PyTorch's LeNet (initialized by PyTorch)."""
    from bench_steps import lenet, torch_twin

    torch.manual_seed(0)
    model = torch_twin(lenet())
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def train(start, stop):
        _torch_epoch(model, optimizer, xt[start:stop], yt[start:stop], batch)

    def accuracy():
        with torch.no_grad():
            return float((model(xt).argmax(1) == yt).float().mean())

    return train, accuracy


def _torch_epoch(model, optimizer, x, y, batch):
    for start in range(0, len(x), batch):
        optimizer.zero_grad()
        F.cross_entropy(model(x[start:start + batch]), y[start:start + batch]).backward()
        optimizer.step()


def _time_once(function, *args):
    clock = CLOCK["clock"]
    start = clock()
    function(*args)
    return clock() - start


# ---------------------------------------------------------------------------- the run
def header(threads):
    machine = dict(python=platform.python_version(), numpy=np.__version__,
                   torch=torch.__version__ if torch else None, cpus=os.cpu_count(),
                   threads=threads, blas=blas_info(), load_average=load_average())
    print(f"tinyml from {os.path.dirname(tinyml.__file__)} | NumPy {np.__version__} | PyTorch "
          f"{machine['torch'] or 'not installed (tinyml times only)'} | {os.cpu_count()} CPUs, "
          f"{threads} threads for BLAS and PyTorch | float32, SGD momentum {MOMENTUM}")
    for pool in machine["blas"] or []:
        print(f"BLAS: {pool['internal_api']} {pool['version']}, kernel {pool['architecture']}, "
              f"{pool['num_threads']} threads ({pool['threading_layer']})")
    if machine["blas"] is None:
        print("BLAS: unknown (pip install threadpoolctl to see which kernel NumPy runs)")
    return machine


def warn_load(monitor, machine):
    others = monitor.others()
    machine["other_processes_cores"] = others
    machine["load_average_end"] = load_average()
    if others is not None and others > 0.25:
        print(f"\nWARNING: other processes kept {others:.1f} cores busy on average during this "
              "run; the times are inflated and noisy. Compare ratios from one run, or rerun on "
              "a quiet machine.")
    elif others is not None:
        print(f"\nOther processes used {others:.2f} cores on average during the run.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, rougher numbers")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and PyTorch")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time CPU seconds of the one thread (needs --threads 1): what "
                             "other processes take is left out, for a busy machine")
    parser.add_argument("--layers", metavar="TEXT",
                        help="time only the layer table's rows whose name contains TEXT "
                             "(any case; several: comma-separated), nothing else")
    parser.add_argument("--memory-probe", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        return memory_probe(*args.memory_probe)
    if args.cpu_time:
        if args.threads != 1:
            parser.error("--cpu-time times one thread: add --threads 1")
        CLOCK["clock"] = time.thread_time
    tinyml.set_backend("numpy", dtype="float32")
    limiter = limit_threads(args.threads)  # noqa: F841 (kept alive for the run)
    monitor = LoadMonitor()
    seconds = 0.3 if args.quick else 1.5
    report = {"machine": header(args.threads), "quick": args.quick,
              "clock": "cpu time of the one thread" if args.cpu_time else "wall"}
    if args.cpu_time:
        print("Times are CPU seconds of the benchmark's one thread (--cpu-time).")
    if args.layers is not None:
        report["layers"] = bench_layers(64, seconds / 3, only=args.layers)
        warn_load(monitor, report["machine"])
        return _write(report, args.json)
    report["steps"] = bench_steps(seconds)
    report["layers"] = bench_layers(64, seconds / 3)
    report["operations"] = bench_operations()
    report["memory"] = bench_memory(256)
    report["epoch"] = bench_epoch(12_000 if args.quick else 60_000)
    warn_load(monitor, report["machine"])
    report["goals"] = check_goals(report)
    print_goals(report["goals"])
    _write(report, args.json)


def _write(report, path):
    if path:
        with open(path, "w") as out:
            json.dump(report, out, indent=1, default=str)
        print(f"\nwrote {path}")


if __name__ == "__main__":
    sys.exit(main())
