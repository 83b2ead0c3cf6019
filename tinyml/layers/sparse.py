r"""SparseEvolution: a fully connected layer on a sparse, evolving mask (SET, Mocanu et al. 2018).

The rewiring is a pure function of arrays, ``set_rewire``; the layer draws its random
numbers and keeps the mask.
"""

import fractions
import math

from ..backend import array_namespace, backend_of, get_backend
from ..core import Buffer
from ..core.params import Integer, Real
from .act_fn import ACT_FN
from .dense import FullyConnected


class SparseEvolution(FullyConnected):
    r"""A fully connected layer whose connections form a sparse Erdos-Renyi mask that evolves:
    sparse evolutionary training (SET), ``y = f(x (W \odot M)^T + b)``.

    Parameters
    ----------
    name : str
    input_dim, output_dim : int
        Features per sample in and out.
    epsilon : float > 0, keyword-only
        Sparsity: the mask keeps a fraction
        :math:`d = \min(1, \epsilon (n_{in} + n_{out}) / (n_{in} n_{out}))` of the connections.
    zeta : float in [0, 1], keyword-only
        The fraction of the positive and of the negative weights that :meth:`evolve` removes.
    act_fn : None, str or Layer, keyword-only
        The activation f, as in :class:`FullyConnected`.

    Shape
    -----
    input (batch, input_dim) -> output (batch, output_dim). ``weight`` (output_dim, input_dim)
    and ``bias`` (output_dim,) are parameters, as in Linear; ``mask`` (output_dim, input_dim)
    is a Buffer (saved, loaded and moved with the weights, never optimized): 1.0 where a
    connection exists and 0.0 elsewhere, in the weight's dtype.

    Notes
    -----
    The mask has exactly :math:`m = \max(1, \mathrm{round}(d\, n_{in} n_{out}))` connections
    (the G(n, M) form of an Erdos-Renyi graph, so the count is exact rather than binomial as in
    the paper's code), at positions drawn uniformly from the backend's seeded generator. The
    weights start Glorot-uniform, multiplied by the mask.

    Forward and backward are :class:`FullyConnected`'s with the masked weight, so with
    :math:`\delta = f'(z) \odot g`:

    .. math::
        y = f(x (W \odot M)^\top + b), \qquad
        \partial L / \partial W \mathrel{+}= (\delta^\top x) \odot M, \qquad
        \partial L / \partial x = \delta (W \odot M)

    **Masked weights stay exactly zero.** Backward masks the gradient, so at a position that
    was never connected the gradient, the weight and any optimizer state stay zero and no
    optimizer moves it (plain SGD, momentum, weight decay, Adam). A connection that
    :meth:`evolve` removes still has momentum (or Adam moments) in the optimizer, which moves
    its weight off zero at the next steps. So every forward first multiplies the stored weight
    by the mask in place (:math:`W \leftarrow W \odot M`, one elementwise product, no sync),
    as :meth:`evolve` does: the weight a forward, a backward or an evolve uses is exactly zero
    off the mask, and so is the weight ``Learner.fit`` leaves (its last act is the epoch hook).

    :meth:`evolve` (SET's rewiring, see ``set_rewire``) removes the fraction `zeta` of the
    smallest positive and of the largest negative weights and regrows as many connections at
    random empty positions, so the number of connections stays :math:`m`. New weights are
    drawn from :math:`U(-a, a)` with :math:`a = 0.1 \sqrt{6 / (n_{in} + n_{out})}` (a tenth of
    the Glorot range: a new connection starts small and earns its size in training; an exact
    zero draw becomes :math:`a`, so every connection has a non-zero weight). ``Learner.fit``
    calls it after every epoch through :meth:`on_epoch_end`.

    Random draws, in order: at construction the weight (Glorot) and one
    :math:`U[0, 1)` array of the weight's shape for the mask's positions; at each
    :meth:`evolve` one :math:`U[0, 1)` array for the new positions and one :math:`U(-a, a)`
    array for the new weights, both of the weight's shape, on the weight's device.

    Examples
    --------
    >>> import tinyml
    >>> from tinyml.layers import SparseEvolution
    >>> layer = SparseEvolution("set", 64, 32, epsilon=4, act_fn="relu")
    >>> int(tinyml.to_numpy(layer.mask.data).sum())  # round(4 * 96 / (64 * 32) * 2048)
    384
    >>> layer.evolve()
    >>> int(tinyml.to_numpy(layer.mask.data).sum())
    384
    """

    declared_arguments = {"input_dim": Integer(1), "output_dim": Integer(1),  # Linear checks
                          "epsilon": Real(above=0.0), "zeta": Real(at_least=0.0, at_most=1.0),
                          "act_fn": ACT_FN}

    def __init__(self, name, input_dim, output_dim, *, epsilon=20, zeta=0.3, act_fn=None):
        self._check_name(name)  # before the options' messages use it, and before any draw
        self.name = name
        self._set_declared(epsilon=epsilon, zeta=zeta)
        super().__init__(name, input_dim, output_dim, act_fn=act_fn, init="glorot_uniform")
        n_in, n_out = self.input_dim, self.output_dim
        self.density = min(1.0, self.epsilon * (n_in + n_out) / (n_in * n_out))
        self.connections = max(1, round(self.density * n_in * n_out))
        backend = get_backend()
        xp = backend.xp
        weight = self.weight.data
        draws = xp.reshape(backend.uniform(weight.shape, dtype=weight.dtype), (-1,))
        mask = xp.astype(_ranks(draws, xp) < self.connections, weight.dtype)
        self.mask = Buffer(xp.reshape(mask, weight.shape))
        self.weight.data = _nonzero(weight * self.mask.data, self.mask.data, self.new_weight_scale,
                                    xp)

    @property
    def new_weight_scale(self):
        """a: new connections get weights drawn from U(-a, a), a = 0.1 sqrt(6 / (in + out))."""
        return 0.1 * math.sqrt(6.0 / (self.input_dim + self.output_dim))

    def _weight_for_forward(self):
        self.weight.data *= self.mask.data  # in place: see "Masked weights stay exactly zero"
        return self.weight.data

    def _add_weight_gradient(self, gradient):
        self.weight.grad += gradient * self.mask.data

    def on_epoch_end(self, epoch):
        """Rewire after every epoch of ``Learner.fit``: calls :meth:`evolve`."""
        self.evolve()

    def evolve(self):
        """One SET rewiring, in place on ``weight.data`` and ``mask.data``; returns None.

        Removes the fraction `zeta` of the positive and of the negative weights closest to zero
        and regrows as many connections at random empty positions (see ``set_rewire`` and
        the class Notes for the draws). The number of connections does not change. Everything
        stays on the device: no value is read back.
        """
        weight, mask = self.weight.data, self.mask.data
        xp = array_namespace(weight, mask, names=["weight", "mask"], where=self.describe)
        backend, scale = backend_of(weight), self.new_weight_scale
        positions = backend.uniform(weight.shape, dtype=weight.dtype)
        values = backend.uniform(weight.shape, -scale, scale, dtype=weight.dtype)
        values = xp.where(values == 0, xp.full_like(values, scale), values)
        new_weight, new_mask = set_rewire(weight, mask, self.zeta, positions, values, xp=xp)
        weight[...] = new_weight  # in place: the optimizer's state and any view stay attached
        mask[...] = new_mask


