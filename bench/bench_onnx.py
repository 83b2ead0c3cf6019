"""An exported net in onnxruntime next to tinyml's own NumPy forward, timed in the same run.

    python bench/bench_onnx.py              # about 20 seconds
    python bench/bench_onnx.py --quick      # about 8 seconds, rougher numbers

For LeNet-5 (as bench_steps.py builds it) and the digits CNN (tinyml.models.cnn), at batch 1
and 64, in float32: tinyml's eval-mode forward inside tinyml.no_grad() on the numpy backend,
and the file tinyml.onnx.export wrote, run by an onnxruntime InferenceSession on the CPU. Needs
the onnx extra. See bench/README.md.
"""

import argparse
import os
import tempfile

import numpy as np
from bench_steps import lenet, show, time_ms

import tinyml

# (name, builder, one sample's shape, batch sizes)
MODELS = [
    ("lenet", lenet, (1, 28, 28), (1, 64)),
    ("digits cnn", tinyml.models.cnn, (1, 8, 8), (1, 64)),
]


def session_for(net, sample_shape, folder, threads):
    """(onnxruntime session of `net` exported with a dynamic batch, number of graph nodes)."""
    import onnxruntime as ort

    path = os.path.join(folder, "net.onnx")
    model = tinyml.onnx.export(net, path, input_shape=(None, *sample_shape))
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session, len(model.graph.node)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--threads", type=int, default=0,
                        help="onnxruntime's intra-op threads (default: its own choice)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 3.0
    tinyml.set_backend("numpy", dtype="float32")
    tinyml.seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, builder, sample_shape, batches in MODELS:
            net = builder().eval()
            session, nodes = session_for(net, sample_shape, folder, args.threads)
            for batch in batches:
                x = np.random.default_rng(0).random((batch, *sample_shape), dtype=np.float32)
                device_x = tinyml.asarray(x)

                def tinyml_forward(net=net, device_x=device_x):
                    with tinyml.no_grad():
                        return net.forward(device_x)

                def onnxruntime_forward(session=session, x=x):
                    return session.run(None, {"input": x})[0]

                difference = np.max(np.abs(onnxruntime_forward() -
                                           tinyml.to_numpy(tinyml_forward())))
                (tiny, tiny_spread), (ort_ms, ort_spread) = time_ms(
                    [tinyml_forward, onnxruntime_forward], seconds)
                rows.append((name, batch, nodes, tiny, ort_ms, ort_ms / tiny,
                             max(tiny_spread, ort_spread), difference))
    print(f"{'model':<11} {'batch':>5} {'nodes':>5} {'tinyml ms':>10} {'onnxrt ms':>10} "
          f"{'ratio':>6} {'±':>5} {'max|diff|':>9}")
    for name, batch, nodes, tiny, ort_ms, ratio, spread, difference in rows:
        print(f"{name:<11} {batch:>5} {nodes:>5} {tiny:>10.4f} {ort_ms:>10.4f} {ratio:>6.2f} "
              f"{show(spread * 100, '.0f'):>4}% {difference:>9.1e}")
    print("ratio: onnxruntime / tinyml (below 1: the exported file runs faster); ±: how much "
          "the slowest round was above the calmest (machine noise)")


if __name__ == "__main__":
    main()
