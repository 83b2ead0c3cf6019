"""The sequence layers' cases for bench/run.py's layer table, each with a PyTorch twin that holds
the SAME weights (copied from the tinyml layer) where PyTorch has the same thing; and the
merge layers', which take a list of inputs.

Sizes: the recurrent layers and cells N=64, T=28, F=28, H=128 (MNIST read row by row, as
bench/bench_recurrent.py); attention model dim 64, 4 heads, T=32 (bench/bench_attention.py's
first shape); Embedding vocabulary 1000, dim 64, T=32. A case with a state times the cell from
a given state, so its backward also returns the state's gradient (as PyTorch's does when the
state requires grad).
"""

import numpy as np

import tinyml
from tinyml import layers as L

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    torch = F = nn = None

T, FEATURES, HIDDEN = 28, 28, 128  # recurrent
LENGTH, DIM, HEADS, FFN = 32, 64, 4, 128  # attention
VOCAB = 1000
RECURRENT_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def floats(*shape, seed=0):
    """A host input: standard normal float32 of `shape` (leading -1: the batch)."""
    def make(batch):
        return np.random.default_rng(seed).standard_normal(
            tuple(batch if extent == -1 else extent for extent in shape), dtype=np.float32)
    return make


def token_ids(batch):
    return np.random.default_rng(0).integers(0, VOCAB, size=(batch, LENGTH), dtype=np.int64)


def host(array):
    return torch.from_numpy(np.array(tinyml.to_numpy(array)))


# ---------------------------------------------------------------------------- twins
def _copy_recurrent(twin, layer, suffix="_l0"):
    with torch.no_grad():
        for key in RECURRENT_KEYS:
            getattr(twin, key + suffix).copy_(host(getattr(layer, key).data))


def recurrent_twin(kind):
    """(layer) -> x -> output: torch.nn.RNN/LSTM/GRU(batch_first=True), the layer's weights."""
    def twin(layer):
        module = getattr(nn, kind)(FEATURES, HIDDEN, batch_first=True)
        _copy_recurrent(module, layer)
        return lambda x: module(x)[0]
    return twin


def bidirectional_twin(layer):
    module = nn.LSTM(FEATURES, HIDDEN, batch_first=True, bidirectional=True)
    _copy_recurrent(module, layer.forward_layer)
    _copy_recurrent(module, layer.reverse_layer, "_l0_reverse")
    return lambda x: module(x)[0]


def cell_twin(kind):
    """(layer) -> (x, state) -> new state: torch.nn.RNNCell/LSTMCell/GRUCell."""
    def twin(layer):
        module = getattr(nn, kind)(FEATURES, HIDDEN)
        _copy_recurrent(module, layer, "")
        return module
    return twin


def embedding_twin(pool):
    def twin(layer):
        module = (nn.Embedding(VOCAB, DIM) if pool is None else
                  nn.EmbeddingBag(VOCAB, DIM, mode=pool))
        with torch.no_grad():
            module.weight.copy_(host(layer.weight.data))
        return module
    return twin


def state_dict_twin(factory):
    """(layer) -> the module `factory()` makes, loaded with the layer's state_dict (tinyml's
    ``out_proj_weight`` is PyTorch's ``out_proj.weight``)."""
    def twin(layer):
        module = factory()
        module.load_state_dict({key.replace("out_proj_", "out_proj."): host(value)
                                for key, value in layer.state_dict().items()})
        return module
    return twin


def mha_twin(layer):
    module = state_dict_twin(lambda: nn.MultiheadAttention(DIM, HEADS, batch_first=True))(layer)
    return lambda x: module(x, x, x, need_weights=False)[0]


def block_twin(layer):
    return state_dict_twin(lambda: nn.TransformerEncoderLayer(
        DIM, HEADS, FFN, dropout=0.0, batch_first=True, norm_first=True))(layer)


def _only_with_torch(twin):
    return twin if torch is not None else None


