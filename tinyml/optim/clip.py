"""Global gradient clipping as ``torch.nn.utils.clip_grad_norm_``: one factor for all gradients,
computed on the device."""

CLIP_EPSILON = 1e-6  # torch.nn.utils.clip_grad_norm_'s term in the denominator


def clip_factor(grads, clip_norm, *, xp):
    r"""The factor that brings the global L2 norm of `grads` to at most `clip_norm`.

    .. math::
        n = \sqrt{\textstyle\sum_p \sum_i g_{p,i}^2}, \qquad
        f = \min\!\left(1, \frac{c}{n + 10^{-6}}\right)

    as ``torch.nn.utils.clip_grad_norm_(parameters, c)`` computes it (the :math:`10^{-6}` is
    PyTorch's). Multiplying every gradient by `f` clips them; when the norm is below `c` the
    factor is exactly 1.0.

    Parameters
    ----------
    grads : list of arrays, one namespace and device
    clip_norm : Python float > 0
    xp : the arrays' namespace

    Returns
    -------
    0-d array in the first gradient's dtype, on its device: nothing is read back to the host,
    so a GPU step does not wait here. A NaN or inf norm gives a NaN factor (PyTorch's default,
    ``error_if_nonfinite=False``, does the same).
    """
    total = None
    for grad in grads:
        squares = xp.sum(grad * grad)
        total = squares if total is None else total + squares
    factor = clip_norm / (xp.sqrt(total) + CLIP_EPSILON)
    return xp.minimum(factor, xp.ones_like(factor))
