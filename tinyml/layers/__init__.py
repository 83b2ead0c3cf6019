"""The layers. Each keeps its own forward and backward pass, written in standard Array API calls.

======================  =========================================================
``Linear``              fully connected, ``y = x W^T + b``
``Conv1D``              1-D convolution over (N, C, L) sequences
``Conv2D``              2-D convolution over NCHW images
``Deconv2D``            transposed convolution
``MaxPool2D``           max pooling
``AvgPool2D``           average pooling
``Pool2D``              max or average pooling (numpy-ml's name)
``GlobalAvgPool2D``     the mean of each channel, (N, C, H, W) -> (N, C)
``MaxUnpool2D``         values back at a MaxPool2D's maxima, zeros elsewhere
``Dropout``             inverted dropout (off in eval mode)
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
from .conv1d import Conv1D
from .dropout import Dropout
from .linear import Linear
from .pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D, MaxUnpool2D, Pool2D
from .reshape import Flatten

__all__ = [
    "AvgPool2D",
    "Conv1D",
    "Conv2D",
    "Deconv2D",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "Layer",
    "Linear",
    "LogSoftmax",
    "MaxPool2D",
    "MaxUnpool2D",
    "Pool2D",
    "ReLU",
    "ReLu",
    "Sigmoid",
    "Softmax",
]