def sequence_cases(case):
    """The cases, made by `case(name, build, inputs, twin, *classes)` (bench/cases.py)."""
    seq = floats(-1, T, FEATURES)
    state = floats(-1, HIDDEN, seed=2)
    tokens = floats(-1, LENGTH, DIM)
    heads = [floats(-1, HEADS, LENGTH, DIM // HEADS, seed=s) for s in range(3)]
    rows = [
        ("Embedding 1000x64 T32", lambda: L.Embedding("e", VOCAB, DIM), [token_ids],
         embedding_twin(None)),
        ("Embedding sum 1000x64 T32", lambda: L.Embedding("e", VOCAB, DIM, pool="sum"),
         [token_ids], embedding_twin("sum")),
        ("Embedding mean 1000x64 T32", lambda: L.Embedding("e", VOCAB, DIM, pool="mean"),
         [token_ids], embedding_twin("mean")),
        ("RNN 28->128 T28", lambda: L.RNN("r", FEATURES, HIDDEN), [seq], recurrent_twin("RNN")),
        ("LSTM 28->128 T28", lambda: L.LSTM("r", FEATURES, HIDDEN), [seq],
         recurrent_twin("LSTM")),
        ("GRU 28->128 T28", lambda: L.GRU("r", FEATURES, HIDDEN), [seq], recurrent_twin("GRU")),
        ("Bidirectional LSTM 28->2x128 T28",
         lambda: L.Bidirectional("b", L.LSTM("r", FEATURES, HIDDEN)), [seq], bidirectional_twin),
        ("RNNCell 28->128, state given", lambda: L.RNNCell("c", FEATURES, HIDDEN),
         [floats(-1, FEATURES), state], cell_twin("RNNCell")),
        ("LSTMCell 28->128, state given", lambda: L.LSTMCell("c", FEATURES, HIDDEN),
         [floats(-1, FEATURES), (state, floats(-1, HIDDEN, seed=3))], cell_twin("LSTMCell")),
        ("GRUCell 28->128, state given", lambda: L.GRUCell("c", FEATURES, HIDDEN),
         [floats(-1, FEATURES), state], cell_twin("GRUCell")),
        ("DotProductAttention 4x32x16 q k v", lambda: L.DotProductAttention("a"), heads,
         lambda layer: F.scaled_dot_product_attention),
        ("MultiHeadAttention 64 h4 T32", lambda: L.MultiHeadAttention("m", DIM, HEADS),
         [tokens], mha_twin),
        ("TransformerEncoderBlock 64 h4 T32",
         lambda: L.TransformerEncoderBlock("t", DIM, HEADS, FFN), [tokens], block_twin),
        ("PositionalEncoding 32x64", lambda: L.PositionalEncoding("p", LENGTH, DIM), [tokens],
         None),
        ("Permute (2, 1) 32x64", lambda: L.Permute("p", (2, 1)), [tokens],
         lambda layer: lambda x: x.permute(0, 2, 1)),
        ("Reshape (64, 32) of 32x64", lambda: L.Reshape("r", (64, 32)), [tokens],
         lambda layer: lambda x: x.reshape(len(x), 64, 32)),
    ]
    return [case(name, build, inputs, _only_with_torch(twin))
            for name, build, inputs, twin in rows]


def merge_cases(case):
    """Add, Multiply and Concatenate of two (N, 256) inputs, given as one list."""
    pair = [[floats(-1, 256), floats(-1, 256, seed=1)]]
    rows = [
        ("Add 2x256", lambda: L.Add("a"), lambda layer: lambda xs: xs[0] + xs[1]),
        ("Multiply 2x256", lambda: L.Multiply("m"), lambda layer: lambda xs: xs[0] * xs[1]),
        ("Concatenate 2x256", lambda: L.Concatenate("c"),
         lambda layer: lambda xs: torch.cat(xs, dim=1)),
    ]
    return [case(name, build, pair, _only_with_torch(twin)) for name, build, twin in rows]
