r"""Normalization: BatchNorm1D and BatchNorm2D (statistics over the batch, running averages for
evaluation), LayerNorm1D and LayerNorm2D (statistics per sample).

The four share the backend operation ``normalize``: each views its input as (A, B, S) with
one statistic per B over A and S, so every sum is a matrix product with ones and none runs
over a strided axis. The layers keep ``centered`` and ``inv_spread`` (whose product is
:math:`\hat x`) and fold the scale into the affine map, :math:`y = c\,(s \gamma) + \beta`;
the backward's means over the statistics' axes come from the two per-feature sums that the
parameters' gradients need anyway.
"""

import math

from ..backend import array_namespace, get_backend
from ..backend.ops import moment_sums, normalize
from ..core import (
    Buffer,
    Parameter,
    channels_hint,
    reshape_target,
    shape_error,
)
from ..core.inferred import InferredInput
from ..core.params import Flag, Integer, Optional, Real, Sizes
from ..distributed import current_communicator
from ._synced_statistics import synced_gradient_means, synced_moments

# epsilon keeps 1/sqrt(var + epsilon) finite; momentum is numpy-ml's (PyTorch's 0.1 is 0.9 here)
_EPSILON = Real(above=0.0)
_MOMENTUM = Real(at_least=0.0, at_most=1.0, label="momentum (the weight of the old running "
                 "value: PyTorch's momentum=0.1 is 0.9 here)")


class _Normalization(InferredInput):
    """What the four layers share: the epsilon option, the size learnt or given, and
    ``weight`` (ones) and ``bias`` (zeros) of shape (features,)."""

    declared_arguments = {"num_features": Optional(Integer(1)), "epsilon": _EPSILON}
    _inferred = "num_features"
    _rank = None  # the input's rank, batch included

    def _new_affine(self, features):
        self.weight = Parameter(_ones(get_backend(), (features,)))
        self.bias = self._zeros_parameter((features,))

    def _build_if_given(self, value):
        vars(self)[self._inferred] = None
        value = self._checked(**{self._inferred: value})[self._inferred]
        if value is not None:
            self._build(value)

    def _inferred_from(self, input_shape):
        return input_shape[1] if len(input_shape) == self._rank else None

    def declared_input_shape(self):
        return None  # any H and W (or T): only the features are fixed


