"""The layers. Each keeps its own forward and backward pass, written in standard Array API calls.

======================  =========================================================
``Linear``              fully connected, ``y = x W^T + b``
``Conv2D``              2-D convolution over NCHW images
``Deconv2D``            transposed convolution
``MaxPool2D``           max pooling
``Dropout``             inverted dropout (off in eval mode)
``BatchNorm1D``         batch norm of (N, F); running statistics in eval mode
``BatchNorm2D``         batch norm of (N, C, H, W) images, per channel
``LayerNorm1D``         layer norm over the last axis of (N, F) or (N, T, F)
``LayerNorm2D``         layer norm of each (C, H, W) sample (group norm, 1 group)
``Flatten``             (batch, ...) -> (batch, features)
``ReLu`` / ``ReLU``     rectified linear unit
``Sigmoid``             the logistic function, stable for large ``|x|``
``Softmax``             softmax with its true backward
``LogSoftmax``          log-softmax (pairs with the ``nll`` loss)
======================  =========================================================
"""

from ..core import Layer
from .activation import LogSoftmax, ReLU, ReLu, Sigmoid, Softmax
from .conv import Conv2D, Deconv2D
from .dropout import Dropout
from .linear import Linear
from .normalization import BatchNorm1D, BatchNorm2D, LayerNorm1D, LayerNorm2D
from .pooling import MaxPool2D
from .reshape import Flatten

__all__ = [
    "BatchNorm1D",
    "BatchNorm2D",
    "Conv2D",
    "Deconv2D",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerNorm1D",
    "LayerNorm2D",
    "Linear",
    "LogSoftmax",
    "MaxPool2D",
    "ReLU",
    "ReLu",
    "Sigmoid",
    "Softmax",
]
