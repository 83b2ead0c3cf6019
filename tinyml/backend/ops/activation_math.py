r"""The activations' stable math, as functions of arrays in standard calls: each formula in a
form that does not overflow for any finite input. The activation operation
(:mod:`~tinyml.backend.ops.activations`), the losses on logits and the RBM compute with these;
erf and erfc, behind the exact GELU, are in :mod:`~tinyml.backend.ops.erf`.
"""


def sigmoid(x, xp):
    r"""The logistic function, without overflow for any finite `x`.

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}}

    With :math:`e = e^{-|x|} \in (0, 1]` both forms are taken where they cannot overflow:
    :math:`1/(1 + e)` for :math:`x \ge 0` and :math:`e/(1 + e)` for :math:`x < 0`.
    """
    e = xp.exp(-xp.abs(x))
    positive = xp.astype(x >= 0, x.dtype)  # a mask multiply: no inf meets the zero branch
    return (positive + (1.0 - positive) * e) / (1.0 + e)


def sigmoid_slope(z, xp):
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = e/(1 + e)^2` with :math:`e = e^{-|z|}`:
    accurate in both tails (no :math:`1 - \sigma` cancellation) and finite for any `z`."""
    e = xp.exp(-xp.abs(z))
    return e / ((1.0 + e) * (1.0 + e))


def softplus(x, xp):
    r""":math:`\log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})`, finite for all finite `x`."""
    return xp.clip(x, min=0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def elu(x, alpha, xp):
    r""":math:`x` for :math:`x > 0`, :math:`\alpha(e^{x} - 1)` otherwise: ``expm1`` of
    :math:`\min(x, 0)`, so large positive `x` never reach the exponential."""
    return xp.clip(x, min=0.0) + alpha * xp.expm1(xp.clip(x, max=0.0))


def elu_slope(x, alpha, xp):
    r""":math:`1` for :math:`x > 0`, :math:`\alpha e^{x}` for :math:`x \le 0` (PyTorch's value
    :math:`\alpha` at 0)."""
    positive = xp.astype(x > 0, x.dtype)
    return positive + (1.0 - positive) * (alpha * xp.exp(xp.clip(x, max=0.0)))
