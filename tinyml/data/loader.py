"""A DataLoader: host arrays in batches, shuffled reproducibly per epoch."""

import operator

import numpy as np


class DataLoader:
    """Batches of host arrays `x` (and labels `y`), in order or shuffled per epoch.

    Parameters
    ----------
    x : array of shape (n, ...)
        Samples: a NumPy array or anything ``np.asarray`` takes (lists, CPU tensors).
    y : array of shape (n, ...) or None
        Labels, one per sample; None for unlabelled data (batches then carry None).
    batch_size : positive int
    shuffle : bool
        True (the default, as ``fit`` shuffles arrays by default) permutes the samples anew
        each epoch; False keeps the stored order (for scoring, or data already in a random
        order). ``fit`` takes the loader's setting and refuses a ``shuffle=`` that disagrees.
    seed : non-negative int
        With the epoch e, fixes epoch e's order: ``np.random.default_rng([seed, e])
        .permutation(n)``, the same on every run and machine, whatever ran before.
    drop_last : bool
        Drop the last batch when it holds fewer than `batch_size` samples.
    transform : callable or None
        ``transform(x_batch, y_batch) -> (x_batch, y_batch)``, applied on the host to each
        batch (augmentation). It gets fresh arrays it may change in place.

    Notes
    -----
    ``epoch`` (0 at first) is the epoch the next iteration shuffles for. Each ``iter(loader)``
    (a ``for`` loop starting) uses it and adds one at once, so a loop left early still counts.
    ``set_epoch(e)`` makes the next iteration use epoch e: call it before each epoch (as with
    PyTorch's DistributedSampler) to resume a run at epoch e with the orders it would have had.
    ``batches(e)`` yields epoch e's batches and changes nothing.

    ``len(loader)`` is the number of batches: ceil(n / batch_size), or floor with `drop_last`.
    Every batch is a new array (never a view of `x`), as NumPy arrays on the host.
    """

    def __init__(self, x, y=None, batch_size=32, shuffle=True, seed=0, drop_last=False,
                 transform=None):
        self.x = _host(x, "x")
        self.y = None if y is None else _host(y, "y")
        n = len(self.x)
        if self.y is not None and len(self.y) != n:
            raise ValueError(f"DataLoader: x has {n} samples but y has {len(self.y)} labels; "
                             "give one label per sample")
        self.batch_size = _whole(batch_size, "batch_size", low=1)
        self.seed = _whole(seed, "seed", low=0)
        self.shuffle = _flag(shuffle, "shuffle")
        self.drop_last = _flag(drop_last, "drop_last")
        if drop_last and self.batch_size > n:
            raise ValueError(f"DataLoader: batch_size {self.batch_size} exceeds the {n} samples, "
                             "so drop_last=True leaves no batch; lower batch_size")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable or None; got "
                            f"{type(transform).__name__}")
        self.transform = transform
        self.epoch = 0

    def __len__(self):
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self.batches(epoch)

    def set_epoch(self, epoch):
        """Make the next iteration shuffle for `epoch` (a non-negative int)."""
        self.epoch = _whole(epoch, "epoch", low=0)

    def order(self, epoch):
        """The sample indices of `epoch`, in the order its batches take them."""
        n = len(self.x)
        epoch = _whole(epoch, "epoch", low=0)
        return np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle \
            else np.arange(n)

    def batches(self, epoch):
        """Yield `epoch`'s (x_batch, y_batch) pairs; y_batch is None without labels."""
        order = self.order(epoch)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            chosen = order[start:start + self.batch_size]
            pair = (self.x[chosen], None if self.y is None else self.y[chosen])
            if self.transform is not None:
                pair = self.transform(*pair)
                if not (isinstance(pair, tuple) and len(pair) == 2):
                    raise TypeError("DataLoader: transform must return a pair (x_batch, "
                                    f"y_batch); got {type(pair).__name__}")
            yield pair

    def __repr__(self):
        return (f"DataLoader({len(self.x)} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
                f"epoch={self.epoch})")


def _host(data, name):
    try:
        host = np.asarray(data)
    except (TypeError, RuntimeError) as error:  # CuPy, CUDA tensors
        raise TypeError(f"DataLoader: {name} must be host data (a NumPy array or anything "
                        f"np.asarray takes); got {type(data).__name__} ({error}). Bring "
                        "device arrays home first with tinyml.backend.to_numpy") from None
    if host.ndim == 0 or len(host) == 0:
        raise ValueError(f"DataLoader: {name} must hold at least one sample; got shape "
                         f"{host.shape}")
    return host


def _whole(value, name, *, low):
    if isinstance(value, bool):
        raise TypeError(f"DataLoader: {name} must be an int; got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"DataLoader: {name} must be an int; got {value!r}") from None
    if value < low:
        raise ValueError(f"DataLoader: {name} must be >= {low}; got {value}")
    return value


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False; got {value!r}")
    return bool(value)
