"""train_rbm: the contrastive-divergence loop that trains an RBM without labels."""

from ..backend import backend_of, to_numpy
from ..core import check_positive_int
from ..data.batches import batches, prepare


def train_rbm(rbm, x, optimizer, epochs, batch_size=32, *, shuffle=True):
    """Train `rbm` by CD-K on the visible data `x`; returns each epoch's reconstruction error.

    Per batch: zero the gradients, ``rbm.contrastive_divergence(batch)`` (which adds minus
    the likelihood-gradient estimate into ``grad``), ``optimizer.step(rbm.named_parameters())``.

    Parameters
    ----------
    rbm : tinyml.layers.RBM
    x : array (N, n_visible)
        Values in [0, 1]: host NumPy (each batch is moved to the RBM's backend) or an array on
        the RBM's backend. Read once, to check the range.
    optimizer : :class:`tinyml.optim.Optimizer`, or any object with ``step(parameters)``
    epochs, batch_size : int > 0
    shuffle : bool
        Reshuffle every epoch with the backend's seeded generator (``tinyml.seed``).

    Returns
    -------
    list of float
        The mean over the samples of each epoch's reconstruction error (what
        ``contrastive_divergence`` returns, weighted by batch size), read back once per epoch.

    Raises
    ------
    TypeError
        `rbm` has no ``contrastive_divergence``, or `optimizer` no ``step``.
    ValueError
        Bad epochs or batch size, empty data, the wrong number of features, or values
        outside [0, 1].

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> from tinyml.layers import RBM
    >>> from tinyml.optim import SGD
    >>> from tinyml.train import train_rbm
    >>> x = (np.random.default_rng(0).random((40, 6)) > 0.5).astype(float)
    >>> errors = train_rbm(RBM("rbm", 6, 4), x, SGD(lr=0.1), epochs=3, batch_size=8)
    >>> len(errors)
    3
    """
    if not callable(getattr(rbm, "contrastive_divergence", None)):
        raise TypeError(f"train_rbm trains an RBM (a layer with contrastive_divergence); got "
                        f"{type(rbm).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"train_rbm: optimizer must have a step(parameters) method, as "
                        f"tinyml.optim.SGD; got {optimizer!r}")
    epochs = check_positive_int("train_rbm", "epochs", epochs)
    batch_size = check_positive_int("train_rbm", "batch_size", batch_size)
    backend = backend_of(rbm.weight.data)
    x = prepare(x, backend, "train_rbm: x", inputs=True)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError("train_rbm: x is empty; give at least one sample")
    rbm.output_shape(tuple(x.shape))  # the layer's own message for the wrong feature count
    _check_unit_interval(x)
    parameters = rbm.named_parameters()
    errors = []
    for _ in range(epochs):
        order = backend.permutation(x.shape[0]) if shuffle else None
        total = None
        for batch, _labels in batches(x, None, batch_size, backend, order):
            rbm.zero_grad()
            error = rbm.contrastive_divergence(batch) * batch.shape[0]
            total = error if total is None else total + error
            optimizer.step(parameters)
        errors.append(float(to_numpy(total)) / x.shape[0])
    return errors


def _check_unit_interval(x):
    """ValueError unless every value is a probability (NaN included): one read of `x`."""
    host = to_numpy(x)  # a host copy (or x itself, when it is host data): min/max there
    low, high = float(host.min()), float(host.max())
    if not (0.0 <= low and high <= 1.0):
        raise ValueError(f"train_rbm: visible values must lie in [0, 1] (binary data or "
                         f"probabilities); got values from {low} to {high}. Scale or "
                         "binarize x first.")
