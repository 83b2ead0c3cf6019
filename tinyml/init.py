r"""Weight initialisers, drawn from the backend's seeded generator on its device.

Each is ``init(shape, fan_in, fan_out, backend=None)`` and returns an array of `shape` in the
backend's dtype on its device (the current backend when `backend` is None); a layer takes one
by name (``Linear("fc", 5, 4, init="orthogonal")``) or any function of that form.

========================  =====================================================================
``glorot_uniform``        U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
``glorot_normal``         N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
``he_uniform``            U(-a, a),  a = sqrt(6 / fan_in)
``he_normal``             N(0, s^2), s = sqrt(2 / fan_in)
``lecun_normal``          N(0, s^2), s = sqrt(1 / fan_in)  (for SELU)
``std_normal``            N(0, 1)
``trunc_normal``          N(0, s^2) cut at +-2s, s = sqrt(2 / (fan_in + fan_out)); its variance
                          is s^2 (1 - 4 phi(2) / (2 Phi(2) - 1)) = 0.7737 s^2
``orthogonal``            Q of the QR decomposition of an N(0, 1) matrix, signs fixed
``zeros``                 0
``ones``                  1
========================  =====================================================================

Glorot (Xavier) keeps the variance of activations and gradients equal across a linear layer;
He doubles it to make up for the half that a ReLU zeroes; LeCun's keeps it for SELU. The
truncated normal is the Glorot normal with its tails (beyond two of its standard deviations)
drawn again, so no weight starts far out. The orthogonal initialiser is PyTorch's
``orthogonal_`` (gain 1): a weight of shape (rows, ...) is a (rows, cols) matrix, cols the
product of the other extents, whose rows (rows <= cols) or columns (rows >= cols) are
orthonormal.
"""

import math
import numbers

from .backend import get_backend


def glorot_uniform(shape, fan_in, fan_out, backend=None):
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / _fan_sum("glorot_uniform", fan_in, fan_out))
    return (backend or get_backend()).uniform(shape, -limit, limit)


def glorot_normal(shape, fan_in, fan_out, backend=None):
    """N(0, s^2) with s = sqrt(2 / (fan_in + fan_out))."""
    std = math.sqrt(2.0 / _fan_sum("glorot_normal", fan_in, fan_out))
    return (backend or get_backend()).normal(shape, 0.0, std)


def he_uniform(shape, fan_in, fan_out, backend=None):
    """U(-a, a) with a = sqrt(6 / fan_in)."""
    limit = math.sqrt(6.0 / _fan("he_uniform", fan_in))
    return (backend or get_backend()).uniform(shape, -limit, limit)


def he_normal(shape, fan_in, fan_out, backend=None):
    """N(0, s^2) with s = sqrt(2 / fan_in)."""
    std = math.sqrt(2.0 / _fan("he_normal", fan_in))
    return (backend or get_backend()).normal(shape, 0.0, std)


def lecun_normal(shape, fan_in, fan_out, backend=None):
    """N(0, s^2) with s = sqrt(1 / fan_in): SELU's self-normalizing start."""
    std = math.sqrt(1.0 / _fan("lecun_normal", fan_in))
    return (backend or get_backend()).normal(shape, 0.0, std)


def std_normal(shape, fan_in, fan_out, backend=None):
    """N(0, 1), whatever the fans."""
    return (backend or get_backend()).normal(shape, 0.0, 1.0)


def trunc_normal(shape, fan_in, fan_out, backend=None):
    r"""N(0, s^2) with s = sqrt(2 / (fan_in + fan_out)), truncated to [-2s, 2s].

    Each value outside is drawn again (on the device, whole arrays at a time, until none is
    left), so the result is exactly the truncated normal, never clipped:
    ``torch.nn.init.trunc_normal_(w, std=s, a=-2 * s, b=2 * s)``. With :math:`\phi, \Phi` the
    standard normal density and CDF, its mean is 0 and its variance

    .. math:: s^2 \left(1 - \frac{4 \phi(2)}{2 \Phi(2) - 1}\right) \approx 0.7737\, s^2 .
    """
    backend = backend or get_backend()
    std = math.sqrt(2.0 / _fan_sum("trunc_normal", fan_in, fan_out))
    xp = backend.xp
    draws = backend.normal(shape)
    outside = xp.abs(draws) > 2.0
    while bool(xp.any(outside)):  # about 5 rounds for a million weights; one sync each
        draws = xp.where(outside, backend.normal(shape), draws)
        outside = xp.abs(draws) > 2.0
    return draws * std


def orthogonal(shape, fan_in, fan_out, backend=None):
    r"""A (semi-)orthogonal matrix, as ``torch.nn.init.orthogonal_`` with gain 1.

    The weight is viewed as a matrix of rows = ``shape[0]`` and cols = the product of the
    other extents. With :math:`G` a (rows, cols) matrix of N(0, 1) draws, transposed when
    rows < cols, and :math:`G = QR` its reduced QR decomposition,

    .. math:: W = Q \operatorname{diag}(\operatorname{sign} R_{ii})

    (transposed back when rows < cols): the sign fix makes :math:`R`'s diagonal positive, so
    :math:`W` is uniformly (Haar) distributed. Then :math:`W W^\top = I` when rows <= cols and
    :math:`W^\top W = I` when rows >= cols.

    Raises ValueError for a shape of fewer than 2 dimensions (a bias: use ``zeros``).
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal initialization needs a weight of 2 or more dimensions; "
                         f"got shape {shape}. Biases start at zeros.")
    backend = backend or get_backend()
    xp = backend.xp
    rows, cols = shape[0], math.prod(shape[1:])
    if rows * cols == 0:
        return backend.zeros(shape)
    matrix = backend.normal((rows, cols))
    if rows < cols:
        matrix = matrix.T
    q, r = xp.linalg.qr(matrix)
    positive = xp.astype(xp.linalg.diagonal(r) >= 0, q.dtype)  # sign(R_ii), never 0
    q = q * (2.0 * positive - 1.0)
    if rows < cols:
        q = q.T
    return xp.reshape(q, shape)


def zeros(shape, fan_in, fan_out, backend=None):
    """All 0."""
    return (backend or get_backend()).zeros(shape)


def ones(shape, fan_in, fan_out, backend=None):
    """All 1."""
    return (backend or get_backend()).ones(tuple(shape))


INITIALIZERS = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_normal": lecun_normal,
    "std_normal": std_normal,
    "trunc_normal": trunc_normal,
    "orthogonal": orthogonal,
    "zeros": zeros,
    "ones": ones,
}


def get_initializer(init):
    """The initialiser called `init`, or `init` itself when it is callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown initializer {init!r}; choose one of {', '.join(INITIALIZERS)} "
            "or pass a function (shape, fan_in, fan_out) -> array"
        ) from None


def _fan_sum(name, fan_in, fan_out):
    return _fan(name, fan_in) + _fan(name, fan_out, "fan_out")


def _fan(name, value, argument="fan_in"):
    """`value` as a positive number, or an error naming the initialiser and the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {argument} must be a positive number; got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name}: {argument} must be positive (the number of inputs or "
                         f"outputs each weight connects); got {value}")
    return value
