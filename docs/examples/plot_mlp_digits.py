"""
An MLP on the digits
====================

The smallest useful net: flatten the 8x8 images, one hidden layer, softmax. Ten epochs of
momentum SGD on scikit-learn's 1,797 handwritten digits take about a second on a laptop.
"""

import tempfile

import tinyml
from tinyml import viz
from tinyml.layers import Dropout, Flatten, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD

tinyml.set_backend("numpy")
x_train, y_train, x_test, y_test = tinyml.data.load_digits()   # (N, 1, 8, 8) images
print(f"{len(x_train)} training and {len(x_test)} test images of shape {x_train.shape[1:]}")

# %%
# A Net is a list of layers. Softmax at the end pairs with ``cross_entropy``: the training step
# fuses the two, so the gradient at the logits is the stable ``(p - y) / N``.
net = tinyml.Net([Flatten("flatten"), Linear("fc1", 64, 128), ReLU("relu"),
                  Dropout("dropout", 0.1), Linear("fc2", 128, 10), Softmax("softmax")])
net.summary()

# %%
# Train, validating on the test images after each epoch.
learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.05, momentum=0.9), batch_size=32, seed=0)
history = learner.fit(x_train, y_train, epochs=10, validation_data=(x_test, y_test), verbose=2)
print(learner.evaluate(x_test, y_test))

# %%
# The history is a dict of per-epoch lists; ``viz.plot_history`` draws it (and writes a PNG).
out = tempfile.mkdtemp()
curves = viz.plot_history(history, f"{out}/history.png", title="MLP on the digits")
