r"""Losses on real-valued targets, each the mean over every element (PyTorch's default).

Targets must have the prediction's exact shape: no broadcasting, since a (N,) target against
(N, 1) predictions is a bug more often than a wish.
"""

from ..core.params import Real
from ._checks import count_of, namespace, same_shape_targets
from ._configurable import configurable


def _difference(predicted, ground_truth, who):
    """(xp, p - t, M): the namespace, the difference and the element count, after checks."""
    xp = namespace(predicted, ground_truth, who)
    targets = same_shape_targets(predicted, ground_truth, xp, who)
    return xp, predicted - targets, count_of(predicted.shape)


def mse(predicted, ground_truth):
    r"""Mean squared error over every element.

    .. math::
        L = \frac{1}{M} \sum_i (p_i - t_i)^2, \qquad
        \frac{\partial L}{\partial p_i} = \frac{2 (p_i - t_i)}{M}

    where M is the number of elements (so L is also the batch mean of per-sample means).

    Raises
    ------
    ValueError
        The shapes differ.
    TypeError
        `predicted` is not floating point, targets that are not real numbers, or arrays from
        two backends.
    """
    xp, difference, count = _difference(predicted, ground_truth, "mse")
    return xp.sum(difference * difference / count), difference * (2.0 / count)


def mae(predicted, ground_truth):
    r"""Mean absolute error over every element (PyTorch's ``l1_loss``).

    .. math::
        L = \frac{1}{M} \sum_i |p_i - t_i|, \qquad
        \frac{\partial L}{\partial p_i} = \frac{\operatorname{sign}(p_i - t_i)}{M}

    with the subgradient 0 where :math:`p_i = t_i`, as PyTorch.

    Raises
    ------
    ValueError, TypeError
        As :func:`mse`.
    """
    xp, difference, count = _difference(predicted, ground_truth, "mae")
    return xp.sum(xp.abs(difference) / count), xp.sign(difference) / count


def _clipped_quadratic(xp, difference, count, delta, scale):
    r"""(loss, gradient) of :math:`\frac{s}{M}\sum_i h_\delta(d_i)` with the Huber function
    :math:`h_\delta`, computed as :math:`\frac12 c^2 + \delta(|d| - |c|)` with
    :math:`c = \mathrm{clip}(d, -\delta, \delta)`: no branch, and :math:`h'_\delta(d) = c`."""
    clipped = xp.clip(difference, min=-delta, max=delta)
    pointwise = 0.5 * clipped * clipped + delta * (xp.abs(difference) - xp.abs(clipped))
    factor = scale / count
    return xp.sum(pointwise * factor), clipped * factor


@configurable({"delta": Real(above=0.0)})
def huber(predicted, ground_truth, *, delta=1.0):
    r"""Huber loss: quadratic within `delta` of the target, linear (slope `delta`) beyond.

    With :math:`d_i = p_i - t_i` over the M elements, as PyTorch's ``huber_loss``:

    .. math::
        L = \frac{1}{M} \sum_i
            \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
                          \delta \big(|d_i| - \tfrac12 \delta\big) & \text{otherwise}
            \end{cases}
        \qquad
        \frac{\partial L}{\partial p_i} = \frac{\mathrm{clip}(d_i, -\delta, \delta)}{M}

    ``huber(delta=2.0)`` is the configured loss. ``huber`` equals ``delta`` times
    :func:`smooth_l1` with ``beta=delta``; the two agree at the default 1.

    Raises
    ------
    ValueError
        The shapes differ; delta not > 0.
    TypeError
        As :func:`mse`, or a delta that is not a real number.
    """
    xp, difference, count = _difference(predicted, ground_truth, "huber")
    return _clipped_quadratic(xp, difference, count, delta, 1.0)


@configurable({"beta": Real(at_least=0.0)})
def smooth_l1(predicted, ground_truth, *, beta=1.0):
    r"""Smooth L1 loss: quadratic within `beta` of the target, slope 1 beyond (PyTorch's
    ``smooth_l1_loss``).

    With :math:`d_i = p_i - t_i` over the M elements:

    .. math::
        L = \frac{1}{M} \sum_i
            \begin{cases} \tfrac{1}{2\beta} d_i^2 & |d_i| < \beta \\
                          |d_i| - \tfrac12 \beta & \text{otherwise}
            \end{cases}
        \qquad
        \frac{\partial L}{\partial p_i} = \frac{\mathrm{clip}(d_i / \beta, -1, 1)}{M}

    which is ``huber(delta=beta)`` divided by beta. ``beta=0`` is :func:`mae`, as PyTorch.

    Raises
    ------
    ValueError
        The shapes differ; beta < 0.
    TypeError
        As :func:`mse`, or a beta that is not a real number.
    """
    xp, difference, count = _difference(predicted, ground_truth, "smooth_l1")
    if beta == 0.0:
        return xp.sum(xp.abs(difference) / count), xp.sign(difference) / count
    return _clipped_quadratic(xp, difference, count, beta, 1.0 / beta)
