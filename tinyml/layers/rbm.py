r"""RBM: a restricted Boltzmann machine with Bernoulli visible and hidden units.

It trains by contrastive divergence (:meth:`RBM.contrastive_divergence`, with
``tinyml.train.train_rbm`` as the loop) and then serves as a feature layer in a Net, whose
backward fine-tunes it like any layer.
"""

from ..backend import backend_of
from ..backend.ops import linear
from ..backend.ops.activation_math import sigmoid
from ..core import Layer, check_positive_int, shape_error
from ..core.params import Integer


class RBM(Layer):
    r"""Restricted Boltzmann machine, Bernoulli-Bernoulli (numpy-ml's ``RBM``).

    Parameters
    ----------
    name : str
    n_visible : int
        Visible units: features per sample, values in [0, 1] (binary, or probabilities such
        as grey levels).
    n_hidden : int
        Hidden units: the features it learns.
    K : int >= 1, keyword-only
        Gibbs steps per contrastive-divergence update (CD-K).

    Shape
    -----
    ``weight`` (n_hidden, n_visible) (Glorot-uniform, as numpy-ml), ``bias_visible``
    (n_visible,) and ``bias_hidden`` (n_hidden,) (zeros). ``forward``: (batch, n_visible) ->
    (batch, n_hidden).

    Notes
    -----
    The energy of a visible vector v and a hidden vector h, and the conditionals it gives
    (:math:`\sigma` the logistic function):

    .. math::
        E(v, h) = -b_v^\top v - b_h^\top h - h^\top W v, \qquad
        p(h = 1 \mid v) = \sigma(v W^\top + b_h), \qquad
        p(v = 1 \mid h) = \sigma(h W + b_v)

    **As a layer** the forward is the hidden probabilities, with the backward of a sigmoid
    over a linear map (given :math:`g = \partial L / \partial y`):

    .. math::
        y = \sigma(v W^\top + b_h), \quad \delta = g \odot y (1 - y), \quad
        \partial L/\partial W \mathrel{+}= \delta^\top v, \quad
        \partial L/\partial b_h \mathrel{+}= \textstyle\sum_{batch} \delta, \quad
        \partial L/\partial v = \delta W

    and :math:`b_v`, which the forward does not use, gets no gradient from it.

    **CD-K** (:meth:`contrastive_divergence`), following Hinton's practical guide (2010) as
    numpy-ml does: the data :math:`v_0` and every reconstruction are probabilities; every hidden
    state is a binary sample except the last, which stays a probability. With
    :math:`p^h_0 = \sigma(v_0 W^\top + b_h)`, for :math:`k = 1 \dots K`:

    .. math::
        h_{k-1} \sim \mathrm{Bernoulli}(p^h_{k-1}), \qquad
        p^v_k = \sigma(h_{k-1} W + b_v), \qquad p^h_k = \sigma(p^v_k W^\top + b_h)

    where each Bernoulli sample is ``u < p`` for one array u of :math:`U[0, 1)` draws of shape
    (batch, n_hidden) from the backend's seeded generator on the data's device: K arrays, in
    order. The positive phase :math:`(p^h_0)^\top v_0` and the negative phase
    :math:`(p^h_K)^\top p^v_K` estimate the log-likelihood's gradient; averaged over the batch
    of N, their difference is ADDED into ``grad`` with a minus sign, so that an optimizer's
    descent step ``w <- w - lr * grad`` ASCENDS the likelihood:

    .. math::
        \nabla_W \mathrel{+}= -\tfrac{1}{N}\big((p^h_0)^\top v_0 - (p^h_K)^\top p^v_K\big),
        \quad
        \nabla_{b_v} \mathrel{+}= -\tfrac{1}{N}\textstyle\sum (v_0 - p^v_K), \quad
        \nabla_{b_h} \mathrel{+}= -\tfrac{1}{N}\textstyle\sum (p^h_0 - p^h_K)

    The free energy, :math:`p(v) \propto e^{-F(v)}`, with softplus
    :math:`s(x) = \log(1 + e^x)` computed as :math:`\max(x, 0) + \log(1 + e^{-|x|})`:

    .. math:: F(v) = -v\, b_v - \textstyle\sum_j s\big((v W^\top + b_h)_j\big)

    Training one (see ``tinyml.train.train_rbm``, which is this loop over shuffled
    batches and returns each epoch's mean reconstruction error)::

        rbm = RBM("rbm", 64, 100)
        optimizer = SGD(lr=0.1, momentum=0.5)
        for epoch in range(10):
            for v in batches:                    # (batch, 64) on the RBM's backend
                rbm.zero_grad()
                error = rbm.contrastive_divergence(v)   # a 0-d device array
                optimizer.step(rbm.named_parameters())

    then ``Net([rbm.freeze(), Linear("fc", 100, 10), Softmax("softmax")])`` trains a
    classifier on its features (or without ``freeze()`` fine-tunes it through ``backward``).

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import RBM
    >>> rbm = RBM("rbm", 6, 4)
    >>> v = tinyml.asarray((np.arange(12).reshape(2, 6) % 2).astype(float))
    >>> tuple(rbm.forward(v).shape), tuple(rbm.contrastive_divergence(v).shape)
    ((2, 4), ())
    """

    declared_arguments = {"n_visible": Integer(1), "n_hidden": Integer(1), "K": Integer(1)}

    def __init__(self, name, n_visible, n_hidden, *, K=1):
        super().__init__(name, n_visible=n_visible, n_hidden=n_hidden, K=K)
        self.weight = self._new_parameter((self.n_hidden, self.n_visible), self.n_visible,
                                          self.n_hidden, "glorot_uniform")
        self.bias_visible = self._zeros_parameter((self.n_visible,))
        self.bias_hidden = self._zeros_parameter((self.n_hidden,))

    # ---------------------------------------------------------------- the layer
    def declared_input_shape(self):
        return (None, self.n_visible)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.n_visible:
            fix = "Add a Flatten before it." if len(input_shape) > 2 else ""
            raise shape_error(self, f"(batch, {self.n_visible})", input_shape, fix)
        return (input_shape[0], self.n_hidden)

    def forward(self, input):
        """p(h = 1 | v) for the visible rows `input`: (batch, n_visible) -> (batch, n_hidden)."""
        xp = self._visible_namespace(input)
        output = self._hidden_probabilities(input, xp)
        self.save_for_backward(input, output, output_shape=output.shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        xp, input, output = self.saved(in_gradient)
        delta = in_gradient * output * (1.0 - output)
        self.weight.grad += xp.matrix_transpose(delta) @ input
        self.bias_hidden.grad += xp.sum(delta, axis=0)
        return delta @ self.weight.data if input_gradient else None

    # ---------------------------------------------------------------- the Boltzmann machine
    def contrastive_divergence(self, v):
        r"""One CD-K gradient estimate from the visible batch `v` (batch, n_visible), ADDED into
        the parameters' ``grad`` so that an optimizer step ascends the likelihood (see the
        class Notes for the formulas and the random draws).

        Returns
        -------
        0-d array on `v`'s device: the reconstruction error
        :math:`\mathrm{mean}((v_0 - p^v_K)^2)` over the batch and the visible units.

        Keeps no record: it is not a forward and needs no backward.
        """
        xp = self._visible_namespace(v)
        n = v.shape[0]
        positive_hidden, visible, negative_hidden = self._gibbs(v, self.K, xp)
        positive = xp.matrix_transpose(positive_hidden) @ v
        negative = xp.matrix_transpose(negative_hidden) @ visible
        self.weight.grad += (negative - positive) / n
        self.bias_visible.grad += xp.sum(visible - v, axis=0) / n
        self.bias_hidden.grad += xp.sum(negative_hidden - positive_hidden, axis=0) / n
        return xp.mean((v - visible) ** 2)

    def reconstruct(self, v, n_steps=1):
        """The visible probabilities p^v after `n_steps` Gibbs steps from `v`, the chain of
        CD-K with K = n_steps (hidden states sampled: `n_steps` draws of shape (batch,
        n_hidden)). (batch, n_visible) -> (batch, n_visible); keeps no record."""
        n_steps = check_positive_int(self.describe(), "n_steps", n_steps)
        xp = self._visible_namespace(v)
        return self._gibbs(v, n_steps, xp, last_hidden=False)[1]

    def free_energy(self, v):
        """F(v) of each visible row: (batch, n_visible) -> (batch,). See the class Notes."""
        xp = self._visible_namespace(v)
        x = v @ xp.matrix_transpose(self.weight.data) + self.bias_hidden.data
        magnitude = xp.abs(x)
        softplus = (x + magnitude) / 2 + xp.log1p(xp.exp(-magnitude))
        return -(v @ self.bias_visible.data) - xp.sum(softplus, axis=1)

    # ---------------------------------------------------------------- helpers
    def _visible_namespace(self, v):
        xp = self._input_namespace(v)
        self.output_shape(tuple(v.shape))
        return xp

    def _hidden_probabilities(self, v, xp):
        return sigmoid(linear(v, self.weight.data, self.bias_hidden.data, xp=xp), xp)

    def _gibbs(self, v, steps, xp, last_hidden=True):
        """(p^h_0, p^v_steps, p^h_steps) of the chain in the class Notes (p^h_steps is None
        with ``last_hidden=False``)."""
        draws = backend_of(v)
        first = hidden = self._hidden_probabilities(v, xp)
        visible = None
        for step in range(steps):
            uniform = draws.uniform(hidden.shape, dtype=hidden.dtype)
            sample = xp.astype(uniform < hidden, hidden.dtype)
            visible = sigmoid(sample @ self.weight.data + self.bias_visible.data, xp)
            if last_hidden or step < steps - 1:
                hidden = self._hidden_probabilities(visible, xp)
        return first, visible, hidden if last_hidden else None
