"""What bench/run.py times: the models, and one case per layer with its PyTorch twin.

A new layer gets timed alone by adding a LayerCase to LAYER_CASES; run.py lists every layer of
``tinyml.layers.__all__`` that has no case, so none is forgotten. A case has one float input of
a given sample shape, or any inputs (several, integer ones, a state that is a tuple of arrays);
its layer may return a tuple; its twin may be built from the tinyml layer, to hold the same
weights (the sequence layers' cases, bench/sequence_cases.py).
"""

from dataclasses import dataclass, field

import numpy as np
from bench_steps import lenet, mlp
from sequence_cases import merge_cases, sequence_cases

import tinyml
from tinyml import layers as L

try:
    import torch
    from torch import nn
except ImportError:
    torch = nn = None

# (name, builder, input shape of one sample, batch sizes): the models and batches.
MODELS = [
    ("lenet", lenet, (1, 28, 28), (1, 8, 64, 256)),
    ("mlp", mlp, (784,), (1, 8, 128)),
]
COUNTED_MODELS = [  # operations and host syncs per step, on the torch backend
    ("lenet", lenet, (1, 28, 28), 64),
    ("mlp", mlp, (784,), 128),
    ("digits cnn", tinyml.models.cnn, (1, 8, 8), 32),
]


@dataclass
class LayerCase:
    """One layer timed alone, forward + backward (input gradient included), at batch 64.

    build() makes the tinyml layer; twin() the PyTorch callable that computes the same thing
    (None: no twin, tinyml's times only), or twin(layer) with ``twin_takes_layer``, which
    copies the layer's weights; shape is one sample's input shape, or None with `inputs`: a
    list of the forward's arguments, each a function of the batch size that makes one host
    array, or a tuple of them (a state (h, c)). Integer inputs get no gradient.
    """

    name: str
    build: object
    shape: tuple
    twin: object = None
    classes: tuple = field(default=())  # the tinyml classes this case covers
    inputs: list = None
    twin_takes_layer: bool = False

    def host_inputs(self, batch):
        """The forward's arguments at `batch`: NumPy arrays, or tuples of them."""
        if self.inputs is None:
            return [random_input(self.shape, batch)]
        return [tree_map(lambda make: make(batch), each) for each in self.inputs]

    def make_twin(self, layer):
        return self.twin(layer) if self.twin_takes_layer else self.twin()


def _case(name, build, shape, twin=None, *classes):
    covered = classes or (type(build()),)
    return LayerCase(name, build, shape, twin, covered)


def _sequence_case(name, build, inputs, twin):
    return LayerCase(name, build, None, twin, (type(build()),), inputs, twin_takes_layer=True)


def _torch(factory):
    """A twin factory, or None where torch is missing."""
    return factory if torch is not None else None


