"""The callback contract: :class:`Callback` (the events, listed in
:mod:`tinyml.callbacks`), :class:`CallbackList` (how ``fit`` calls them) and
:class:`LayerHooks` (the layers' own epoch hook)."""

from ..core.params import check_arguments


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

    #: ``{argument: rule}`` (rules of :mod:`tinyml.core.params`) of the constructor's
    #: arguments, which its constructor checks with ``self._checked(argument=value, ...)``
    declared_arguments = {}

    def _checked(self, **values):
        """{argument: value} of `values` checked by :attr:`declared_arguments`."""
        return check_arguments(type(self).__name__, self.declared_arguments, values)

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
