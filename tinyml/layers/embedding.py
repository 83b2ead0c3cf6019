"""Embedding: a table of vectors looked up by integer index, optionally pooled over time."""

from ..backend import array_namespace
from ..backend.ops import bag_scatter_add, scatter_add
from ..core import Layer, index_checks_enabled, shape_error
from ..core.checks import unravel_index
from ..core.params import Initializer, Integer, OneOf

POOLS = (None, "sum", "mean")


class Embedding(Layer):
    r"""A learned vector per index: token ids in, their rows of ``weight`` out.

    Parameters
    ----------
    name : str
    vocab_size : int
        How many indices there are: each input is an integer in ``[0, vocab_size)``.
    embedding_dim : int
        The length D of each vector.
    pool : None, "sum" or "mean", keyword-only
        None returns one vector per position; ``"sum"`` and ``"mean"`` add (or average) them
        over the time axis, a bag of words, as PyTorch's ``EmbeddingBag(mode=...)``.
    init : str or callable, keyword-only
        Initializer of ``weight`` (``"glorot_uniform"`` by default, with fan-in vocab_size and
        fan-out D, as Keras's on the same matrix; PyTorch draws N(0, 1): ``init="std_normal"``).

    Shape
    -----
    input (batch, T) of integers -> output (batch, T, D), or (batch, D) with `pool`.
    ``weight`` is (vocab_size, D), as ``torch.nn.Embedding.weight``.

    Notes
    -----
    Forward, for indices :math:`i_{n,t}` and weight rows :math:`W_v`:

    .. math::
        y_{n,t} = W_{i_{n,t}}, \qquad
        y^{\mathrm{sum}}_n = \textstyle\sum_t W_{i_{n,t}}, \qquad
        y^{\mathrm{mean}}_n = \tfrac{1}{T} \textstyle\sum_t W_{i_{n,t}}

    Backward, given :math:`g = \partial L / \partial y`: each position sends its gradient to
    the row it read, and an index that occurs several times ACCUMULATES (a scatter-add,
    ``tinyml.backend.ops.scatter_add``, native per library):

    .. math::
        \partial L / \partial W_v \mathrel{+}= \sum_{(n,t) \,:\, i_{n,t} = v} g_{n,t}
        \quad\text{(} g_{n,t} = g_n \text{ for sum, } g_n / T \text{ for mean)}

    With a pool, the backend operation ``bag_scatter_add`` adds each sample's gradient to the
    rows of its T indices (on NumPy, for vocabularies up to T D, as :math:`C^\top g` with C
    the number of times each sample holds each index: one GEMM).

    Indices are not differentiable: backward returns None for them.

    The range check and what it costs. An index outside ``[0, vocab_size)`` is refused with a
    ValueError naming the first one (on a GPU CuPy would otherwise read some other row and say
    nothing). Finding out whether any index is outside reads one bool from the device: on a
    GPU, a wait for the device in every forward. ``Learner.fit``, ``evaluate`` and ``predict``
    do not pay it per batch: they check the whole data once, on the host (or with one read
    for data already on the device), through :meth:`check_indices`, then run the batches
    inside ``tinyml.core.skip_index_checks()``, where this layer skips its own check. A loop
    of your own can do the same.

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import Embedding
    >>> emb = Embedding("emb", 10, 4, pool="mean")
    >>> tuple(emb.forward(tinyml.asarray(np.array([[1, 2, 2], [0, 9, 3]]))).shape)
    (2, 4)
    """

    takes_indices = True

    declared_arguments = {"vocab_size": Integer(1), "embedding_dim": Integer(1),
                          "pool": OneOf(*POOLS, hint="Leave it out for one vector per position."),
                          "init": Initializer()}

    def __init__(self, name, vocab_size, embedding_dim, *, pool=None, init="glorot_uniform"):
        super().__init__(name, vocab_size=vocab_size, embedding_dim=embedding_dim, pool=pool,
                         init=init)
        self.weight = self._new_parameter((self.vocab_size, self.embedding_dim),
                                          self.vocab_size, self.embedding_dim, init)

    def declared_input_shape(self):
        return (None, None)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] == 0:
            raise shape_error(self, "(batch, time) of integer indices, time >= 1", input_shape,
                              "Give each sample as one row of token ids.")
        batch, steps = input_shape
        if self.pool is None:
            return (batch, steps, self.embedding_dim)
        return (batch, self.embedding_dim)

    def forward(self, input):
        xp = self._indices_namespace(input)
        output_shape = self.output_shape(tuple(input.shape))
        input = _as_index_dtype(input, xp)
        if index_checks_enabled():
            self._check_range(input, "input", xp=xp)
        steps = input.shape[1]
        flat = xp.reshape(input, (-1,))  # take wants 1-D indices (array_api_strict)
        rows = xp.take(self.weight.data, flat, axis=0)
        self.save_for_backward(flat, steps, output_shape=output_shape)
        # -1 for the batch: its size is None in a net traced for ONNX with a dynamic batch
        by_sample = xp.reshape(rows, (-1, steps, self.embedding_dim))
        if self.pool is None:
            return by_sample
        pooled = xp.sum(by_sample, axis=1)
        return pooled / steps if self.pool == "mean" else pooled

    def backward(self, in_gradient, *, input_gradient=True):
        """Add the scatter of `in_gradient` into ``weight.grad``; returns None (indices have
        no gradient), whatever `input_gradient` says."""
        xp, flat, steps = self.saved(in_gradient)
        if self.pool is None:
            rows = xp.reshape(in_gradient, (-1, self.embedding_dim))
            self.weight.grad += scatter_add(flat, rows, self.vocab_size)
            return None
        if self.pool == "mean":
            in_gradient = in_gradient / steps
        bags = xp.reshape(flat, (-1, steps))
        self.weight.grad += bag_scatter_add(bags, in_gradient, self.vocab_size)
        return None

    def check_indices(self, indices, who):
        """Refuse `indices` (any library's integer array, host data included) that this layer
        cannot take: a TypeError for non-integers, a ValueError naming the first index outside
        ``[0, vocab_size)``. `who` starts the message (``"fit"``: "fit: index 12 at x[3, 0]
        ...").

        One read of a device array (none for host data): the Learner calls it once per fit,
        evaluate and predict, on the whole data, instead of once per batch.
        """
        xp = array_namespace(indices, names=("x",), where=who)
        self._refuse_non_integers(indices, xp, f"{who}: x has dtype {_dtype(indices)}")
        self._check_range(_as_index_dtype(indices, xp), "x", xp=xp, prefix=f"{who}: ",
                          named=True)

    # ---------------------------------------------------------------- checks
    def _indices_namespace(self, indices):
        """The namespace of `indices` and the weight, refusing non-integer indices."""
        xp = self._namespace(indices)
        self._refuse_non_integers(indices, xp, f"got {_dtype(indices)} input")
        return xp

    def _refuse_non_integers(self, indices, xp, got):
        if not xp.isdtype(indices.dtype, "integral"):
            raise TypeError(f"{self.describe()} expects integer indices; {got}. Pass token ids "
                            "as integers in [0, vocab_size) (x.astype(int)); Learner.fit keeps "
                            "integer data as it is for a net that starts with an Embedding.")

    def _check_range(self, indices, what, *, xp, prefix=None, named=False):
        """ValueError naming the first index outside [0, vocab_size); one read of the device
        when all are inside, a few more to build the message when one is not."""
        outside = (indices < 0) | (indices >= self.vocab_size)
        if not bool(xp.any(outside)):
            return
        flat = xp.reshape(outside, (-1,))
        first = int(xp.argmax(xp.astype(flat, xp.int8)))  # the first True
        value = int(xp.reshape(indices, (-1,))[first])
        count = int(xp.sum(xp.astype(flat, xp.int64)))
        where = ", ".join(str(i) for i in unravel_index(first, tuple(indices.shape)))
        prefix = f"{self.describe()}: " if prefix is None else prefix
        layer = f", the indices {self.describe()} takes" if named else ""
        raise ValueError(
            f"{prefix}index {value} at {what}[{where}] is outside [0, {self.vocab_size}){layer} "
            f"(vocab_size={self.vocab_size}; {count} of {flat.shape[0]} indices are outside). "
            f"Map tokens to ids in [0, {self.vocab_size}) (unknown ones to a reserved id), or "
            "build the Embedding with a larger vocab_size.")


def _as_index_dtype(indices, xp):
    """`indices` as int64 unless int32 or int64 already: what every library's take accepts,
    and wide enough to compare with any vocab_size (uint8 ids against 300 would overflow)."""
    if indices.dtype == xp.int64 or indices.dtype == xp.int32:
        return indices
    return xp.astype(indices, xp.int64)


def _dtype(array):
    """The dtype's short name, the same for every library (``float64``, not
    ``torch.float64`` or ``array_api_strict.float64``)."""
    return str(array.dtype).rsplit(".", 1)[-1]
