"""How bench/run.py measures: other processes' load, BLAS info, operation and host-sync
counts, and peak memory (in a fresh subprocess per library)."""

import json
import os
import subprocess
import sys
import time
from collections import Counter

try:
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
except ImportError:
    torch = TorchDispatchMode = None


# ---------------------------------------------------------------------------- the machine
class LoadMonitor:
    """CPU time other processes used while the benchmark ran, from /proc/stat (Linux).

    ``others()`` is the average number of cores busy with other work since the monitor
    started: all busy time minus this process's own CPU time, over the wall time.
    """

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except OSError:
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        ticks = os.sysconf("SC_CLK_TCK")
        own = os.times()  # this process and the probes it ran
        mine = own.user + own.system + own.children_user + own.children_system
        return (sum(fields) - idle) / ticks, mine, time.monotonic()

    def others(self):
        """Cores busy with other processes, averaged since the start (None off Linux)."""
        now = self._sample()
        if now is None or self.start is None:
            return None
        busy, own, wall = (b - a for a, b in zip(self.start, now, strict=True))
        return max(busy - own, 0.0) / max(wall, 1e-9)


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def blas_info():
    """threadpoolctl's view of the BLAS NumPy runs (None when threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{key: pool.get(key) for key in ("internal_api", "version", "architecture",
                                            "num_threads", "threading_layer", "filepath")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def limit_threads(threads):
    """Run BLAS (threadpoolctl) and PyTorch on `threads` threads; returns the limiter to keep
    alive (None without threadpoolctl)."""
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
        return None
    return threadpool_limits(limits=threads)


# ---------------------------------------------------------------------------- counting
def _is_view(func):
    """An aten operator that returns an alias of its input (a view, a slice, detach): no
    kernel runs for it."""
    return any(ret.alias_info is not None and not ret.alias_info.is_write
               for ret in func._schema.returns)


if TorchDispatchMode is not None:
    class OperationCounter(TorchDispatchMode):
        """Counts every aten operator that runs: ``kernels`` (a Counter by name; on a GPU
        each is a launch), ``views`` (aliases, no kernel) and ``syncs`` (reads of a tensor's
        value by the host: ``item()``, ``float()``, ``bool()``, which wait for a GPU)."""

        def __init__(self):
            super().__init__()
            self.kernels, self.views, self.syncs = Counter(), 0, 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten._local_scalar_dense.default:
                self.syncs += 1
            elif _is_view(func):
                self.views += 1
            else:
                self.kernels[func.name()] += 1
            return func(*args, **(kwargs or {}))


def count_operations(step, *args):
    """(kernel-launching operations, views, host syncs, kernels by name) of one call
    ``step(*args)`` on torch tensors."""
    counter = OperationCounter()
    with counter:
        step(*args)
    return sum(counter.kernels.values()), counter.views, counter.syncs, counter.kernels


# ---------------------------------------------------------------------------- memory
# glibc keeps freed memory and serves later allocations from it, so a process's resident size
# says little about what a step holds. With these settings every allocation above 64 kB is
# its own mapping, returned on free: the resident size follows the live arrays.
MALLOC_FOLLOWS_ARRAYS = "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536"


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def step_peak_mb(step, warmup=2):
    """The most resident memory one call of `step` added, in MB (Linux: the high-water mark
    reset through /proc/self/clear_refs), after `warmup` calls."""
    import gc

    for _ in range(warmup):
        step()
    gc.collect()
    before = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM to the current resident size
    step()
    return (_status_kb("VmHWM") - before) / 1024


def probe_memory(script, args, timeout=600):
    """Run `script` --memory-probe `args` in a fresh Python with MALLOC_FOLLOWS_ARRAYS; its
    last stdout line is JSON. Returns the parsed dict, or {"error": why}."""
    env = dict(os.environ, GLIBC_TUNABLES=MALLOC_FOLLOWS_ARRAYS)
    try:
        done = subprocess.run([sys.executable, script, "--memory-probe", *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"the probe took more than {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])
