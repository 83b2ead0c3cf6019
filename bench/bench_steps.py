"""How long one training step takes in tinyml, next to the same step in PyTorch.

    python bench/bench_steps.py            # about 70 seconds
    python bench/bench_steps.py --quick    # about 25 seconds, rougher numbers

A step is forward, cross-entropy, backward and an SGD update with momentum, in float32. Each
row first runs one step in both libraries from the same weights and data and prints how far
the loss and the updated weights differ, then times many steps. See bench/README.md.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections import OrderedDict

import numpy as np

import tinyml
from tinyml import layers as L
from tinyml.backend import array_namespace
from tinyml.losses import cross_entropy, cross_entropy_with_logits

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

LR, MOMENTUM = 0.01, 0.9


# ---------------------------------------------------------------------------- models
def lenet():
    return tinyml.Net([
        L.Conv2D("conv1", (1, 28, 28), 6, 5, 5, 1, 2), L.ReLu("relu1"),
        L.MaxPool2D("pool1", (6, 28, 28), 2, 2),
        L.Conv2D("conv2", (6, 14, 14), 16, 5, 5, 1, 0), L.ReLu("relu2"),
        L.MaxPool2D("pool2", (16, 10, 10), 2, 2),
        L.Flatten("flatten"),
        L.Linear("fc1", 400, 120), L.ReLu("relu3"),
        L.Linear("fc2", 120, 84), L.ReLu("relu4"),
        L.Linear("fc3", 84, 10), L.Softmax("softmax"),
    ])


def mlp():
    return tinyml.Net([
        L.Linear("fc1", 784, 256), L.ReLu("relu1"),
        L.Linear("fc2", 256, 256), L.ReLu("relu2"),
        L.Linear("fc3", 256, 10), L.Softmax("softmax"),
    ])


def deconv():
    return tinyml.Net([
        L.Deconv2D("deconv", (16, 7, 7), 8, 4, 4, 2, padding=1), L.ReLu("relu"),
        L.Flatten("flatten"), L.Linear("fc", 8 * 14 * 14, 10), L.Softmax("softmax"),
    ])


# (name, builder, input shape of one sample, batch sizes)
MODELS = [
    ("lenet", lenet, (1, 28, 28), (1, 8, 64, 256)),
    ("mlp", mlp, (784,), (1, 8, 128)),
    ("digits mlp", tinyml.models.mlp, (1, 8, 8), (32,)),
    ("digits cnn", tinyml.models.cnn, (1, 8, 8), (32,)),
    ("deconv", deconv, (16, 7, 7), (64,)),
]


def torch_twin(net):
    """The same layers in PyTorch under the same names, so the state_dict keys match.

    The final Softmax is left out: F.cross_entropy takes logits, as tinyml's fused step does.
    """
    nn = torch.nn
    twins = {
        L.Linear: lambda m: nn.Linear(m.input_dim, m.output_dim),
        L.Conv2D: lambda m: nn.Conv2d(m.input_dim[0], m.n_filters, (m.h_filter, m.w_filter),
                                      m.stride, m.padding, dilation=m.dilation),
        L.Deconv2D: lambda m: nn.ConvTranspose2d(m.input_dim[0], m.n_filters,
                                                 (m.h_filter, m.w_filter), m.stride,
                                                 m.padding, dilation=m.dilation),
        L.MaxPool2D: lambda m: nn.MaxPool2d(m.size, m.stride),
        L.ReLu: lambda m: nn.ReLU(),
        L.Flatten: lambda m: nn.Flatten(),
        L.Dropout: lambda m: nn.Dropout(m.probability),
    }
    modules = [(m.name, twins[type(m)](m)) for m in net.layers if not isinstance(m, L.Softmax)]
    return nn.Sequential(OrderedDict(modules))


def build_pair(builder, shape, batch):
    """A tinyml Learner and (if torch is there) a torch step, same weights, same data."""
    tinyml.seed(0)
    net = builder()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    learner = tinyml.Learner(net, cross_entropy, tinyml.optim.SGD(LR, momentum=MOMENTUM), batch)
    tiny = (learner, tinyml.asarray(x), tinyml.asarray(y))
    if torch is None:
        return tiny, None
    torch.manual_seed(0)
    model = torch_twin(net)
    net.load_state_dict({k: v.detach().numpy() for k, v in model.state_dict().items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return tiny, (model, optimizer, torch.from_numpy(x), torch.from_numpy(y))


def tinyml_step(learner, x, y):
    return learner.train_step(x, y)[1]


def torch_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.detach()


def agreement(tiny, ref):
    """(|loss difference|, max |weight difference| after one step) from identical starts.

    Dropout is switched off for this one step (by rate): the two libraries draw different
    masks.
    """
    learner, model = tiny[0], ref[0]
    dropouts = [layer for layer in learner.net.named_layers().values()
                if isinstance(layer, L.Dropout)]
    rates = [layer.probability for layer in dropouts]
    for layer in dropouts:
        layer.probability = 0.0
    model.eval()
    loss_gap = abs(float(tinyml_step(*tiny)) - float(torch_step(*ref)))
    ours = learner.net.state_dict()
    weight_gap = max(float(np.max(np.abs(tinyml.to_numpy(ours[k]) - v.detach().numpy())))
                     for k, v in model.state_dict().items())
    for layer, rate in zip(dropouts, rates, strict=True):
        layer.probability = rate
    model.train()
    return loss_gap, weight_gap


# ---------------------------------------------------------------------------- timing
def time_ms(fns, seconds, inner=1, rounds=7, clock=time.perf_counter):
    """(median, spread) of milliseconds per call for each function in `fns`.

    The functions take turns over `rounds` rounds, so load from other processes hits all of
    them alike. The median is that of the calmest round (the lowest round median): other jobs
    only ever add time. The spread, (slowest - calmest round median) / calmest, shows how
    noisy the machine was. Each sample times `inner` calls, for calls too short to time alone.
    `clock` may be ``time.thread_time`` (CPU time of this thread: with everything on one
    thread, what other processes take is left out).
    """
    estimates = []
    for fn in fns:
        start = clock()
        calls = 0
        while calls < 3 or clock() - start < 0.1:  # 1. warm caches and allocators
            fn()
            calls += 1
        estimates.append(max(clock() - start, 1e-6) / calls)
    medians = [[] for _ in fns]
    for _ in range(rounds):
        for fn, estimate, out in zip(fns, estimates, medians, strict=True):
            samples = []
            for _ in range(max(3, int(seconds / rounds / estimate / inner))):
                start = clock()
                for _ in range(inner):
                    fn()
                samples.append((clock() - start) * 1e3 / inner)
            out.append(statistics.median(samples))
    return [(min(out), max(out) / min(out) - 1) for out in medians]


def show(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def bench_steps(seconds):
    """The main table, and a warning when the spread between rounds shows a busy machine."""
    noise = 0.0
    print(f"{'model':<11} {'batch':>5} {'tinyml ms':>10} {'±':>4} {'torch ms':>9} {'±':>4} "
          f"{'ratio':>6} {'|dloss|':>8} {'max|dw|':>8}")
    for name, builder, shape, batches in MODELS:
        for batch in batches:
            tiny, ref = build_pair(builder, shape, batch)
            gaps = agreement(tiny, ref) if ref else (None, None)
            fns = [lambda t=tiny: tinyml_step(*t)] + ([lambda r=ref: torch_step(*r)] if ref else [])
            (ours, our_spread), *theirs = time_ms(fns, seconds)
            them, their_spread = theirs[0] if theirs else (None, None)
            ratio = ours / them if them else None
            noise = max(noise, our_spread, their_spread or 0.0)
            print(f"{name:<11} {batch:>5} {ours:>10.3f} {our_spread:>4.0%} "
                  f"{show(them, '9.3f'):>9} {show(their_spread, '4.0%'):>4} "
                  f"{show(ratio, '6.2f'):>6} {show(gaps[0], '8.1e'):>8} "
                  f"{show(gaps[1], '8.1e'):>8}", flush=True)
    if noise > 0.5:
        print(f"\nNOISY: a row's slowest round was {noise:.0%} slower than its calmest. Other "
              "processes were using the CPU; close them or run again.")


def bench_layers(batch, seconds):
    """Forward + backward of each LeNet layer alone, then the rest of the step."""
    tiny, ref = build_pair(lenet, (1, 28, 28), batch)
    learner, x, y = tiny
    note = " (torch computes the input gradient too)" if ref else ""
    print(f"\nLeNet layers, forward + backward, batch {batch}{note}")
    print(f"{'layer':<16} {'tinyml ms':>10} {'torch ms':>9} {'ratio':>6} {'share':>6}")
    rows = []
    for layer in learner.net.layers[:-1]:  # 2. the Softmax is fused into the loss
        out = layer.forward(x)
        g = tinyml.asarray(np.random.default_rng(1).standard_normal(tuple(out.shape),
                                                                     dtype=np.float32))
        fns = [lambda m=layer, a=x, g=g: (m.forward(a), m.backward(g))]
        if ref:
            module = getattr(ref[0], layer.name)
            a_t = torch.from_numpy(tinyml.to_numpy(x)).requires_grad_()
            g_t = torch.from_numpy(tinyml.to_numpy(g))
            fns.append(lambda m=module, a=a_t, g=g_t: m(a).backward(g))
        rows.append((layer.name, *time_ms(fns, seconds)))
        x = out
    logits = x
    named = learner.net.named_parameters()
    rows.append(("loss (fused)", *time_ms([lambda: cross_entropy_with_logits(logits, y)],
                                         seconds)))
    rows.append(("zero_grad+SGD", *time_ms([lambda: (learner.net.zero_grad(),
                                                     learner.optimizer.step(named))], seconds)))
    total = sum(row[1][0] for row in rows)
    for name, (ours, _), *theirs in rows:
        them = theirs[0][0] if theirs else None
        print(f"{name:<16} {ours:>10.3f} {show(them, '9.3f'):>9} "
              f"{show(them and ours / them, '6.2f'):>6} {ours / total:>6.0%}")
    print(f"{'sum':<16} {total:>10.3f}")


def bench_namespace(seconds):
    """What asking an array for its namespace costs, and how often one LeNet step asks."""
    tiny, _ = build_pair(lenet, (1, 28, 28), 1)
    learner, x, y = tiny
    conv = learner.net["conv1"]
    w, b = conv.weight.data, conv.bias.data
    (one, _), (three, _), (layer, _) = time_ms([
        lambda: array_namespace(x),
        lambda: array_namespace(x, w, b, names=["input", "weight", "bias"], where="conv1"),
        lambda: conv._namespace(x),
    ], seconds, inner=1000)
    learner.train_step(x, y)  # 3. the first step creates the momentum buffers: skip it
    profile = cProfile.Profile()
    profile.runcall(learner.train_step, x, y)
    stats = pstats.Stats(profile).stats
    base = os.path.join("layers", "base.py")
    in_layers = sum(stat[1] for (path, _, function), stat in stats.items()
                    if function == "_namespace" and path.endswith(base))
    direct = sum(stat[1] for (_, _, function), stat in stats.items()
                 if function == "array_namespace") - in_layers  # 4. _namespace calls it once
    per_step = direct * three + in_layers * layer
    print("\narray_namespace, per call")
    print(f"  one array                 {one * 1e3:6.2f} us")
    print(f"  input + weight + bias     {three * 1e3:6.2f} us")
    print(f"  Layer._namespace(input)   {layer * 1e3:6.2f} us  (also lists the parameters)")
    print(f"  per LeNet step            {in_layers} Layer._namespace + {direct} direct calls, "
          f"about {per_step:.3f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, rougher numbers")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "array_api_strict"])
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 1.5
    tinyml.set_backend(args.backend, dtype="float32")
    if torch is None:
        print("PyTorch is not installed: tinyml times only, no reference and no agreement check.")
    else:
        torch.set_num_threads(2)
        print(f"reference: PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"tinyml on {args.backend}, float32, SGD lr {LR} momentum {MOMENTUM}; "
          "median ms per step of the calmest round, ± = spread between rounds\n")
    bench_steps(seconds)
    for batch in (64,) if args.quick else (64, 256):
        bench_layers(batch, seconds / 3)
    bench_namespace(seconds / 3)


if __name__ == "__main__":
    main()
