"""How long a MultiHeadAttention and a TransformerEncoderBlock step take, next to PyTorch.

    python bench/bench_attention.py            # about 40 seconds
    python bench/bench_attention.py --quick    # about 15 seconds, rougher numbers
    OPENBLAS_NUM_THREADS=1 python bench/bench_attention.py --threads 1   # a busy machine

A step is forward and backward (the input gradient and every parameter gradient, no optimizer)
in float32 on one fixed random batch (N, T, E), self-attention. The PyTorch twins,
``nn.MultiheadAttention(batch_first=True)`` called with ``need_weights=False`` and
``nn.TransformerEncoderLayer(norm_first=True, batch_first=True, dropout=0)``, hold the same
weights; each row first prints how far the two outputs and input gradients differ. The two
libraries take turns (bench_steps.time_ms), so load from other jobs slows both alike.
"""

import argparse

import numpy as np
from bench_steps import show, time_ms

import tinyml
from tinyml import layers as L

try:
    import torch
except ImportError:
    torch = None

# (N, T, E, heads, hidden)
SHAPES = [(64, 32, 64, 4, 128), (32, 128, 64, 4, 128), (16, 64, 256, 8, 512)]


def build(kind, n, t, e, heads, hidden, causal):
    """(tinyml layer, torch twin or None, host input, host output gradient)."""
    tinyml.seed(0)
    if kind == "mha":
        layer = L.MultiHeadAttention("mha", e, heads, causal=causal)
    else:
        layer = L.TransformerEncoderBlock("block", e, heads, hidden, causal=causal)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t, e), dtype=np.float32)
    g = rng.standard_normal((n, t, e), dtype=np.float32)
    if torch is None:
        return layer, None, x, g
    if kind == "mha":
        twin = torch.nn.MultiheadAttention(e, heads, batch_first=True)
    else:
        twin = torch.nn.TransformerEncoderLayer(e, heads, hidden, dropout=0.0, batch_first=True,
                                                norm_first=True)
    state = {key.replace("out_proj_", "out_proj."): torch.tensor(tinyml.to_numpy(value))
             for key, value in layer.state_dict().items()}
    twin.load_state_dict(state)
    return layer, twin, x, g


def tinyml_step(layer, x, g):
    layer.forward(x)
    return layer.backward(g)


def torch_step(twin, x, g, mask):
    x.grad = None
    if isinstance(twin, torch.nn.MultiheadAttention):
        y = twin(x, x, x, attn_mask=mask, need_weights=False)[0]
    else:
        y = twin(x, src_mask=mask, is_causal=mask is not None)
    y.backward(g)
    return x.grad


def run(kind, shape, causal, seconds):
    layer, twin, x, g = build(kind, *shape, causal)
    ours = [tinyml.asarray(x), tinyml.asarray(g)]
    fns = [lambda: tinyml_step(layer, *ours)]
    dy = dx = None
    if twin is not None:
        t = shape[1]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1) if causal else None
        theirs = [torch.tensor(x, requires_grad=True), torch.tensor(g)]
        expected = (twin(theirs[0], theirs[0], theirs[0], attn_mask=mask, need_weights=False)[0]
                    if kind == "mha" else twin(theirs[0], src_mask=mask, is_causal=causal))
        dy = float(np.max(np.abs(tinyml.to_numpy(layer.forward(ours[0])) -
                                 expected.detach().numpy())))
        layer.clear_records()
        dx = float(np.max(np.abs(tinyml.to_numpy(tinyml_step(layer, *ours)) -
                                 torch_step(twin, *theirs, mask).numpy())))
        fns.append(lambda: torch_step(twin, *theirs, mask))
    (mine, my_spread), *other = time_ms(fns, seconds)
    them, their_spread = other[0] if other else (None, None)
    label = f"{kind}{' causal' if causal else ''}"
    n, t, e, heads, hidden = shape
    print(f"{label:<12} {n:>3} {t:>4} {e:>4} {heads:>3} {mine:>10.3f} {my_spread:>4.0%} "
          f"{show(them, '9.3f'):>9} {show(their_spread, '4.0%'):>4} "
          f"{show(mine / them if them else None, '6.2f'):>6} {show(dy, '8.1e'):>8} "
          f"{show(dx, '8.1e'):>8}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, rougher numbers")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "array_api_strict"])
    parser.add_argument("--threads", type=int, default=2,
                        help="PyTorch's threads; give NumPy's BLAS as many through "
                             "OPENBLAS_NUM_THREADS (on a busy machine, 1 for both is fairest)")
    args = parser.parse_args()
    tinyml.set_backend(args.backend, dtype="float32",
                       **({"device": "device1"} if args.backend == "array_api_strict" else {}))
    if torch is not None:
        torch.set_num_threads(args.threads)
        print(f"reference: PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    seconds = 0.6 if args.quick else 2.0
    print(f"{'layer':<12} {'N':>3} {'T':>4} {'E':>4} {'h':>3} {'tinyml ms':>10} {'±':>4} "
          f"{'torch ms':>9} {'±':>4} {'ratio':>6} {'max|dy|':>8} {'max|dx|':>8}")
    for kind in ("mha", "block"):
        for shape in SHAPES[:1] if args.quick else SHAPES:
            for causal in (False, True):
                run(kind, shape, causal, seconds)


if __name__ == "__main__":
    main()
