"""An exported net in onnxruntime next to tinyml's own NumPy forward, timed in the same run.

    python bench/bench_onnx.py              # about 50 seconds
    python bench/bench_onnx.py --quick      # about 20 seconds, rougher numbers

For LeNet-5 (as bench_steps.py builds it), the digits CNN (tinyml.models.cnn), a token
classifier (Embedding, LSTM over 50 steps, Linear) and a 2-block Transformer over 32 tokens,
at batch 1 and 64, in float32: tinyml's eval-mode forward inside tinyml.no_grad() on the numpy
backend, and the file tinyml.onnx.export wrote, run by an onnxruntime InferenceSession on the
CPU. The row "token lstm unrolled" exports the same LSTM net with the ndonnx native of the
backend operation recurrence switched off: the loop over time unrolled into the graph, next to
the one ONNX LSTM node of the row above it. Needs the onnx extra. See bench/README.md.
"""

import argparse
import contextlib
import os
import tempfile
from typing import NamedTuple

import numpy as np
from bench_steps import lenet, show, time_ms

import tinyml
from tinyml import layers
from tinyml.backend.ops import recurrence

VOCABULARY, CLASSES = 1000, 10


def token_lstm():
    """Token ids (N, 50) -> class probabilities: an embedding, an LSTM's last state."""
    return tinyml.Net([layers.Embedding("embedding", VOCABULARY, 32),
                       layers.LSTM("lstm", 32, 64, return_sequences=False),
                       layers.Linear("fc", 64, CLASSES), layers.Softmax("softmax")])


def transformer():
    """Token ids (N, 32) -> class probabilities: two pre-norm encoder blocks (E=64, 4
    heads, FFN 128), then a linear map of every step."""
    return tinyml.Net([layers.Embedding("embedding", VOCABULARY, 64),
                       layers.PositionalEncoding("positions", 32, 64),
                       layers.TransformerEncoderBlock("block1", 64, 4, 128),
                       layers.TransformerEncoderBlock("block2", 64, 4, 128),
                       layers.Flatten("flatten"), layers.Linear("fc", 32 * 64, CLASSES),
                       layers.Softmax("softmax")])


class Model(NamedTuple):
    name: str
    build: object
    sample_shape: tuple  # one sample's shape
    batches: tuple
    tokens: bool = False  # int64 token ids in [0, VOCABULARY) rather than floats
    unrolled: bool = False  # export with the recurrence native off


MODELS = [
    Model("lenet", lenet, (1, 28, 28), (1, 64)),
    Model("digits cnn", tinyml.models.cnn, (1, 8, 8), (1, 64)),
    Model("token lstm", token_lstm, (50,), (1, 64), tokens=True),
    Model("token lstm unrolled", token_lstm, (50,), (1, 64), tokens=True, unrolled=True),
    Model("transformer", transformer, (32,), (1, 64), tokens=True),
]


@contextlib.contextmanager
def recurrence_unrolled():
    """Export the portable loop over time of the recurrent layers, not one ONNX node."""
    native = recurrence.natives.pop("ndonnx")
    try:
        yield
    finally:
        recurrence.natives["ndonnx"] = native


def session_for(model, net, folder, threads):
    """(onnxruntime session of `net` exported with a dynamic batch, number of graph nodes)."""
    import onnxruntime as ort

    path = os.path.join(folder, "net.onnx")
    with recurrence_unrolled() if model.unrolled else contextlib.nullcontext():
        proto = tinyml.onnx.export(net, path, input_shape=(None, *model.sample_shape),
                                   input_dtype="int64" if model.tokens else "float32")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session, len(proto.graph.node)


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
        for model in MODELS:
            net = model.build().eval()
            session, nodes = session_for(model, net, folder, args.threads)
            for batch in model.batches:
                shape = (batch, *model.sample_shape)
                generator = np.random.default_rng(0)
                x = generator.integers(0, VOCABULARY, shape) if model.tokens else \
                    generator.random(shape, dtype=np.float32)
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
                rows.append((model.name, batch, nodes, tiny, ort_ms, ort_ms / tiny,
                             max(tiny_spread, ort_spread), difference))
    print(f"{'model':<19} {'batch':>5} {'nodes':>5} {'tinyml ms':>10} {'onnxrt ms':>10} "
          f"{'ratio':>6} {'±':>5} {'max|diff|':>9}")
    for name, batch, nodes, tiny, ort_ms, ratio, spread, difference in rows:
        print(f"{name:<19} {batch:>5} {nodes:>5} {tiny:>10.4f} {ort_ms:>10.4f} {ratio:>6.2f} "
              f"{show(spread * 100, '.0f'):>4}% {difference:>9.1e}")
    print("ratio: onnxruntime / tinyml (below 1: the exported file runs faster); ±: how much "
          "the slowest round was above the calmest (machine noise)")


if __name__ == "__main__":
    main()
