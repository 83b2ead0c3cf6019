"""
A residual net
==============

``Residual("block", [...])`` computes ``x + f(x)`` for a stack of layers ``f``; its backward
adds the identity's gradient to the stack's. Nets nest, so a block is a layer like any other,
and its parameters are keyed ``block.conv.weight`` as in PyTorch.
"""

import tempfile

import tinyml
from tinyml import viz
from tinyml.layers import (
    BatchNorm2D,
    Conv2D,
    Flatten,
    GlobalAvgPool2D,
    Linear,
    ReLU,
    Residual,
    Softmax,
)
from tinyml.losses import cross_entropy
from tinyml.optim import AdamW

tinyml.set_backend("numpy")
x_train, y_train, x_test, y_test = tinyml.data.load_digits()


def block(name):
    return Residual(name, [Conv2D("conv", (8, 8, 8), 8, 3, 3, 1, 1), BatchNorm2D("bn", 8),
                           ReLU("relu")])


net = tinyml.Net([Conv2D("stem", (1, 8, 8), 8, 3, 3, 1, 1), ReLU("relu"), block("block1"),
                  block("block2"), GlobalAvgPool2D("gap"), Flatten("flatten"),
                  Linear("fc", 8, 10), Softmax("softmax")])
net.summary()
print(list(net.state_dict())[2:6])

# %%
learner = tinyml.Learner(net, cross_entropy, AdamW(lr=1e-2, weight_decay=1e-4), batch_size=32,
                         seed=0)
history = learner.fit(x_train, y_train, epochs=8, validation_data=(x_test, y_test), verbose=2)
curves = viz.plot_history(history, f"{tempfile.mkdtemp()}/history.png",
                          title="two residual blocks")