def set_rewire(weight, mask, zeta, positions, values, *, xp):
    r"""SET's rewiring of one layer: the new ``(weight, mask)``, as new arrays.

    Parameters
    ----------
    weight : array (out, in)
    mask : array (out, in)
        Non-zero where a connection exists. Only connected weights count (the others are
        taken as zero).
    zeta : float in [0, 1]
    positions : array (out, in)
        Distinct-valued draws in [0, 1) that choose the new connections: the empty positions
        with the smallest draws.
    values : array (out, in)
        The weight a new connection at each position starts with.
    xp : namespace

    Notes
    -----
    With :math:`P` the :math:`n_+` connected positive weights and :math:`N` the :math:`n_-`
    connected negative ones, it removes the :math:`k_+ = \lfloor \zeta n_+ \rfloor` smallest
    of :math:`P` and the :math:`k_- = \lfloor \zeta n_- \rfloor` largest of :math:`N` (those
    closest to zero; ties go to the earlier position in row-major order; the floors are
    computed in integers), then connects the :math:`k_+ + k_-` empty positions (after the
    removal, so a removed position may be drawn again) with the smallest `positions`, with
    weights from `values`. Connected zero weights are neither positive nor negative and stay.
    The number of connections is unchanged; all of it runs on the device (ranks by a double
    stable ``argsort``), with no value read back.
    """
    shape = tuple(weight.shape)
    connected = xp.reshape(mask, (-1,)) != 0
    zero = xp.zeros_like(xp.reshape(weight, (-1,)))
    w = xp.where(connected, xp.reshape(weight, (-1,)), zero)
    far = xp.full_like(w, math.inf)
    positive, negative = connected & (w > 0), connected & (w < 0)
    k_positive = _floor_fraction(xp.sum(xp.astype(positive, xp.int64)), zeta)
    k_negative = _floor_fraction(xp.sum(xp.astype(negative, xp.int64)), zeta)
    removed = (_ranks(xp.where(positive, w, far), xp) < k_positive) | \
        (_ranks(xp.where(negative, -w, far), xp) < k_negative)
    kept = connected & ~removed
    grow_keys = xp.where(kept, xp.full_like(w, 2.0), xp.reshape(positions, (-1,)))
    grown = _ranks(grow_keys, xp) < k_positive + k_negative
    new_weight = xp.where(kept, w, xp.where(grown, xp.reshape(values, (-1,)), zero))
    new_mask = xp.astype(kept | grown, mask.dtype)
    return xp.reshape(new_weight, shape), xp.reshape(new_mask, shape)


def _ranks(keys, xp):
    """Each entry's place (0, 1, ...) in the ascending order of the 1-D `keys`; ties keep the
    order of their positions."""
    return xp.argsort(xp.argsort(keys, stable=True), stable=True)


def _floor_fraction(count, zeta):
    """floor(zeta * count) for an integer array `count`, exactly, in integer arithmetic."""
    fraction = fractions.Fraction(zeta).limit_denominator(10**6)
    return (count * fraction.numerator) // fraction.denominator


def _nonzero(weight, mask, fill, xp):
    """`weight` with each connected exact zero replaced by `fill`, so connections == non-zeros."""
    return xp.where((weight == 0) & (mask != 0), xp.full_like(weight, fill), weight)