class _BatchNorm(_Normalization):
    """BatchNorm1D and BatchNorm2D: a subclass says the input rank and how to spell it."""

    _rank = None  # 2 for (N, F), 4 for (N, C, H, W)
    _spelling = None  # the input shape as the error message names it, "{}" the features
    uses_batch_statistics = True  # what fit asks before it trains (see Layer)

    # sync: batch statistics over every process of a data-parallel run
    declared_arguments = {"num_features": Optional(Integer(1)), "momentum": _MOMENTUM,
                          "epsilon": _EPSILON, "sync": Flag()}

    def __init__(self, name, num_features=None, *, momentum=0.9, epsilon=1e-5, sync=False):
        super().__init__(name, momentum=momentum, epsilon=epsilon, sync=sync)
        self._build_if_given(num_features)

    def _build(self, num_features):
        self._new_affine(num_features)
        backend = get_backend()
        self.running_mean = Buffer(backend.zeros((num_features,)))
        self.running_var = Buffer(_ones(backend, (num_features,)))
        self.num_features = num_features

    def reset_running_stats(self):
        """Running mean back to zeros and running variance to ones (in their dtype and device);
        returns self."""
        for buffer, fill in ((self.running_mean, 0.0), (self.running_var, 1.0)):
            buffer.data = array_namespace(buffer.data).full_like(buffer.data, fill)
        return self

    def output_shape(self, input_shape):
        features = self._inferred_from(input_shape)
        if features is None or (self.built and features != self.num_features):
            unknown = "C" if self._rank == 4 else "F"
            spelled = self._spelling.format(self.num_features if self.built else unknown)
            raise shape_error(self, spelled, input_shape, self._fix(input_shape))
        return tuple(input_shape)

    def _fix(self, input_shape):
        return ""

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        features = self.num_features
        # (N, F, S): one statistic per feature over N and the S = H W pixels (S = 1 for 1D)
        x = xp.reshape(input, (-1, features, math.prod(input.shape[2:])))
        stat_shape = (1, features, 1)
        if not self.training:  # a fixed affine map of the running statistics
            mean = xp.reshape(self.running_mean.data, stat_shape)
            inv_std = 1.0 / xp.sqrt(xp.reshape(self.running_var.data, stat_shape) + self.epsilon)
            centered, inv_spread, record = x - mean, inv_std, (True, None)
        else:
            centered, inv_spread, inv_std, record = self._batch_statistics(x, xp)
        self.save_for_backward(centered, inv_spread, inv_std, *record, output_shape=output_shape)
        scale = inv_spread * xp.reshape(self.weight.data, stat_shape)
        output = centered * scale + xp.reshape(self.bias.data, stat_shape)
        return xp.reshape(output, reshape_target(output_shape))

    def _batch_statistics(self, x, xp):
        """(centered, inv_spread, inv_std, record) of a training batch `x` (N, F, S); the
        running statistics move; record is what backward needs to know (frozen, synced)."""
        comm = current_communicator() if self.sync else None
        if comm is not None and comm.size > 1:
            centered, inv_std, mean, var, counts = synced_moments(self, x, (0, 2), comm, xp)
            inv_spread, count, synced = inv_std, counts[1], (comm, counts)
        else:
            if x.shape[0] < 2:
                raise self._one_sample_error(x.shape[0])
            centered, inv_spread, inv_std, mean, var = normalize(x, self.epsilon, xp=xp)
            count, synced = x.shape[0] * x.shape[2], None
        self._update_running(mean, var * (count / (count - 1)), xp)
        return centered, inv_spread, inv_std, (False, synced)

    def _one_sample_error(self, n):
        size = "one sample" if n == 1 else f"{n} samples"
        return ValueError(
            f"{self.describe()}: a training batch of {size} has no batch statistics; train on "
            "batches of at least 2 samples (the last batch of an epoch holds len(x) % "
            "batch_size of them: pick another batch_size), or call eval() to normalize with "
            "the running statistics")

    def _update_running(self, mean, unbiased_var, xp):
        """running = momentum running + (1 - momentum) batch, in the buffers' own dtype."""
        keep = self.momentum
        for buffer, batch in ((self.running_mean, mean), (self.running_var, unbiased_var)):
            batch = xp.astype(xp.reshape(batch, (self.num_features,)), buffer.data.dtype,
                              copy=False)
            buffer.data = keep * buffer.data + (1.0 - keep) * batch

    def backward(self, in_gradient, *, input_gradient=True):
        xp, centered, inv_spread, inv_std, frozen, synced = self.saved(in_gradient)
        n, features, pixels = centered.shape
        g = xp.reshape(in_gradient, centered.shape)
        # x_hat = centered * inv_spread, whose factor per feature leaves the sum over N and S
        bias_grad = moment_sums(g, xp=xp)
        weight_grad = moment_sums(g * centered, xp=xp) * xp.reshape(inv_spread, (features,))
        self.bias.grad += bias_grad
        self.weight.grad += weight_grad
        if not input_gradient:
            return None
        stat_shape = (1, features, 1)
        scale = xp.reshape(self.weight.data, stat_shape) * inv_std  # gamma / sqrt(var + eps)
        if frozen:  # eval mode: the statistics are constants, dx = gamma g / sqrt(var + eps)
            return xp.reshape(g * scale, in_gradient.shape)
        # dx = scale (g - mean(g) - x_hat mean(g x_hat)), the two means over N and S being
        # bias_grad / m and weight_grad / m: the sums already done above.
        count = n * pixels
        bias_mean, weight_mean = (bias_grad / count, weight_grad / count) if synced is None \
            else synced_gradient_means(bias_grad, weight_grad, synced[1], synced[0])
        slope = scale * inv_spread * xp.reshape(weight_mean, stat_shape)
        offset = scale * xp.reshape(bias_mean, stat_shape)
        return xp.reshape(g * scale - (centered * slope + offset), in_gradient.shape)


