"""Learner: the training loop (batches, epochs, shuffling, validation), emitting events."""

from ..backend import resolve_backend
from ..backend import seed as seed_backends
from ..core import check_positive_int, no_grad
from ..data.batches import batches, prepare
from ..losses import find_fusion
from .callbacks import CallbackList, EpochPrinter, History, LayerHooks
from .checks import check_learner_arguments, checked_data
from .totals import RunningTotals


class Learner:
    """Trains a Net with a loss and an optimizer, batch by batch.

    Parameters
    ----------
    net : Net
    loss : callable
        ``loss(predicted, ground_truth) -> (loss, gradient)``, as in :mod:`tinyml.losses`.
    optimizer : :class:`tinyml.optim.Optimizer`, or any object with ``step(parameters)``
        ``step`` receives ``net.named_parameters()``: {dotted name: Parameter}.
    batch_size : int > 0
    seed : int, optional
        Reseeds tinyml's generators now, so shuffling and dropout repeat from run to run.
    backend : str or Backend, optional
        Move the net there first. A name keeps the net's dtype (and its device, for the same
        library); pass a Backend (``tinyml.backend.make_backend(...)``) to choose both.

    Notes
    -----
    Each step runs forward, loss, backward and update on the net's backend. Losses and
    correct counts are summed on the device and read back once per epoch, so a GPU is never
    made to wait inside an epoch. When the net's last layer and the loss form a row of the
    fusion table (:mod:`tinyml.losses.fusions`; Softmax + ``cross_entropy`` is the first), the
    step runs the net without that layer and computes the row's fused loss on what reaches it:
    the same loss, with a stable gradient (``(p - y) / N`` at the logits instead of a division
    by a probability).
    """

    def __init__(self, net, loss, optimizer, batch_size=32, seed=None, backend=None):
        check_learner_arguments(net, loss, optimizer)
        self.net = net
        self.loss = loss
        self.optimizer = optimizer
        self.batch_size = check_positive_int("Learner", "batch_size", batch_size)
        if backend is not None:
            net.to(_keeping_dtype_and_device(net, backend))
        if seed is not None:
            seed_backends(seed)
        self.history = {}
        self.stop_training = False

    # ---------------------------------------------------------------- one step
    @property
    def fusion(self):
        """The fusion-table row the step uses for (the net's last layer, the loss), or None."""
        return find_fusion(self.net.layers[-1], self.loss) if self.net.layers else None

    @property
    def fused(self):
        """True when the step fuses the net's last layer with the loss."""
        return self.fusion is not None

    def _forward_loss(self, x, y, fusion):
        """(outputs, loss, dL/d(outputs)); outputs are the last layer's inputs when fused."""
        if fusion is not None:
            outputs = self.net.forward(x, skip_last=True)
            loss, gradient = fusion.fused_loss(outputs, y)
        else:
            outputs = self.net.forward(x)
            loss, gradient = self.loss(outputs, y)
        return outputs, loss, gradient

    def train_step(self, x, y, plan=None):
        """One update on a batch already on the net's backend; returns (outputs, loss).

        Outputs are the last layer's inputs when the step is fused (logits for Softmax, with
        the same argmax). `plan` is what ``fit`` looked up once per epoch (the net's layers
        and parameters and the fusion row); without it the step looks them up itself.
        """
        plan = _StepPlan(self) if plan is None else plan
        for layer in plan.layers:
            layer.clear_records(recursive=False)
        for parameter in plan.parameters.values():
            parameter.zero_grad()
        outputs, loss, gradient = self._forward_loss(x, y, plan.fusion)
        self.net.backward(gradient, input_gradient=False, skip_last=plan.fusion is not None)
        self.optimizer.step(plan.parameters)
        return outputs, loss

    # ---------------------------------------------------------------- epochs
    def fit(self, x, y, epochs, validation_data=None, shuffle=True, verbose=1, callbacks=None):
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
            0 prints nothing; 1 prints one line per epoch (the :class:`EpochPrinter` callback).
        callbacks : list of :class:`tinyml.callbacks.Callback`, optional
            Called at each event (see :mod:`tinyml.callbacks`), after the history and the
            printer; any of them may set ``learner.stop_training = True``.

        At each epoch's end, before ``on_epoch_end``, an optimizer that has ``report_loss``
        (every :class:`tinyml.optim.Optimizer`) is given the epoch's mean training loss as a
        Python float, the ``cur_loss`` its scheduler sees from then on (ReduceOnPlateau, King).

        Returns
        -------
        history : dict of lists of Python floats
            ``loss`` and, for class labels, ``accuracy``; ``val_loss`` and ``val_accuracy``
            with validation data. Also kept, accumulated over calls, in ``self.history``.
        """
        epochs = check_positive_int("fit", "epochs", epochs)
        backend = self.net.backend
        x, y, classify = self._checked(x, y, backend, "fit")
        validation = None
        if validation_data is not None:
            validation = self._checked(*_pair(validation_data), backend, "fit (validation_data)")
        history = History()
        printer = [EpochPrinter()] if verbose else []
        events = CallbackList([LayerHooks(), history, *printer, *(callbacks or ())], self,
                              {"epochs": epochs, "samples": x.shape[0],
                               "batch_size": self.batch_size, "verbose": verbose})
        self.stop_training = False
        logs = {}
        events.on_train_begin(logs)
        for epoch in range(epochs):
            events.on_epoch_begin(epoch, {})
            self.net.train()
            order = backend.permutation(x.shape[0]) if shuffle else None
            totals = RunningTotals(classify)
            plan = _StepPlan(self)  # once per epoch: callbacks may change the net between
            for batch, (x_batch, y_batch) in enumerate(
                    batches(x, y, self.batch_size, backend, order)):
                outputs, loss = self.train_step(x_batch, y_batch, plan)
                totals.add(outputs, loss, y_batch)
                events.on_batch_end(batch, {"loss": loss, "outputs": outputs,
                                            "size": y_batch.shape[0]})
                if self.stop_training:
                    break
            logs = totals.means()
            if validation is not None:
                scores = self._evaluate(*validation, backend)
                logs.update({f"val_{key}": value for key, value in scores.items()})
            if callable(getattr(self.optimizer, "report_loss", None)):
                self.optimizer.report_loss(logs["loss"])
            events.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        events.on_train_end(logs)
        for key, values in history.history.items():
            self.history.setdefault(key, []).extend(values)
        return history.history

    def evaluate(self, x, y):
        """{"loss": float, "accuracy": float} over (x, y) in eval mode (accuracy for class
        labels only)."""
        backend = self.net.backend
        x, y, classify = self._checked(x, y, backend, "evaluate")
        return self._evaluate(x, y, classify, backend)

    def _evaluate(self, x, y, classify, backend):
        """evaluate() on data that _checked has already prepared."""
        totals = RunningTotals(classify)
        fusion = self.fusion
        with _inference(self.net):
            for x_batch, y_batch in batches(x, y, self.batch_size, backend):
                outputs, loss, _ = self._forward_loss(x_batch, y_batch, fusion)
                totals.add(outputs, loss, y_batch)
        return totals.means()

    def predict(self, x):
        """The net's outputs for `x`, in eval mode, as one array on the net's backend."""
        backend = self.net.backend
        x = prepare(x, backend, "predict: x", inputs=True)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError("predict: x is empty; give at least one sample")
        self.net.output_shape(tuple(x.shape))
        with _inference(self.net):
            parts = [self.net.forward(x_batch)
                     for x_batch, _ in batches(x, None, self.batch_size, backend)]
        return parts[0] if len(parts) == 1 else backend.xp.concat(parts, axis=0)

    def _checked(self, x, y, backend, who):
        """Data prepared for batching and checked against the net and the loss, before any
        compute (see :mod:`tinyml.train.checks`); classify says whether accuracy counts."""
        return checked_data(self.net, self.loss, x, y, backend, who)


def _keeping_dtype_and_device(net, backend):
    """The Backend that `backend` names for `net`: a name keeps the net's dtype, and its device
    when the library is the same (asking for "numpy" must not cast a float64 net to float32);
    a Backend object is taken as given."""
    if isinstance(backend, str):
        current = net.backend
        same_library = backend.strip().lower() == current.name
        return resolve_backend(backend, device=current.device if same_library else None,
                               dtype=current.dtype_name)
    return resolve_backend(backend)


class _StepPlan:
    """What every step of an epoch needs from the net, walked once instead of per step."""

    def __init__(self, learner):
        net = learner.net
        self.layers = [net, *net.named_layers().values()]
        self.parameters = net.named_parameters()
        self.fusion = learner.fusion


class _inference:
    """Eval mode and no records for a block, then each layer's own mode back."""

    def __init__(self, net):
        self.net = net

    def __enter__(self):
        layers = [self.net, *self.net.named_layers().values()]
        self.modes = [(layer, layer.training) for layer in layers]
        self.net.eval()
        self.no_grad = no_grad()
        self.no_grad.__enter__()

    def __exit__(self, *exc):
        self.no_grad.__exit__(*exc)
        for layer, mode in self.modes:
            layer.training = mode


def _pair(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (x_val, y_val)")
    return validation_data
