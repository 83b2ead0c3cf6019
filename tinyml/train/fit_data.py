"""What ``fit`` trains on: arrays or a DataLoader, checked once, with the validation pair."""

from ..backend import namespace_name
from ..data.batches import batches, prepare
from .inputs import check_finite, split_validation


class TrainingData:
    """fit's data, checked once: where batches come from, the validation pair, the sizes."""

    def __init__(self, learner, x, y, validation_data, validation_split, check_inputs):
        backend = learner.net.backend
        self.backend = backend
        self.parallel = learner.parallel  # this process's share, in a data-parallel run
        self.loader = x if _is_loader(x) else None
        if self.loader is not None:
            if validation_split:
                raise ValueError("fit: validation_split does not apply to a DataLoader; pass "
                                 "validation_data=(x_val, y_val) instead")
            if y is not None:
                raise ValueError("fit: a DataLoader brings its own labels; leave y out")
            host = True
            _, targets, self.classify = learner._checked(self.loader.x, self.loader.y, backend,
                                                         "fit")
            self._target_ndim = targets.ndim  # 1-D regression targets are taken as (N, 1)
            self.samples, self.batch_size = self.loader.x.shape[0], self.loader.batch_size
            self.steps = self.parallel.loader_steps(self.loader)
            checked = (self.loader.x, self.loader.y)
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
        if check_inputs if check_inputs is not None else host:
            self._check_finite(checked)

    def _check_finite(self, checked):
        check_finite(checked[0], "fit: x")
        check_finite(checked[1], "fit: y")
        if self.validation is not None:
            check_finite(self.validation[0], "fit: validation x")
            check_finite(self.validation[1], "fit: validation y")

    def batches(self, epoch, shuffle):
        """The epoch's (x_batch, y_batch) pairs on the backend."""
        if self.loader is not None:
            for batch in self.loader.batches(epoch):
                share = self.parallel.batch_share(*batch)
                if share is None:  # fewer samples than processes: every process skips it
                    continue
                x_batch, y_batch = share
                y_batch = self.backend.asarray(prepare(y_batch, self.backend, "y",
                                                       inputs=not self.classify))
                if y_batch.ndim < self._target_ndim:
                    y_batch = self.backend.xp.reshape(y_batch, (y_batch.shape[0], 1))
                yield (self.backend.asarray(prepare(x_batch, self.backend, "x", inputs=True)),
                       y_batch)
            return
        order = self.backend.permutation(self.samples) if shuffle else None
        order = self.parallel.epoch_order(order, self.samples, self.batch_size)
        yield from batches(self.x, self.y, self.batch_size, self.backend, order)


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