LAYER_CASES = [
    _case("conv1 Conv2D 1->6 k5 p2", lambda: L.Conv2D("c", (1, 28, 28), 6, 5, 5, 1, 2),
          (1, 28, 28), _torch(lambda: nn.Conv2d(1, 6, 5, 1, 2))),
    _case("conv2 Conv2D 6->16 k5", lambda: L.Conv2D("c", (6, 14, 14), 16, 5, 5, 1, 0),
          (6, 14, 14), _torch(lambda: nn.Conv2d(6, 16, 5))),
    _case("Conv2D 16->32 k3 s2 p1", lambda: L.Conv2D("c", (16, 16, 16), 32, 3, 3, 2, 1),
          (16, 16, 16), _torch(lambda: nn.Conv2d(16, 32, 3, 2, 1))),
    _case("Conv1D 16->32 k5 L128", lambda: L.Conv1D("c", (16, 128), 32, 5, padding=2),
          (16, 128), _torch(lambda: nn.Conv1d(16, 32, 5, padding=2))),
    _case("Deconv2D 16->8 k4 s2 p1", lambda: L.Deconv2D("d", (16, 7, 7), 8, 4, 4, 2, padding=1),
          (16, 7, 7), _torch(lambda: nn.ConvTranspose2d(16, 8, 4, 2, 1))),
    _case("pool1 MaxPool2D 2x2 6x28x28", lambda: L.MaxPool2D("p", (6, 28, 28), 2, 2),
          (6, 28, 28), _torch(lambda: nn.MaxPool2d(2, 2)), L.MaxPool2D, L.Pool2D),
    _case("pool2 MaxPool2D 2x2 16x10x10", lambda: L.MaxPool2D("p", (16, 10, 10), 2, 2),
          (16, 10, 10), _torch(lambda: nn.MaxPool2d(2, 2))),
    _case("MaxPool2D 3x3 s2 16x15x15", lambda: L.MaxPool2D("p", (16, 15, 15), 3, 2),
          (16, 15, 15), _torch(lambda: nn.MaxPool2d(3, 2))),
    _case("AvgPool2D 2x2 16x14x14", lambda: L.AvgPool2D("p", (16, 14, 14), 2, 2),
          (16, 14, 14), _torch(lambda: nn.AvgPool2d(2, 2))),
    _case("GlobalAvgPool2D 32x8x8", lambda: L.GlobalAvgPool2D("p"), (32, 8, 8),
          _torch(lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))),
    _case("fc1 Linear 400->120", lambda: L.Linear("l", 400, 120), (400,),
          _torch(lambda: nn.Linear(400, 120))),
    _case("Linear 784->256", lambda: L.Linear("l", 784, 256), (784,),
          _torch(lambda: nn.Linear(784, 256))),
    _case("FullyConnected 256->256 relu",
          lambda: L.FullyConnected("f", 256, 256, act_fn="relu"), (256,),
          _torch(lambda: nn.Sequential(nn.Linear(256, 256), nn.ReLU()))),
    _case("relu1 ReLu 6x28x28", lambda: L.ReLu("r"), (6, 28, 28), _torch(nn.ReLU if nn else None),
          L.ReLu, L.ReLU),
    _case("Sigmoid 256", lambda: L.Sigmoid("s"), (256,), _torch(nn.Sigmoid if nn else None)),
    _case("Tanh 256", lambda: L.Tanh("t"), (256,), _torch(nn.Tanh if nn else None)),
    _case("LeakyReLU 256", lambda: L.LeakyReLU("l"), (256,),
          _torch(lambda: nn.LeakyReLU(0.3))),
    _case("ELU 256", lambda: L.ELU("e"), (256,), _torch(nn.ELU if nn else None)),
    _case("SELU 256", lambda: L.SELU("s"), (256,), _torch(nn.SELU if nn else None)),
    _case("GELU 256", lambda: L.GELU("g"), (256,), _torch(nn.GELU if nn else None)),
    _case("SoftPlus 256", lambda: L.SoftPlus("s"), (256,), _torch(nn.Softplus if nn else None)),
    _case("HardSigmoid 256 (numpy-ml's)", lambda: L.HardSigmoid("h"), (256,)),
    _case("Exponential 256", lambda: L.Exponential("e"), (256,)),
    _case("Identity 256", lambda: L.Identity("i"), (256,), _torch(nn.Identity if nn else None)),
    _case("Affine 256", lambda: L.Affine("a", slope=2.0, intercept=1.0), (256,)),
    _case("Softmax 10", lambda: L.Softmax("s"), (10,), _torch(lambda: nn.Softmax(dim=1))),
    _case("LogSoftmax 10", lambda: L.LogSoftmax("s"), (10,),
          _torch(lambda: nn.LogSoftmax(dim=1))),
    _case("Dropout 0.5 256", lambda: L.Dropout("d", 0.5), (256,),
          _torch(lambda: nn.Dropout(0.5))),
    _case("BatchNorm1D 256", lambda: L.BatchNorm1D("b", 256), (256,),
          _torch(lambda: nn.BatchNorm1d(256))),
    _case("BatchNorm2D 16x14x14", lambda: L.BatchNorm2D("b", 16), (16, 14, 14),
          _torch(lambda: nn.BatchNorm2d(16))),
    _case("LayerNorm1D 256", lambda: L.LayerNorm1D("l", 256), (256,),
          _torch(lambda: nn.LayerNorm(256))),
    _case("LayerNorm2D 16x14x14", lambda: L.LayerNorm2D("l", (16, 14, 14)), (16, 14, 14),
          _torch(lambda: nn.GroupNorm(1, 16))),
    _case("flatten Flatten 16x5x5", lambda: L.Flatten("f"), (16, 5, 5),
          _torch(nn.Flatten if nn else None)),
    _case("RBM 784->128 (CD-1)", lambda: L.RBM("r", 784, 128), (784,)),
    _case("SparseEvolution 784->256", lambda: L.SparseEvolution("s", 784, 256), (784,)),
    *sequence_cases(_sequence_case),
    *merge_cases(_sequence_case),
]

# Layers that take several inputs or hold other layers: timed inside the models, not alone.
NOT_ALONE = {
    "Residual": "a container (its layers are timed)",
    "Parallel": "a container (its layers are timed)",
    "MaxUnpool2D": "needs its MaxPool2D's forward first", "Layer": "the base class",
}


def uncovered_layers():
    """Names in tinyml.layers.__all__ that no LayerCase times and NOT_ALONE does not excuse."""
    covered = {cls for case in LAYER_CASES for cls in case.classes}
    return [name for name in L.__all__ if name not in NOT_ALONE
            and getattr(L, name) not in covered]


def tree_map(function, value):
    """`function` applied to every leaf of nested tuples and lists (the leaf itself)."""
    if isinstance(value, (tuple, list)):
        return type(value)(tree_map(function, each) for each in value)
    return function(value)


def tree_leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for each in value for leaf in tree_leaves(each)]
    return [value]


def random_input(shape, batch, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, *shape), dtype=np.float32)
