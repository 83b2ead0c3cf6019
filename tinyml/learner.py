"""Learner: the training loop (batches, epochs, shuffling, validation, history)."""

import numbers
import time

from .backend import resolve_backend
from .backend import seed as seed_backends
from .data.batches import batches, check_labels, check_pair, is_class_indices, prepare
from .layers.activation import Softmax
from .losses import cross_entropy, cross_entropy_with_logits
from .metrics import correct_count
from .net import Net, run_backward, run_forward

CLASSIFICATION_LOSSES = (cross_entropy, cross_entropy_with_logits)


class Learner:
    """Trains a Net with a loss and an optimizer, batch by batch.

    Parameters
    ----------
    net : Net
    loss : callable
        ``loss(predicted, ground_truth) -> (loss, gradient)``, as in :mod:`tinyml.losses`.
    optimizer : object with ``step(parameters)``, such as :class:`tinyml.optim.SGD`
    batch_size : int > 0
    seed : int, optional
        Reseeds tinyml's generators now, so shuffling and dropout repeat from run to run.
    backend : str or Backend, optional
        Move the net there first (``net.to(backend)``).

    Notes
    -----
    Each step runs forward, loss, backward and update on the net's backend. Losses and
    correct counts are summed on the device and read back once per epoch, so a GPU is never
    made to wait inside an epoch. When the net ends in Softmax and the loss is
    ``cross_entropy``, the step skips the Softmax layer and computes
    ``cross_entropy_with_logits`` on its input: the same loss, with the gradient
    ``(p - y) / N`` at the logits instead of a division by a probability.
    """

    def __init__(self, net, loss, optimizer, batch_size=32, seed=None, backend=None):
        if not isinstance(net, Net):
            raise TypeError(f"Learner needs a tinyml.Net; got {type(net).__name__}")
        if not callable(loss):
            raise TypeError(f"loss must be a function (predicted, ground_truth) -> (loss, grad); "
                            f"got {loss!r}")
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer must have a step(parameters) method, as "
                            f"tinyml.optim.SGD; got {optimizer!r}")
        self.net = net
        self.loss = loss
        self.optimizer = optimizer
        self.batch_size = _positive_int("batch_size", batch_size)
        if backend is not None:
            net.to(resolve_backend(backend))
        if seed is not None:
            seed_backends(seed)
        self.history = {}

    # ---------------------------------------------------------------- one step
    @property
    def fused(self):
        """True when the step fuses a final Softmax with cross_entropy."""
        last = self.net.layers[-1] if self.net.layers else None
        return self.loss is cross_entropy and isinstance(last, Softmax) and last.axis in (1, -1)

    def _forward_loss(self, x, y):
        """(outputs, loss, dL/d(outputs), layers to backpropagate through)."""
        if self.fused:
            layers = self.net.layers[:-1]
            logits = run_forward(layers, x)
            loss, gradient = cross_entropy_with_logits(logits, y)
            return logits, loss, gradient, layers
        outputs = self.net.forward(x)
        loss, gradient = self.loss(outputs, y)
        return outputs, loss, gradient, self.net.layers

    def train_step(self, x, y):
        """One update on a batch already on the net's backend; returns (outputs, loss).

        Outputs are logits when the Softmax is fused (their argmax is the same).
        """
        self.net.zero_grad()
        outputs, loss, gradient, layers = self._forward_loss(x, y)
        run_backward(layers, gradient, input_gradient=False)
        self.net.update(self.optimizer)
        return outputs, loss

    # ---------------------------------------------------------------- epochs
    def fit(self, x, y, epochs, validation_data=None, shuffle=True, verbose=1):
        """Train for `epochs` passes over (x, y).

        Parameters
        ----------
        x : array (N, ...)
            Host NumPy data (each batch is moved to the net's backend) or an array already on
            the net's backend.
        y : array (N,) of class indices, or (N, ...) targets
        epochs : int > 0
        validation_data : (x_val, y_val), optional
            Evaluated after every epoch.
        shuffle : bool
            Reshuffle the samples every epoch, with the backend's seeded generator.
        verbose : int
            0 prints nothing; 1 prints one line per epoch.

        Returns
        -------
        history : dict of lists of Python floats
            ``loss`` and, for class labels, ``accuracy``; ``val_loss`` and ``val_accuracy``
            with validation data. Also kept, accumulated over calls, in ``self.history``.
        """
        epochs = _positive_int("epochs", epochs)
        backend = self.net.backend
        x, y, classify = self._checked(x, y, backend, "fit")
        if validation_data is not None:
            x_val, y_val, val_classify = self._checked(*_pair(validation_data), backend,
                                                       "fit (validation_data)")
        history = {}
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            self.net.train()
            order = backend.permutation(x.shape[0]) if shuffle else None
            totals = [None, None]
            for x_batch, y_batch in batches(x, y, self.batch_size, backend, order):
                outputs, loss = self.train_step(x_batch, y_batch)
                _accumulate(totals, outputs, loss, y_batch, classify)
            row = _epoch_means(totals, x.shape[0], classify)
            if validation_data is not None:
                scores = self._evaluate(x_val, y_val, val_classify, backend)
                row.update({f"val_{key}": value for key, value in scores.items()})
            for key, value in row.items():
                history.setdefault(key, []).append(value)
                self.history.setdefault(key, []).append(value)
            if verbose:
                _print_epoch(epoch, epochs, row, time.perf_counter() - started)
        return history

    def evaluate(self, x, y):
        """{"loss": float, "accuracy": float} over (x, y) in eval mode (accuracy for class
        labels only)."""
        backend = self.net.backend
        x, y, classify = self._checked(x, y, backend, "evaluate")
        return self._evaluate(x, y, classify, backend)

    def _evaluate(self, x, y, classify, backend):
        """evaluate() on data that _checked has already prepared."""
        totals = [None, None]
        with _eval_mode(self.net):
            for x_batch, y_batch in batches(x, y, self.batch_size, backend):
                outputs, loss, _, _ = self._forward_loss(x_batch, y_batch)
                _accumulate(totals, outputs, loss, y_batch, classify)
        return _epoch_means(totals, x.shape[0], classify)

    def predict(self, x):
        """The net's outputs for `x`, in eval mode, as one array on the net's backend."""
        backend = self.net.backend
        x = prepare(x, backend, "predict: x", inputs=True)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError("predict: x is empty; give at least one sample")
        self.net.output_shape(tuple(x.shape))
        with _eval_mode(self.net):
            parts = [self.net.forward(x_batch)
                     for x_batch, _ in batches(x, None, self.batch_size, backend)]
        return parts[0] if len(parts) == 1 else backend.xp.concat(parts, axis=0)

    def _checked(self, x, y, backend, who):
        """Data prepared for batching and checked against the net, before any compute."""
        x = prepare(x, backend, f"{who}: x", inputs=True)
        y = prepare(y, backend, f"{who}: y")
        check_pair(x, y, who)
        output_shape = self.net.output_shape(tuple(x.shape))
        check_labels(y, output_shape, who)
        classify = is_class_indices(y) or (y.ndim == 2 and self.loss in CLASSIFICATION_LOSSES)
        return x, y, classify


