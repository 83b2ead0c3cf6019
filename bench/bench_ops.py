"""Native against portable backend operations, timed in the same run.

    python bench/bench_ops.py            # about a minute
    python bench/bench_ops.py --quick    # about 20 seconds, rougher numbers

For each operation of tinyml.backend.ops and each library (NumPy; PyTorch where installed),
the same call runs on the native registered for that library and with the portable path forced
(`tinyml.backend.portable_ops()`), in float32, taking turns. See bench/README.md.
"""

import argparse

import numpy as np
from bench_steps import show, time_ms

import tinyml
from tinyml.backend import ops, portable_ops, to_numpy

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(0)


def scatter_case(n, num_rows, width):
    indices = RNG.integers(0, num_rows, size=n)
    values = RNG.standard_normal((n, width) if width else (n,), dtype=np.float32)
    return (indices, values, num_rows), {}


def im2col_case(shape, kernel, stride=1):
    out = (shape[2] - kernel) // stride + 1, (shape[3] - kernel) // stride + 1
    x = RNG.standard_normal(shape, dtype=np.float32)
    return (x, kernel, kernel), dict(stride=stride, dilation=1, out_h=out[0], out_w=out[1])


def col2im_case(g_shape, channels, kernel, stride=1):
    n, a, h, w = g_shape
    size = stride * (h - 1) + kernel, stride * (w - 1) + kernel
    g = RNG.standard_normal(g_shape, dtype=np.float32)
    weight = RNG.standard_normal((a, channels, kernel, kernel), dtype=np.float32)
    return (g, weight), dict(stride=stride, dilation=1, out_shape=(n, channels, *size))


# (operation, what the case is, (args, kwargs) on the host)
CASES = [
    (ops.scatter_add, "embedding 2048 of 10000 x 64", scatter_case(2048, 10000, 64)),
    (ops.scatter_add, "repeats 8192 of 50 x 128", scatter_case(8192, 50, 128)),
    (ops.scatter_add, "1-D 100000 of 1000", scatter_case(100000, 1000, 0)),
    (ops.im2col, "lenet conv1 b64 1x32x32 k5", im2col_case((64, 1, 32, 32), 5)),
    (ops.im2col, "lenet conv2 b64 6x14x14 k5", im2col_case((64, 6, 14, 14), 5)),
    (ops.im2col, "lenet conv1 b256", im2col_case((256, 1, 32, 32), 5)),
    (ops.im2col, "3x3 b32 64x32x32", im2col_case((32, 64, 32, 32), 3)),
    (ops.col2im_matmul, "lenet conv1 dX b64 6->1 k5", col2im_case((64, 6, 28, 28), 1, 5)),
    (ops.col2im_matmul, "lenet conv2 dX b64 16->6 k5", col2im_case((64, 16, 10, 10), 6, 5)),
    (ops.col2im_matmul, "deconv b64 16->8 k4 s2", col2im_case((64, 16, 7, 7), 8, 4, 2)),
]


def on_library(library, host):
    """The case's host arrays as `library` arrays (scalars and tuples stay)."""
    backend = tinyml.backend.make_backend(library, dtype="float32")
    return [backend.asarray(a) if isinstance(a, np.ndarray) else a for a in host]


def run(op, args, kwargs, portable):
    with portable_ops(portable):
        return op(*args, **kwargs)


def caller(op, args, kwargs, portable):
    return lambda: run(op, args, kwargs, portable)


def bench_row(op, label, library, host_args, kwargs, seconds):
    """Print one row; return the larger spread between rounds."""
    args = on_library(library, host_args)
    paths = (False, True) if library in op.natives else (True,)
    times = time_ms([caller(op, args, kwargs, portable) for portable in paths], seconds,
                    rounds=5)
    portable, portable_spread = times[-1]
    native, native_spread, diff = None, None, None
    if len(times) == 2:
        native, native_spread = times[0]
        diff = float(np.max(np.abs(to_numpy(run(op, args, kwargs, False))
                                   - to_numpy(run(op, args, kwargs, True)))))
    print(f"{op.name:<14} {label:<29} {library:<7} {show(native, '9.3f'):>9} "
          f"{show(native_spread, '4.0%'):>4} {portable:>11.3f} {portable_spread:>4.0%} "
          f"{show(native and native / portable, '6.2f'):>6} {show(diff, '9.1e'):>9}", flush=True)
    return max(portable_spread, native_spread or 0.0)


def bench(libraries, seconds):
    print(f"{'operation':<14} {'case':<29} {'library':<7} {'native ms':>9} {'±':>4} "
          f"{'portable ms':>11} {'±':>4} {'ratio':>6} {'max|diff|':>9}")
    noise = max(bench_row(op, label, library, *case, seconds)
                for op, label, case in CASES for library in libraries)
    if noise > 0.5:
        print(f"\nNOISY: a row's slowest round was {noise:.0%} slower than its calmest. Other "
              "processes were using the CPU; close them or run again.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, rougher numbers")
    args = parser.parse_args()
    libraries = ["numpy"]
    if torch is None:
        print("PyTorch is not installed: NumPy only.")
    else:
        torch.set_num_threads(2)
        libraries.append("torch")
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print("float32; median ms per call of the calmest of 5 rounds, ± = spread between rounds; "
          "ratio = native / portable (below 1: the native is faster); '-': no native\n")
    bench(libraries, 0.3 if args.quick else 1.5)


if __name__ == "__main__":
    main()
