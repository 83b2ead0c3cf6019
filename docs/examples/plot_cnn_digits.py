"""
A CNN on the digits: filters, feature maps, mistakes
====================================================

One convolution, one max pooling, one Linear. After training, ``tinyml.viz`` shows what the
convolution learned (its filters), what it sees in one digit (the feature maps), where the
classes are confused, and the digits it got wrong.
"""

import tempfile

import numpy as np

import tinyml
from tinyml import metrics, viz
from tinyml.layers import Conv2D, Flatten, Linear, MaxPool2D, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

tinyml.set_backend("numpy")
x_train, y_train, x_test, y_test = tinyml.data.load_digits()
net = tinyml.Net([Conv2D("conv", (1, 8, 8), 16, 3, 3, 1, 1), ReLU("relu"),
                  MaxPool2D("pool", (16, 8, 8), 2, 2), Flatten("flatten"),
                  Linear("fc", 16 * 4 * 4, 10), Softmax("softmax")])
learner = tinyml.Learner(net, cross_entropy, Adam(lr=3e-3), batch_size=32, seed=0)
history = learner.fit(x_train, y_train, epochs=8, validation_data=(x_test, y_test), verbose=2)

# %%
# The 16 learned 3x3 filters, each scaled to its own range.
out = tempfile.mkdtemp()
filters = viz.plot_filters(net.layers[0], f"{out}/filters.png", figsize=(5, 5))

# %%
# What the convolution's 16 channels respond to in the first test digit (after the ReLU).
maps = viz.plot_feature_maps(net, "relu", x_test[:1], f"{out}/maps.png", figsize=(5, 5))

# %%
# Rows are true classes, columns predicted ones.
predicted = np.argmax(tinyml.to_numpy(learner.predict(x_test)), axis=1)
cm = metrics.confusion_matrix(predicted, y_test, num_classes=10)
print("accuracy", metrics.accuracy(predicted, y_test))
confusion = viz.plot_confusion_matrix(cm, f"{out}/confusion.png", figsize=(5, 5))

# %%
# The test digits it got wrong, titled "true → predicted".
wrong = viz.plot_misclassified(x_test, y_test, predicted, f"{out}/wrong.png", max_images=16,
                               figsize=(5, 5))