def _accumulate(totals, outputs, loss, labels, classify):
    """Add a batch's summed loss (and correct count) into device-side running totals."""
    batch_loss = loss * labels.shape[0]
    totals[0] = batch_loss if totals[0] is None else totals[0] + batch_loss
    if classify:
        correct = correct_count(outputs, labels)
        totals[1] = correct if totals[1] is None else totals[1] + correct


def _epoch_means(totals, count, classify):
    """Read the device totals back (one wait per epoch) as Python floats."""
    row = {"loss": float(totals[0]) / count}
    if classify:
        row["accuracy"] = float(totals[1]) / count
    return row


def _print_epoch(epoch, epochs, row, seconds):
    width = len(str(epochs))
    metrics = "  ".join(f"{key} {value:.4f}" for key, value in row.items())
    print(f"epoch {epoch:>{width}}/{epochs}  {metrics}  ({seconds:.2f}s)", flush=True)


class _eval_mode:
    """Put the net in eval mode for a block, then restore each layer's mode."""

    def __init__(self, net):
        self.net = net

    def __enter__(self):
        self.modes = [layer.training for layer in self.net.layers]
        self.net.eval()

    def __exit__(self, *exc):
        for layer, mode in zip(self.net.layers, self.modes, strict=True):
            layer.train(mode)


def _pair(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (x_val, y_val)")
    return validation_data


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)
