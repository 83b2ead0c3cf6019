r"""The multi-class hinge loss of Crammer and Singer, on raw scores."""

import math

from ..backend import device_of
from ._checks import class_indices, namespace, one_hot


def hinge(predicted, ground_truth):
    r"""Multi-class hinge (Crammer-Singer): the true class must beat the best rival by 1.

    For scores :math:`s` (N, C) and classes :math:`y`, with the best rival
    :math:`r_n = \arg\max_{j \ne y_n} s_{nj}`:

    .. math::
        L = \frac{1}{N} \sum_n \max\big(0,\; 1 + s_{n r_n} - s_{n y_n}\big)

    .. math::
        \frac{\partial L}{\partial s_{nk}} = \frac{a_n}{N}\big([k = r_n] - [k = y_n]\big),
        \qquad a_n = [1 + s_{n r_n} - s_{n y_n} > 0]

    Subgradient convention: at the kink (margin exactly 0) the sample contributes 0, as ReLU
    does at 0; when rivals tie for the maximum, the first of them (lowest index) takes the
    whole :math:`+1/N`, as ``argmax`` picks it. Elsewhere this is the true gradient.

    PyTorch has no exact twin: ``multi_margin_loss`` is Weston-Watkins (the mean over every
    rival, not the best one); for two classes it is this loss halved.

    Parameters
    ----------
    predicted : array (N, C), C >= 2
        Scores (any real numbers).
    ground_truth : array (N,) of integer class indices, or (N, C) one-hot rows
        A one-hot row's class is its largest entry. Indices are not checked to lie in [0, C)
        (that needs the device to report back; ``Learner.fit`` checks them once, on the host).

    Raises
    ------
    ValueError
        `predicted` is not (N, C) with C >= 2, or the labels do not match it in shape.
    TypeError
        Class indices that are not integers, or arrays from two backends.
    """
    xp = namespace(predicted, ground_truth, "hinge")
    classes = class_indices(predicted, ground_truth, xp, "hinge")
    if predicted.shape[1] < 2:
        raise ValueError(f"hinge: needs at least 2 classes to have a rival; predicted has shape "
                         f"{tuple(predicted.shape)}")
    n = predicted.shape[0]
    true = one_hot(classes, predicted, xp)
    minus_inf = xp.full(predicted.shape, -math.inf, dtype=predicted.dtype,
                        device=device_of(predicted))
    rivals = xp.where(true > 0.5, minus_inf, predicted)
    rival = one_hot(xp.argmax(rivals, axis=1), predicted, xp)
    margin = 1.0 + xp.sum((rival - true) * predicted, axis=1, keepdims=True)
    active = xp.astype(margin > 0, predicted.dtype)
    return xp.sum(margin * active / n), (rival - true) * (active / n)
