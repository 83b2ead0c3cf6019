"""What ``fit`` trains on: arrays or a DataLoader, checked once, with the validation pair.

Labels are checked wherever they come from, on the host, before they reach the device: the
arrays given to ``fit`` and the validation pair once, a DataLoader's own arrays once, and,
when it has a transform (which may make or change labels and samples), every batch the
transform returns.
"""

import warnings

from ..backend import namespace_name
from ..data.batches import batches, prepare
from .checks import batch_statistics_layer, checked_data, index_layer
from .inputs import check_finite, split_validation


class TrainingData:
    """fit's data, checked once: where batches come from, the validation pair, the sizes."""

    def __init__(self, learner, x, y, validation_data, validation_split, check_inputs,
                 shuffle=None):
        backend = learner.net.backend
        self.backend = backend
        self.indices = index_layer(learner.net)  # integer inputs: no cast to float
        self.parallel = learner.parallel  # this process's share, in a data-parallel run
        self.loader = x if _is_loader(x) else None
        self.shuffle = True if shuffle is None else shuffle
        if self.loader is not None:
            _check_loader_arguments(self.loader, y, validation_split, shuffle)
            host = True
            _, targets, self.classify = checked_data(
                learner.net, learner.loss, self.loader.x, self.loader.y, backend, "fit",
                unscaled_warning=self.loader.transform is None)  # a transform may scale them
            self._target_ndim = targets.ndim  # 1-D regression targets are taken as (N, 1)
            self.samples, self.batch_size = self.loader.x.shape[0], self.loader.batch_size
            self.steps = self.parallel.loader_steps(self.loader)
            checked = (self.loader.x, self.loader.y)
            self._check_batch = (None if self.loader.transform is None else
                                 lambda xb, yb, who: learner._checked(xb, yb, backend, who)[:2])
        else:
            host = _on_host(x)
            if validation_split:
                if validation_data is not None:
                    raise ValueError("fit: give validation_data or validation_split, not both")
                x, y, *validation_data = split_validation(x, y, validation_split)
            self.x, self.y, self.classify = learner._checked(x, y, backend, "fit")
            self.samples, self.batch_size = self.x.shape[0], learner.batch_size
            self.steps = self.parallel.steps(self.samples, self.batch_size)
            checked = (self.x, self.y)
        self.validation = None
        if validation_data is not None:
            self.validation = learner._checked(*checked_pair(validation_data), backend,
                                               "fit (validation_data)")
        self.check_inputs = check_inputs if check_inputs is not None else host
        if self.check_inputs:
            self._check_finite(checked)
        self.single = _single_sample_batches(learner.net, self)

    def _check_finite(self, checked):
        check_finite(checked[0], "fit: x")
        check_finite(checked[1], "fit: y")
        if self.validation is not None:
            check_finite(self.validation[0], "fit: validation x")
            check_finite(self.validation[1], "fit: validation y")

    def batches(self, epoch, shuffle=None):
        """The epoch's (x_batch, y_batch) pairs on the backend, a batch of one sample left out
        when the net has BatchNorm (see :func:`_single_sample_batches`)."""
        trained = 0
        for x_batch, y_batch in self._batches(epoch, self.shuffle if shuffle is None else
                                              shuffle):
            if self.single is not None and x_batch.shape[0] == 1:
                self.single.dropped(epoch)
                continue
            trained += 1
            yield x_batch, y_batch
        if not trained:
            raise ValueError(f"fit: epoch {epoch + 1} has no batch to train on: every batch "
                             f"held one sample, which {self.single.layer.describe()} cannot "
                             "normalize; make the DataLoader's transform keep at least 2")

    def _batches(self, epoch, shuffle):
        if self.loader is not None:
            for index, batch in enumerate(self.loader.batches(epoch)):
                share = self.parallel.batch_share(*batch)
                if share is None:  # fewer samples than processes: every process skips it
                    continue
                yield self._loader_batch(*share, epoch, index)
            return
        order = self.backend.permutation(self.samples) if shuffle else None
        order = self.parallel.epoch_order(order, self.samples, self.batch_size)
        yield from batches(self.x, self.y, self.batch_size, self.backend, order)

    def _loader_batch(self, x_batch, y_batch, epoch, index):
        """A DataLoader's host batch on the backend: checked again as fit's data when its
        transform made it, else only prepared (the loader's arrays were checked once)."""
        if self._check_batch is not None:
            who = f"fit: DataLoader batch {index} of epoch {epoch + 1} (after its transform)"
            if y_batch is None:
                raise ValueError(f"{who}: the transform returned y_batch None; it must return "
                                 "the labels of its samples")
            x_batch, y_batch = self._check_batch(x_batch, y_batch, who)
            if self.check_inputs:
                check_finite(x_batch, f"{who}: x")
                check_finite(y_batch, f"{who}: y")
            return self.backend.asarray(x_batch), self.backend.asarray(y_batch)
        y_batch = self.backend.asarray(prepare(y_batch, self.backend, "y",
                                               inputs=not self.classify))
        if y_batch.ndim < self._target_ndim:
            y_batch = self.backend.xp.reshape(y_batch, (y_batch.shape[0], 1))
        x_batch = prepare(x_batch, self.backend, "x", inputs=True,
                          keep_dtype=self.indices is not None)  # token ids stay integers
        return self.backend.asarray(x_batch), y_batch


