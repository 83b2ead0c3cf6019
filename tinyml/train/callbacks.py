"""Callbacks: what happens around the training loop, as in Keras.

``Learner.fit`` emits five events to each callback, in this order::

    on_train_begin(logs)
        on_epoch_begin(epoch, logs)
            on_batch_end(batch, logs)      once per batch
        on_epoch_end(epoch, logs)
    on_train_end(logs)

``epoch`` and ``batch`` count from 0. Batch logs hold DEVICE arrays (``logs["loss"]`` is the
batch's 0-d mean loss on the net's device, ``logs["outputs"]`` the batch's outputs) plus
``logs["size"]``, the batch's sample count: reading one (``float(logs["loss"])``) makes the
host wait for the device, so a callback that reads should do so every few steps, not every
batch. Epoch logs hold Python floats (``loss``, ``accuracy``, ``val_loss``, ...), read once per
epoch. A callback stops training with ``self.learner.stop_training = True``: the loop stops
after the current batch, and still ends the epoch and the training with their events.

The layers' own epoch hook (:class:`LayerHooks`, calling ``layer.on_epoch_end(epoch)``), the
history and the per-epoch printing are callbacks too (:class:`History`, :class:`EpochPrinter`),
which ``fit`` puts first, in that order.
"""

import time


class Callback:
    """Base class: every event does nothing. Override the ones you need.

    Attributes
    ----------
    learner : Learner
        Set by ``fit`` before ``on_train_begin``.
    params : dict
        ``{"epochs": int, "samples": int, "batch_size": int, "verbose": int}``.
    """

    learner = None
    params = None

    def set_learner(self, learner):
        self.learner = learner

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        """Before the first epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before each epoch's first batch."""

    def on_batch_end(self, batch, logs=None):
        """After each training step; `logs` hold device arrays (see the module docstring)."""

    def on_epoch_end(self, epoch, logs=None):
        """After each epoch (and its validation); `logs` hold Python floats."""

    def on_train_end(self, logs=None):
        """After the last epoch, or when a callback stopped training."""


class CallbackList:
    """Calls an event on every callback, in order."""

    def __init__(self, callbacks, learner, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be tinyml.callbacks.Callback instances; got "
                                f"{type(callback).__name__}. Subclass Callback and override "
                                "the events you need.")
            callback.set_learner(learner)
            callback.set_params(params)

    def on_train_begin(self, logs):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_batch_end(self, batch, logs):
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_end(self, logs):
        for callback in self.callbacks:
            callback.on_train_end(logs)


class LayerHooks(Callback):
    """Calls ``layer.on_epoch_end(epoch)`` on every layer of the net after each epoch (the
    hook a layer implements to change itself between epochs). ``fit`` puts it first."""

    def on_epoch_end(self, epoch, logs=None):
        net = self.learner.net
        for layer in (net, *net.named_layers().values()):
            layer.on_epoch_end(epoch)


class History(Callback):
    """Keeps each epoch's logs: ``history["loss"]`` is the list of epoch losses."""

    def __init__(self):
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class EpochPrinter(Callback):
    """Prints one line per epoch: ``epoch 3/10  loss 0.1234  accuracy 0.9651  (0.41s)``."""

    def __init__(self, print_fn=None):
        self.print_fn = print_fn or _print_now
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        epochs = self.params["epochs"]
        width = len(str(epochs))
        seconds = time.perf_counter() - self._started
        metrics = "  ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items())
        self.print_fn(f"epoch {epoch + 1:>{width}}/{epochs}  {metrics}  ({seconds:.2f}s)")


def _print_now(line):
    print(line, flush=True)  # a redirected log shows each epoch as it ends
