"""The layers. Each keeps its own forward and backward pass, written in standard Array API calls.

======================  =========================================================
``Linear``              fully connected, ``y = x W^T + b``
``Conv2D``              2-D convolution over NCHW images
``Deconv2D``            transposed convolution
``MaxPool2D``           max pooling
``Dropout``             inverted dropout (off in eval mode)
``Flatten``             (batch, ...) -> (batch, features)
``ReLu`` / ``ReLU``     rectified linear unit
``Sigmoid``             the logistic function, stable for large ``|x|``
``Softmax``             softmax with its true backward
``LogSoftmax``          log-softmax (pairs with the ``nll`` loss)
``FullyConnected``      Linear then an activation, ``y = f(x W^T + b)``
``RBM``                 restricted Boltzmann machine (CD-K); a feature layer
``SparseEvolution``     sparse fully connected whose mask evolves (SET)
======================  =========================================================
"""

from ..core import Layer
from .activation import LogSoftmax, ReLU, ReLu, Sigmoid, Softmax
from .conv import Conv2D, Deconv2D
from .dense import FullyConnected
from .dropout import Dropout
from .linear import Linear
from .pooling import MaxPool2D
from .rbm import RBM
from .reshape import Flatten
from .sparse import SparseEvolution

__all__ = [
    "Conv2D",
    "Deconv2D",
    "Dropout",
    "Flatten",
    "FullyConnected",
    "Layer",
    "Linear",
    "LogSoftmax",
    "MaxPool2D",
    "RBM",
    "ReLU",
    "ReLu",
    "Sigmoid",
    "Softmax",
    "SparseEvolution",
]
