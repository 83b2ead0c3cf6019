"""The layers. Each keeps its own forward and backward pass, written in standard Array API calls.

===========================  ================================================================
``Linear``                   fully connected, ``y = x W^T + b``
``Conv1D``                   1-D convolution over (N, C, L) sequences
``Conv2D``                   2-D convolution over NCHW images
``Deconv2D``                 transposed convolution
``MaxPool2D``                max pooling
``AvgPool2D``                average pooling
``Pool2D``                   max or average pooling (numpy-ml's name)
``GlobalAvgPool2D``          the mean of each channel, (N, C, H, W) -> (N, C)
``MaxUnpool2D``              values back at a MaxPool2D's maxima, zeros elsewhere
``Dropout``                  inverted dropout (off in eval mode)
``BatchNorm1D``              batch norm of (N, F); running statistics in eval mode
``BatchNorm2D``              batch norm of (N, C, H, W) images, per channel
``LayerNorm1D``              layer norm over the last axis of (N, F) or (N, T, F)
``LayerNorm2D``              layer norm of each (C, H, W) sample (group norm, 1 group)
``Flatten``                  (batch, ...) -> (batch, features)
``Reshape``                  each sample to a new shape, ``(batch, ...) -> (batch, *shape)``
``Permute``                  each sample's axes reordered, (N, C, L) -> (N, L, C)
``Embedding``                integer indices (N, T) -> their vectors (N, T, D), or pooled (N, D)
``ReLu`` / ``ReLU``          rectified linear unit
``Sigmoid``                  the logistic function, stable for large ``|x|``
``Softmax``                  softmax with its true backward
``LogSoftmax``               log-softmax (pairs with the ``nll`` loss)
``Tanh``                     hyperbolic tangent
``LeakyReLU``                ``x`` for ``x > 0``, ``alpha * x`` otherwise (alpha=0.3)
``ELU`` / ``SELU``           exponential linear unit / its scaled form (PyTorch's constants)
``GELU``                     ``x * Phi(x)``, exact (erf) or the tanh approximation
``SoftPlus``                 ``log(1 + exp(x))``, stable for large ``|x|``
``HardSigmoid``              numpy-ml's ``clip(0.2 x + 0.5, 0, 1)``
``Exponential``              ``exp(x)``
``Identity``                 ``x``
``Affine``                   ``slope * x + intercept``, fixed numbers
``FullyConnected``           Linear then an activation, ``y = f(x W^T + b)``
``RBM``                      restricted Boltzmann machine (CD-K); a feature layer
``SparseEvolution``          sparse fully connected whose mask evolves (SET)
``Add``                      the sum of a list of inputs, optionally activated
``Multiply``                 the elementwise product of a list of inputs, optionally activated
``Concatenate``              a list of inputs joined along one axis
``Residual``                 ``y = x + f(x)`` for a stack of layers f
``Parallel``                 one input into several branches, merged by a merge layer
``RNN``                      Elman RNN over (N, T, F) sequences, backpropagated through time
``LSTM``                     long short-term memory over (N, T, F) sequences
``GRU``                      gated recurrent unit over (N, T, F) sequences
``RNNCell``                  one step of the Elman RNN, ``forward(x, h) -> h'``
``LSTMCell``                 one step of the LSTM, ``forward(x, (h, c)) -> (h', c')``
``GRUCell``                  one step of the GRU, ``forward(x, h) -> h'``
``Bidirectional``            an RNN, LSTM or GRU read forward and, by a copy, backward in time
``DotProductAttention``      ``softmax(q k^T / sqrt(d)) v``, masks and causal, (N, [heads,] T, d)
``MultiHeadAttention``       PyTorch's multi-head attention: self- or cross-attention, (N, T, E)
``PositionalEncoding``       adds the sinusoidal position table to (N, T, dim)
``TransformerEncoderBlock``  pre-norm ``x + MHA(LN(x))``, then ``x + FFN(LN(x))``
===========================  ================================================================
"""

from ..core import Layer
from ..core.config import register_exported
from .attention import DotProductAttention
from .bidirectional import Bidirectional
from .containers import Parallel, Residual
from .conv import Conv2D, Deconv2D
from .conv1d import Conv1D
from .dense import FullyConnected
from .dropout import Dropout
from .elementwise import (
    ELU,
    GELU,
    SELU,
    Affine,
    Exponential,
    HardSigmoid,
    Identity,
    LeakyReLU,
    ReLU,
    ReLu,
    Sigmoid,
    SoftPlus,
    Tanh,
)
from .embedding import Embedding
from .linear import Linear
from .merge import Add, Concatenate, Multiply
from .multi_head_attention import MultiHeadAttention
from .normalization import BatchNorm1D, BatchNorm2D, LayerNorm1D, LayerNorm2D
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D, MaxUnpool2D, Pool2D
from .rbm import RBM
from .recurrent import GRU, LSTM, RNN
from .recurrent_cells import GRUCell, LSTMCell, RNNCell
from .reshape import Flatten, Permute, Reshape
from .softmax import LogSoftmax, Softmax
from .sparse import SparseEvolution
from .transformer import PositionalEncoding, TransformerEncoderBlock

__all__ = [
    "Add",
    "Affine",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Deconv2D",
    "DotProductAttention",
    "Dropout",
    "ELU",
    "Embedding",
    "Exponential",
    "Flatten",
    "FullyConnected",
    "GELU",
    "GRU",
    "GRUCell",
    "GlobalAvgPool2D",
    "HardSigmoid",
    "Identity",
    "Layer",
    "LSTM",
    "LSTMCell",
    "LayerNorm1D",
    "LayerNorm2D",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MaxPool2D",
    "MaxUnpool2D",
    "Multiply",
    "MultiHeadAttention",
    "Parallel",
    "Permute",
    "Pool2D",
    "PositionalEncoding",
    "RBM",
    "RNN",
    "RNNCell",
    "ReLU",
    "ReLu",
    "Reshape",
    "Residual",
    "SELU",
    "Sigmoid",
    "Softmax",
    "SoftPlus",
    "SparseEvolution",
    "Tanh",
    "TransformerEncoderBlock",
]

# Configs (net.config(), tinyml.load_net) may name every layer class exported here.
register_exported(globals(), __all__)