_BATCH_NORM_NOTES = r"""
    Notes
    -----
    Training, with statistics per feature over the :math:`m` values of the batch (every axis
    but the feature one):

    .. math::
        \mu = \frac1m \sum x, \quad \sigma^2 = \frac1m \sum (x - \mu)^2, \quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \hat x + \beta

    and the running statistics move towards the batch's, with the unbiased variance as in
    PyTorch (so running buffers and weights exchange with it):

    .. math::
        r_\mu \leftarrow \rho\, r_\mu + (1 - \rho)\, \mu, \qquad
        r_{\sigma^2} \leftarrow \rho\, r_{\sigma^2} + (1 - \rho)\, \tfrac{m}{m - 1}\, \sigma^2

    with :math:`\rho` = ``momentum`` (numpy-ml's convention; PyTorch's ``momentum`` is
    :math:`1 - \rho`). They move in every training-mode forward, inside ``tinyml.no_grad()``
    too (as PyTorch), and never in eval mode. Backward, given :math:`g = \partial L/\partial y`
    and the full dependence of :math:`\mu` and :math:`\sigma^2` on every x of the batch:

    .. math::
        \partial L/\partial \beta \mathrel{+}= \sum g, \qquad
        \partial L/\partial \gamma \mathrel{+}= \sum g \hat x, \qquad
        \partial L/\partial x = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}} \Big(g -
        \frac1m \sum g - \hat x\, \frac1m \sum g \hat x\Big)

    Eval mode normalizes with the running statistics instead, a fixed affine map of x:
    :math:`y = \gamma (x - r_\mu) / \sqrt{r_{\sigma^2} + \epsilon} + \beta`, whose backward
    treats the statistics as constants (fine-tuning with frozen statistics):
    :math:`\partial L/\partial x = \gamma g / \sqrt{r_{\sigma^2} + \epsilon}`, and the same
    :math:`\beta` and :math:`\gamma` gradients with this :math:`\hat x`.

    ``sync=True`` computes the training statistics over the batch of EVERY process of a
    data-parallel run (``Learner(..., distributed=comm)``; any loop inside
    ``tinyml.distributed.use_communicator(comm)``): :math:`\mu`, :math:`\sigma^2` and the
    two means of the backward are all-reduced (:mod:`tinyml.layers._synced_statistics`), so
    the run equals one process on the whole batch. By default (and with one process) the
    statistics are each process's own batch's, as PyTorch's BatchNorm without SyncBatchNorm.

    A training batch of one sample has no statistics to speak of (and PyTorch's unbiased
    variance divides by zero): it raises ValueError, here for images too, where PyTorch would
    use the pixels of the one image.

    Raises
    ------
    TypeError
        A non-integer num_features, a non-real momentum or epsilon, a sync that is not a
        bool, non-floating input.
    ValueError
        num_features < 1, momentum outside [0, 1], epsilon not positive and finite, input of
        another shape, a training batch of one sample.
"""


class BatchNorm1D(_BatchNorm):
    __doc__ = r"""Batch normalization of (N, F) features, with running statistics for eval.

    Parameters
    ----------
    name : str
    num_features : int, optional
        F; leave it out to take it from the net.
    momentum : float in [0, 1], keyword-only
        The weight of the old running value in each update (0.9; PyTorch's 0.1).
    epsilon : float > 0, keyword-only
        Added to the variance.
    sync : bool, keyword-only
        True: training statistics over every process of a data-parallel run (see Notes).

    Shape
    -----
    input (N, F) -> output (N, F). ``weight`` (ones) and ``bias`` (zeros) are (F,), buffers
    ``running_mean`` (zeros) and ``running_var`` (ones) too, as PyTorch's ``BatchNorm1d(F)``.
    """ + _BATCH_NORM_NOTES

    _rank = 2
    _spelling = "(batch, {})"

    def _fix(self, input_shape):
        return "Images take BatchNorm2D." if len(input_shape) == 4 else ""

    def declared_input_shape(self):
        return (None, self.num_features) if self.built else None


class BatchNorm2D(_BatchNorm):
    __doc__ = r"""Batch normalization of (N, C, H, W) images per channel, with running
    statistics for eval.

    Parameters
    ----------
    name : str
    num_features : int, optional
        C, the channels; leave it out to take it from the net.
    momentum : float in [0, 1], keyword-only
        The weight of the old running value in each update (0.9; PyTorch's 0.1).
    epsilon : float > 0, keyword-only
        Added to the variance.
    sync : bool, keyword-only
        True: training statistics over every process of a data-parallel run (see Notes).

    Shape
    -----
    input (N, C, H, W), any H and W -> output of the same shape; the statistics of a channel
    are over N, H and W (m = N H W). ``weight`` (ones), ``bias`` (zeros) and the buffers
    ``running_mean`` (zeros) and ``running_var`` (ones) are (C,), as PyTorch's
    ``BatchNorm2d(C)``.
    """ + _BATCH_NORM_NOTES

    _rank = 4
    _spelling = "(batch, {}, H, W)"

    def _fix(self, input_shape):
        return "Feature vectors take BatchNorm1D." if len(input_shape) == 2 else ""


