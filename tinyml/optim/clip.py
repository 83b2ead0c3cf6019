"""Global gradient clipping as ``torch.nn.utils.clip_grad_norm_``: one factor for all gradients,
computed on the device.

:func:`clip_grad_norm` scales the gradients in place (a loop of your own calls it between
backward and the optimizer's step); the optimizers' ``clip_norm`` option uses the same
:func:`total_norm` and :func:`clip_factor` on a scaled copy instead.
"""

import math
from collections.abc import Mapping

from ..backend import array_namespace
from ..core.params import Real, check_arguments

CLIP_EPSILON = 1e-6  # torch.nn.utils.clip_grad_norm_'s term in the denominator


def total_norm(grads, norm_type=2.0, *, xp):
    r"""The p-norm of all of `grads` taken as one vector.

    .. math::
        n_p = \Bigl(\textstyle\sum_p \sum_i |g_{p,i}|^p\Bigr)^{1/p}, \qquad
        n_\infty = \max_{p,i} |g_{p,i}|

    Parameters
    ----------
    grads : list of arrays, one namespace and device, at least one
    norm_type : Python float > 0, or ``math.inf``
    xp : the arrays' namespace

    Returns
    -------
    0-d array in the first gradient's dtype, on its device (nothing is read back).
    """
    total = None
    for grad in grads:
        if norm_type == math.inf:
            part = xp.max(xp.abs(grad))
            total = part if total is None else xp.maximum(total, part)
            continue
        # |g|^2 as g * g: the usual case, without abs or pow
        part = xp.sum(grad * grad) if norm_type == 2.0 else xp.sum(xp.abs(grad) ** norm_type)
        total = part if total is None else total + part
    if norm_type == math.inf:
        return total
    return xp.sqrt(total) if norm_type == 2.0 else total ** (1.0 / norm_type)


def clip_factor(grads, clip_norm, *, xp, norm_type=2.0, norm=None):
    r"""The factor that brings the global norm of `grads` to at most `clip_norm`.

    .. math::
        f = \min\!\left(1, \frac{c}{n + 10^{-6}}\right)

    with :math:`n` the :func:`total_norm` (L2 by default), as
    ``torch.nn.utils.clip_grad_norm_(parameters, c)`` computes it (the :math:`10^{-6}` is
    PyTorch's). Multiplying every gradient by `f` clips them; when the norm is below `c` the
    factor is exactly 1.0.

    Parameters
    ----------
    grads : list of arrays, one namespace and device
    clip_norm : Python float > 0
    xp : the arrays' namespace
    norm_type : Python float > 0, or ``math.inf``
    norm : 0-d array, optional
        The total norm, when the caller has it already.

    Returns
    -------
    0-d array in the first gradient's dtype, on its device: nothing is read back to the host,
    so a GPU step does not wait here. A NaN or inf norm gives a NaN factor (PyTorch's default,
    ``error_if_nonfinite=False``, does the same).
    """
    if norm is None:
        norm = total_norm(grads, norm_type, xp=xp)
    factor = clip_norm / (norm + CLIP_EPSILON)
    return xp.minimum(factor, xp.ones_like(factor))


#: clip_grad_norm's options, declared as a class's constructor arguments are
DECLARED_ARGUMENTS = {"max_norm": Real(above=0.0), "norm_type": Real(above=0.0, infinite=True)}


def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    r"""Scale the gradients of `parameters` in place so that their global norm is at most
    `max_norm`, and return that norm (before scaling), as
    ``torch.nn.utils.clip_grad_norm_``.

    .. math::
        n = \lVert (g_1, \ldots, g_P) \rVert_p, \qquad
        g_p \leftarrow g_p \cdot \min\!\left(1, \frac{c}{n + 10^{-6}}\right)

    Parameters
    ----------
    parameters : list of Parameters, or ``{name: Parameter}`` (``net.named_parameters()``)
        Frozen parameters (``trainable`` False) are left out of the norm and not scaled, as
        PyTorch leaves out parameters without ``requires_grad``.
    max_norm : Python float > 0
    norm_type : Python float > 0, or ``math.inf`` (the largest absolute gradient), keyword
        or third argument; 2.0 by default

    Returns
    -------
    0-d array on the gradients' device, in their dtype: the total norm. Nothing is read back
    to the host (the gradients are multiplied by a factor that stays on the device), so a GPU
    step does not wait here; ``float(norm)`` reads it when you want it. A NaN or inf norm
    makes every gradient NaN, as PyTorch's default.

    Raises
    ------
    TypeError
        For something that is not a Parameter, or a max_norm or norm_type that is not a
        number.
    ValueError
        For no trainable parameters at all, gradients on two devices, a max_norm <= 0 or a
        norm_type <= 0.

    Examples
    --------
    >>> norm = clip_grad_norm(net.parameters(), 1.0)      # doctest: +SKIP
    >>> optimizer.step(net.named_parameters())            # doctest: +SKIP
    """
    checked = check_arguments("clip_grad_norm", DECLARED_ARGUMENTS,
                              {"max_norm": max_norm, "norm_type": norm_type})
    max_norm, norm_type = checked["max_norm"], checked["norm_type"]
    chosen = _trainable(parameters)
    grads = [parameter.grad for parameter in chosen]
    xp = array_namespace(*grads, names=lambda: [f"grad of {p.name!r}" for p in chosen],
                         where="clip_grad_norm")
    norm = total_norm(grads, norm_type, xp=xp)
    factor = clip_factor(grads, max_norm, xp=xp, norm=norm)
    for parameter in chosen:
        parameter.grad *= factor  # in place: an optimizer's cached reference sees the change
    return norm


def _trainable(parameters):
    """The trainable Parameters in `parameters` (a list, or a dict's values)."""
    items = list(parameters.values() if isinstance(parameters, Mapping) else parameters) \
        if not hasattr(parameters, "trainable") else [parameters]
    for item in items:
        if not hasattr(item, "trainable") or not hasattr(item, "grad"):
            raise TypeError(f"clip_grad_norm takes Parameters (net.parameters() or "
                            f"net.named_parameters()); got {type(item).__name__}")
    chosen = [item for item in items if item.trainable]
    if not chosen:
        raise ValueError("clip_grad_norm: no trainable parameters to clip (the list is empty "
                         "or every parameter is frozen); pass net.parameters()")
    return chosen
