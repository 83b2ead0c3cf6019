"""Callbacks: what happens around the training loop, as in Keras.

``Learner.fit`` emits five events to each callback, in this order::

    on_train_begin(logs)
        on_epoch_begin(epoch, logs)
            on_batch_end(batch, logs)      once per batch
            on_progress(batch, logs)       at the logging interval, and once at the epoch's end
        on_epoch_end(epoch, logs)
    on_train_end(logs)

``epoch`` counts the learner's epochs from 0 over the whole run (a resumed run goes on from the
checkpoint's), ``batch`` the batches of the epoch from 0. Batch logs hold DEVICE arrays
(``logs["loss"]`` is the batch's 0-d mean loss on the net's device, ``logs["outputs"]`` the
batch's outputs) plus ``logs["size"]``, the batch's sample count, and ``logs["step"]``, the
run's step number (from 1): reading one (``float(logs["loss"])``) makes the host wait for the
device, so a callback that reads should do so every few steps, not every batch.

``on_progress`` gets what the loop read from the device at its logging interval (a few times
a second by default, ``fit(log_every=...)``), as host values: ``losses`` (a list of floats,
one per step since the last progress event), ``steps`` (their run step numbers, from 1),
``batches`` (their batch numbers in the epoch), ``loss`` and ``accuracy`` (the epoch's running
means so far) and ``batches_done``. Epoch logs hold Python floats (``loss``, ``accuracy``,
``val_loss``, ..., ``lr``, ``epoch_time``), read once per epoch. A callback stops training
with ``self.learner.stop_training = True``: the loop stops after the current batch, and still
ends the epoch and the training with their events.

The layers' own epoch hook (:class:`LayerHooks`, calling ``layer.on_epoch_end(epoch)``), the
history (:class:`tinyml.train.history.History`), the NaN guard
(:class:`tinyml.train.nan.TerminateOnNaN`) and the progress display
(:class:`tinyml.train.progress.ProgressBar` or :class:`EpochPrinter`) are callbacks too, which
``fit`` puts first, in that order.
"""

class Callback:
    """Base class: every event does nothing. Override the ones you need.

    Attributes
    ----------
    learner : Learner
        Set by ``fit`` before ``on_train_begin``.
    params : dict
        ``{"epochs": int, "samples": int, "batch_size": int, "verbose": int}``.
    rank_zero_only : bool
        True for a callback that writes files or prints: in a data-parallel ``fit``
        (``Learner(..., distributed=comm)``) only rank 0 runs it. False (the default) runs it
        on every process, as a callback that may stop training must.
    """

    learner = None
    params = None
    rank_zero_only = False

    def set_learner(self, learner):
        """Called by fit before training: the Learner, as ``self.learner``."""
        self.learner = learner

    def set_params(self, params):
        """Called by fit before training: the run's settings (epochs, steps, batch_size,
        verbose, ...), as the dict ``self.params``."""
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        """Before the first epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before each epoch's first batch."""

    def on_batch_end(self, batch, logs=None):
        """After each training step; `logs` hold device arrays (see the module docstring)."""

    def on_progress(self, batch, logs=None):
        """At the logging interval and at each epoch's end; `logs` hold host values read from
        the device (see the module docstring)."""

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
        """Each callback's ``on_train_begin``, in order."""
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs):
        """Each callback's ``on_epoch_begin``, in order."""
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_batch_end(self, batch, logs):
        """Each callback's ``on_batch_end``, in order."""
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)

    def on_progress(self, batch, logs):
        """Each callback's ``on_progress``, in order."""
        for callback in self.callbacks:
            callback.on_progress(batch, logs)

    def on_epoch_end(self, epoch, logs):
        """Each callback's ``on_epoch_end``, in order."""
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_end(self, logs):
        """Each callback's ``on_train_end``, in order."""
        for callback in self.callbacks:
            callback.on_train_end(logs)


class LayerHooks(Callback):
    """Calls ``layer.on_epoch_end(epoch)`` on every layer of the net after each epoch (the
    hook a layer implements to change itself between epochs). ``fit`` puts it first."""

    def on_epoch_end(self, epoch, logs=None):
        net = self.learner.net
        for layer in (net, *net.named_layers().values()):
            layer.on_epoch_end(epoch)


class EpochPrinter(Callback):
    """Prints one line per epoch: ``epoch  3/10  loss 0.1234  accuracy 0.9651  lr 0.05
    (0.41s)``."""

    def __init__(self, print_fn=None):
        self.print_fn = print_fn or _print_now

    def on_epoch_end(self, epoch, logs=None):
        epochs = self.params["epochs"]
        width = len(str(epochs))
        self.print_fn(f"epoch {epoch + 1:>{width}}/{epochs}  {format_logs(logs or {})}")


def format_logs(logs):
    """``loss 0.1234  accuracy 0.9651  lr 0.05  (0.41s)`` for a dict of floats."""
    parts = [f"{key} {value:.4f}" for key, value in logs.items()
             if key not in ("lr", "epoch_time")]
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.3g}")
    if "epoch_time" in logs:
        parts.append(f"({logs['epoch_time']:.2f}s)")
    return "  ".join(parts)


def _print_now(line):
    print(line, flush=True)  # a redirected log shows each epoch as it ends