class LayerNorm1D(_Normalization):
    r"""Layer normalization over the features (the last axis) of (N, F) or (N, T, F).

    Parameters
    ----------
    name : str
    num_features : int, optional
        F; leave it out to take it from the net.
    epsilon : float > 0, keyword-only
        Added to the variance.

    Shape
    -----
    input (N, F) or (N, T, F) -> output of the same shape. ``weight`` (ones) and ``bias``
    (zeros) are (F,), as PyTorch's ``LayerNorm(F)``. Each sample (each time step) is
    normalized alone, so training and eval compute the same and a batch of one is fine.

    Notes
    -----
    With the mean and biased variance over the F features of each row:

    .. math::
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma \odot \hat x + \beta

    Backward, given :math:`g = \partial L/\partial y` and :math:`\hat g = \gamma \odot g`, with
    means over the features of a row:

    .. math::
        \partial L/\partial \beta \mathrel{+}= \sum_{rows} g, \qquad
        \partial L/\partial \gamma \mathrel{+}= \sum_{rows} g \odot \hat x, \qquad
        \partial L/\partial x = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
        \big(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \odot \hat x}\big)

    Raises
    ------
    TypeError
        A non-integer num_features, a non-real epsilon, non-floating input.
    ValueError
        num_features < 1, epsilon not positive and finite, input of another shape.
    """

    def __init__(self, name, num_features=None, *, epsilon=1e-5):
        super().__init__(name, epsilon=epsilon)
        self._build_if_given(num_features)

    def _build(self, num_features):
        self._new_affine(num_features)
        self.num_features = num_features

    def _inferred_from(self, input_shape):
        return input_shape[-1] if len(input_shape) in (2, 3) else None

    def output_shape(self, input_shape):
        features = self._inferred_from(input_shape)
        if features is None or (self.built and features != self.num_features):
            f = self.num_features if self.built else "F"
            fix = "Images take LayerNorm2D." if len(input_shape) == 4 else ""
            raise shape_error(self, f"(batch, {f}) or (batch, T, {f})", input_shape, fix)
        return tuple(input_shape)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        rows = xp.reshape(input, (1, -1, self.num_features))  # one statistic per row
        moments = normalize(rows, self.epsilon, statistics=False, xp=xp)
        x_hat = moments.centered * moments.inv_spread
        self.save_for_backward(x_hat, moments.inv_std, output_shape=output_shape)
        output = x_hat * self.weight.data + self.bias.data
        return xp.reshape(output, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, x_hat, inv_std = self.saved(in_gradient)
        features = self.num_features
        g = xp.reshape(in_gradient, (-1, features))
        x_hat = xp.reshape(x_hat, g.shape)
        g_x_hat = g * x_hat
        # over the rows of a contiguous (rows, F): NumPy adds whole rows, no strided reduction
        self.bias.grad += xp.sum(g, axis=0)
        self.weight.grad += xp.sum(g_x_hat, axis=0)
        if not input_gradient:
            return None
        # with g_hat = weight g, the row means of g_hat and g_hat x_hat are products with weight
        weight = xp.astype(self.weight.data, g.dtype, copy=False)
        mean_g_hat = xp.reshape(g @ weight, (-1, 1)) / features
        mean_g_hat_x_hat = xp.reshape(g_x_hat @ weight, (-1, 1)) / features
        grad = (g * weight - (x_hat * mean_g_hat_x_hat + mean_g_hat)) * \
            xp.reshape(inv_std, (-1, 1))
        return xp.reshape(grad, in_gradient.shape)


class LayerNorm2D(_Normalization):
    r"""Layer normalization of each (C, H, W) image as a whole, with a scale and shift per
    channel (PyTorch's ``group_norm`` with one group).

    Parameters
    ----------
    name : str
    input_dim : (C, H, W), optional
        Leave it out to take it from the net: ``LayerNorm2D("norm")``.
    epsilon : float > 0, keyword-only
        Added to the variance.

    Shape
    -----
    input (N, C, H, W) -> output of the same shape. ``weight`` (ones) and ``bias`` (zeros) are
    (C,), as ``torch.nn.GroupNorm(1, C)``. Each sample is normalized alone, so training and
    eval compute the same and a batch of one is fine.

    Notes
    -----
    With the mean and biased variance of each sample over its m = C H W values:

    .. math::
        \hat x_{n,c,h,w} = \frac{x_{n,c,h,w} - \mu_n}{\sqrt{\sigma_n^2 + \epsilon}}, \qquad
        y_{n,c,h,w} = \gamma_c \hat x_{n,c,h,w} + \beta_c

    Backward, given :math:`g = \partial L/\partial y` and :math:`\hat g = \gamma_c g`, with
    means over the C, H and W of a sample:

    .. math::
        \partial L/\partial \beta_c \mathrel{+}= \sum_{n,h,w} g, \qquad
        \partial L/\partial \gamma_c \mathrel{+}= \sum_{n,h,w} g \hat x, \qquad
        \partial L/\partial x = \frac{1}{\sqrt{\sigma_n^2 + \epsilon}}
        \big(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \hat x}\big)

    Raises
    ------
    TypeError
        input_dim not three ints, a non-real epsilon, non-floating input.
    ValueError
        an extent of input_dim < 1, epsilon not positive and finite, input of another shape.
    """

    _inferred = "input_dim"
    declared_arguments = {"input_dim": Optional(Sizes(3)), "epsilon": _EPSILON}

    def __init__(self, name, input_dim=None, *, epsilon=1e-5):
        super().__init__(name, epsilon=epsilon)
        self.input_dim = None
        input_dim = self._checked(input_dim=input_dim)["input_dim"]
        if input_dim is not None:
            self._build(input_dim)

    def _build(self, input_dim):
        self._new_affine(input_dim[0])
        self.input_dim = input_dim

    def _inferred_from(self, input_shape):
        return tuple(input_shape[1:]) if len(input_shape) == 4 else None

    def declared_input_shape(self):
        return (None, *self.input_dim) if self.built else None

    def output_shape(self, input_shape):
        dims = self._inferred_from(input_shape)
        if dims is None or (self.built and dims != self.input_dim):
            expected = ("(batch, C, H, W)" if not self.built else
                        f"(batch, {', '.join(map(str, self.input_dim))})")
            raise shape_error(self, expected, input_shape,
                              channels_hint("input_dim", self.input_dim, input_shape))
        return tuple(input_shape)

    def forward(self, input):
        xp = self._input_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        channels, height, width = self.input_dim
        samples = xp.reshape(input, (1, -1, channels * height * width))  # one per sample
        moments = normalize(samples, self.epsilon, statistics=False, xp=xp)
        # kept per sample and channel (N, C, H W): the weight and bias are per channel
        centered = xp.reshape(moments.centered, (-1, channels, height * width))
        inv_spread = xp.reshape(moments.inv_spread, (-1, 1, 1))
        inv_std = xp.reshape(moments.inv_std, (-1, 1, 1))
        self.save_for_backward(centered, inv_spread, inv_std, output_shape=output_shape)
        output = centered * (inv_spread * self._per_channel(self.weight.data, xp)) + \
            self._per_channel(self.bias.data, xp)
        return xp.reshape(output, reshape_target(output_shape))

    def backward(self, in_gradient, *, input_gradient=True):
        xp, centered, inv_spread, inv_std = self.saved(in_gradient)
        samples, channels, pixels = centered.shape
        g = xp.reshape(in_gradient, centered.shape)
        # sums over each map (n, c) of g and of g x_hat (x_hat = centered * inv_spread)
        maps = (1, samples * channels, pixels)
        g_sums = xp.reshape(moment_sums(xp.reshape(g, maps), xp=xp), (samples, channels))
        g_x_hat_sums = xp.reshape(moment_sums(xp.reshape(g * centered, maps), xp=xp),
                                  (samples, channels)) * xp.reshape(inv_spread, (samples, 1))
        self.bias.grad += moment_sums(xp.reshape(g_sums, (samples, channels, 1)), xp=xp)
        self.weight.grad += moment_sums(xp.reshape(g_x_hat_sums, (samples, channels, 1)), xp=xp)
        if not input_gradient:
            return None
        # with g_hat = weight_c g, the means of g_hat and g_hat x_hat over a sample
        weight = xp.astype(self.weight.data, g.dtype, copy=False)
        count = channels * pixels
        mean_g_hat = xp.reshape(g_sums @ weight, (samples, 1, 1)) / count
        mean_g_hat_x_hat = xp.reshape(g_x_hat_sums @ weight, (samples, 1, 1)) / count
        scale = inv_std * self._per_channel(weight, xp)  # (N, C, 1)
        slope = inv_std * inv_spread * mean_g_hat_x_hat
        grad = g * scale - (centered * slope + inv_std * mean_g_hat)
        return xp.reshape(grad, in_gradient.shape)

    def _per_channel(self, values, xp):
        return xp.reshape(values, (self.input_dim[0], 1))


def _ones(backend, shape):
    return backend.ones(shape)
