"""
Your own layer, proven
======================

A layer is a forward, a backward and the record between them. Here is a learned per-feature
scale, ``y = x * w``, written against the Array API standard (so it runs on NumPy, CuPy,
PyTorch and array_api_strict), checked by :func:`tinyml.testing.check_layer` against a plain
NumPy reference and float64 finite differences, and trained inside a net.
"""

import numpy as np

import tinyml
from tinyml.layers import Flatten, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.testing import check_layer


@tinyml.register_layer
class Scale(tinyml.Layer):
    r"""y = x * w, one learned weight per feature.

    Forward :math:`y_{nf} = x_{nf} w_f`; backward :math:`\partial L/\partial w_f \mathrel{+}=
    \sum_n g_{nf} x_{nf}`, :math:`\partial L/\partial x_{nf} = g_{nf} w_f`.
    """

    def __init__(self, name, features):
        super().__init__(name)
        self.weight = tinyml.Parameter(tinyml.asarray(np.ones(features)))

    def forward(self, input):
        self._input_namespace(input)   # floating, and on the parameters' backend and device
        self.save_for_backward(input, output_shape=input.shape)
        return input * self.weight.data

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input = self.saved(in_gradient)   # the record of the matching forward
        self.weight.grad += xp.sum(in_gradient * input, axis=0)   # ADD, never assign
        return in_gradient * self.weight.data if input_gradient else None


# %%
# ``check_layer`` runs the whole contract: the forward against the reference, every gradient
# against central differences, float64 on the backend's device, records, eval mode.
tinyml.set_backend("numpy", dtype="float64")
x = np.random.default_rng(0).standard_normal((4, 3))
result = check_layer(Scale("scale", 3), x, reference=lambda x, params: x * params["weight"])
print("gradient of the weight:", result.gradients["weight"])

# %%
# The same class trains inside a net and is saved with it, architecture included.
tinyml.set_backend("numpy")
x_train, y_train, x_test, y_test = tinyml.data.load_digits()
net = tinyml.Net([Flatten("flatten"), Scale("scale", 64), Linear("fc1", 64, 64), ReLU("relu"),
                  Linear("fc2", 64, 10), Softmax("softmax")])
learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.05, momentum=0.9), batch_size=32, seed=0)
learner.fit(x_train, y_train, epochs=5, verbose=0)
print(learner.evaluate(x_test, y_test))
weights = tinyml.to_numpy(net.named_parameters()["scale.weight"].data)
print("learned scales of the 8 corner pixels:", np.round(weights[[0, 7, 56, 63]], 3))
