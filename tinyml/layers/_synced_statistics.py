r"""Batch statistics over every process of a data-parallel run, for ``BatchNorm(sync=True)``.

Process r holds :math:`m_r` of the batch's :math:`M = \sum_r m_r` values per feature. The
forward needs the batch's mean and (biased) variance, summed in two passes as one process
sums them:

.. math::
    \mu = \frac1M \sum_r \sum_{i \in r} x_i, \qquad
    \sigma^2 = \frac1M \sum_r \sum_{i \in r} (x_i - \mu)^2

The backward needs the batch means of :math:`g` and :math:`g \hat x`. Each process's
upstream gradient :math:`g^{(r)}` is that of ITS loss, the mean over its share; the global
loss is :math:`\sum_r (m_r / M) L_r`, and the Learner averages gradients with those weights
(``allreduce_mean(weight=samples)``). So the global means are
:math:`\bar g = \frac1M \sum_r \frac{m_r}{M} \sum_{i \in r} g^{(r)}_i` in global units,
and this process, which works in units of its own loss (a factor :math:`M / m_r`), uses

.. math::
    \bar g^{(r)} = \frac{1}{m_r} \sum_{r'} \frac{m_{r'}}{M} \sum_{i \in r'} g^{(r')}_i

(and the same for :math:`g \hat x`): with equal shares, the plain mean over the whole batch
of every process's gradient. The parameters' gradients stay local sums; the Learner's
average makes them global.
"""

import math


def synced_moments(layer, x, axes, comm, xp):
    """(centered, inv_std, mean, var, counts) of `x` with the statistics of the batch over
    every process of `comm` (x_hat = centered * inv_std); counts = (this process's values per
    feature, every process's)."""
    local = math.prod(x.shape[axis] for axis in axes)
    rows, count = (int(v) for v in comm.sum_values([x.shape[0], local]))
    if rows < 2:
        raise layer._one_sample_error(rows)
    (sums,) = comm.allreduce_sum([xp.sum(x, axis=axes, keepdims=True)])
    mean = sums / count
    centered = x - mean
    (squares,) = comm.allreduce_sum([xp.sum(centered * centered, axis=axes, keepdims=True)])
    var = squares / count
    inv_std = 1.0 / xp.sqrt(var + layer.epsilon)
    return centered, inv_std, mean, var, (local, count)


def synced_gradient_means(bias_grad, weight_grad, counts, comm):
    """The means of g and of g x_hat over every process's batch, in this process's units (see
    the module docstring), from this process's sums of them; one collective."""
    local, count = counts
    share = local / count
    summed = comm.allreduce_sum([bias_grad * share, weight_grad * share])
    return summed[0] / local, summed[1] / local
