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
``Add``                 the sum of a list of inputs, optionally activated
``Multiply``            the elementwise product of a list of inputs, optionally activated
``Concatenate``         a list of inputs joined along one axis
``Residual``            ``y = x + f(x)`` for a stack of layers f
``Parallel``            one input into several branches, merged by a merge layer
======================  =========================================================
"""

from ..core import Layer
from .activation import LogSoftmax, ReLU, ReLu, Sigmoid, Softmax
from .containers import Parallel, Residual
from .conv import Conv2D, Deconv2D
from .dropout import Dropout
from .linear import Linear
from .merge import Add, Concatenate, Multiply
from .pooling import MaxPool2D
from .reshape import Flatten

__all__ = [
    "Add",
    "Concatenate",
    "Conv2D",
    "Deconv2D",
    "Dropout",
    "Flatten",
    "Layer",
    "Linear",
    "LogSoftmax",
    "MaxPool2D",
    "Multiply",
    "Parallel",
    "ReLU",
    "ReLu",
    "Residual",
    "Sigmoid",
    "Softmax",
]