def _check_loader_arguments(loader, y, validation_split, shuffle):
    if validation_split:
        raise ValueError("fit: validation_split does not apply to a DataLoader; pass "
                         "validation_data=(x_val, y_val) instead")
    if y is not None:
        raise ValueError("fit: a DataLoader brings its own labels; leave y out")
    if loader.y is None:
        raise ValueError("fit: the DataLoader holds no labels (it was built with y=None); fit "
                         "needs one label (or target) per sample: DataLoader(x, y, ...)")
    if shuffle is not None and bool(shuffle) != bool(loader.shuffle):
        raise ValueError(f"fit: shuffle={shuffle} does not apply to a DataLoader, which "
                         f"shuffles as it was built (shuffle={loader.shuffle}); leave shuffle "
                         f"out of fit, or build DataLoader(..., shuffle={bool(shuffle)})")


class _SingleSample:
    """Says, once per fit, that batches of one sample are left out for `layer`."""

    def __init__(self, layer, last):
        self.layer, self.last, self.warned = layer, last, last

    def dropped(self, epoch):
        if self.warned:
            return
        self.warned = True
        warnings.warn(f"fit: a batch of one sample (made by the DataLoader's transform, epoch "
                      f"{epoch + 1}) was left out: {self.layer.describe()} normalizes with "
                      "the statistics of its batch, which one sample does not have. Make the "
                      "transform keep at least 2 samples per batch.", RuntimeWarning,
                      stacklevel=4)


def _single_sample_batches(net, data):
    """None for a net without batch statistics; else what leaves out its one-sample batches.

    Decided before training: a batch size of 1 (or a single sample) is refused, and a last
    batch of one sample (``len(x) % batch_size == 1``) is dropped each epoch with a warning
    now, as ``drop_last`` would; with shuffling a different sample sits out each epoch.
    """
    layer = batch_statistics_layer(net)
    if layer is None:
        return None
    fix = ("Use batch_size >= 2 (and at least 2 samples), or put a LayerNorm1D in its place, "
           "which normalizes each sample alone.")
    if data.batch_size < 2 or data.samples < 2:
        raise ValueError(f"fit: {layer.describe()} normalizes with the statistics of each "
                         f"training batch, and {data.samples} samples in batches of "
                         f"{data.batch_size} give batches of one sample, which have none. {fix}")
    loader_drops = data.loader is not None and data.loader.drop_last
    last = data.samples % data.batch_size == 1 and not loader_drops
    if last:
        data.steps -= 1
        warnings.warn(f"fit: the last batch of each epoch would hold one sample ({data.samples} "
                      f"samples in batches of {data.batch_size}); it is left out, since "
                      f"{layer.describe()} needs batch statistics. Say so yourself with "
                      "DataLoader(..., drop_last=True), or pick a batch_size that leaves 0 or "
                      "2+ samples over.", RuntimeWarning, stacklevel=4)
    return _SingleSample(layer, last)


def _is_loader(x):
    return callable(getattr(x, "batches", None)) and hasattr(x, "batch_size") and \
        hasattr(x, "x")


def _on_host(x):
    """True for data that is not an array of some device library (NumPy, lists)."""
    try:
        return namespace_name(x) == "numpy"
    except TypeError:
        return True


def checked_pair(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (x_val, y_val)")
    return validation_data
