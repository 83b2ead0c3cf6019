"""Learner: the training loop (batches, epochs, shuffling, validation), emitting events."""

import threading
import time

from ..backend import resolve_backend
from ..backend import seed as seed_backends
from ..backend.ops import zero_arrays
from ..callbacks import CallbackList, History, LayerHooks, TerminateOnNaN
from ..callbacks.progress import progress_callbacks
from ..core import check_positive_int, counted, no_grad, skip_index_checks
from ..core.params import Integer, check_arguments
from ..core.structure import structure_version
from ..data.batches import batches
from ..distributed import data_parallel
from ..losses import find_fusion
from ..metrics import make_metric
from .checkpoint import load_checkpoint, save_checkpoint
from .checks import (
    check_learner_arguments,
    checked_data,
    index_layer,
    prepare_inputs,
    warn_if_unscaled,
)
from .exclusive import exclusive, fitting
from .fit_data import TrainingData
from .interrupt import StepGuard
from .totals import ProgressLog, RunningTotals


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
    metrics : list of str, optional
        More to log for class labels, beside ``loss`` and ``accuracy``: ``"top_5"`` (any k),
        ``"precision"``, ``"recall"``, ``"f1"`` (macro); for training and validation alike
        (``val_f1``). Summed on the device per batch, read once per epoch
        (:mod:`tinyml.metrics.streaming`).
    distributed : :class:`tinyml.distributed.Communicator`, optional
        Train data-parallel over its processes (see "More than one process" below).

    Notes
    -----
    Each step runs forward, loss, backward and update on the net's backend. Losses and
    correct counts are summed on the device and read back once per epoch, so a GPU is never
    made to wait inside an epoch. When the net's last layer and the loss form a row of the
    fusion table (:mod:`tinyml.losses.fusions`; Softmax + ``cross_entropy`` is the first), the
    step runs the net without that layer and computes the row's fused loss on what reaches it:
    the same loss, with a stable gradient (``(p - y) / N`` at the logits instead of a division
    by a probability).

    More than one process: with ``distributed=comm`` (``tinyml.distributed.init()``, every
    process of an ``mpirun`` running the same script) ``batch_size`` is per process, and
    each global batch of ``batch_size x comm.size`` samples holds the samples, in the order,
    of one process with that batch size and the same seed (rank 0's shuffle; a last batch
    split unevenly weights each share by its size, one with fewer samples than processes is
    dropped: :mod:`tinyml.distributed.shares`). ``fit`` starts from rank 0's parameters and
    buffers, all-reduces the mean gradient before every optimizer step (one collective per
    dtype), and reduces losses and metrics over the processes, so History and evaluation are
    the whole run's on every process. Only rank 0 prints and shows progress (a line per
    epoch, as ``verbose=2``) and runs the callbacks that write files (``rank_zero_only``);
    ``save_checkpoint`` writes on rank 0 only. ``seed`` seeds each process's own random
    streams (``tinyml.seed(seed, rank=comm.rank)``), so dropout masks differ between
    processes. With a DataLoader its batch is the global batch, split over the processes.
    ``evaluate`` is a collective then: every process calls it. BatchNorm keeps statistics
    per process unless built with ``sync=True``.
    """

    #: ``{argument: rule}`` of the constructor's plain options (the net, loss and optimizer
    #: are checked together, by what they are; seed by ``tinyml.seed``; metrics by name)
    declared_arguments = {"batch_size": Integer(1)}

    def __init__(self, net, loss, optimizer, batch_size=32, seed=None, backend=None,
                 metrics=None, distributed=None):
        check_learner_arguments(net, loss, optimizer)
        self.net = net
        self.loss = loss
        self.optimizer = optimizer
        self.batch_size = check_arguments("Learner", self.declared_arguments,
                                          {"batch_size": batch_size})["batch_size"]
        if backend is not None:
            net.to(_keeping_dtype_and_device(net, backend))
        self.parallel = data_parallel(distributed)  # tinyml.distributed's hooks
        if seed is not None:
            seed_backends(seed, rank=self.parallel.rank)
        self.metrics = _metric_names(metrics)
        self.history = History()
        self.epoch = 0  # epochs done over the whole run (a checkpoint's, after a resume)
        self.step = 0  # optimizer steps done, likewise
        self.stop_training = False
        self.stop_reason = None
        self._busy = threading.RLock()  # one thread at a time (tinyml.train.exclusive)
        self._fitting = False

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

    @exclusive("train_step")
    def train_step(self, x, y, plan=None):
        """One update on a batch already on the net's backend; returns (outputs, loss).

        Outputs are the last layer's inputs when the step is fused (logits for Softmax, with
        the same argmax). `plan` is what ``fit`` looked up once per epoch (the net's layers
        and parameters and the fusion row); without it the step looks them up itself.
        """
        plan = self._step_plan() if plan is None else plan
        for layer in plan.layers:
            layer.clear_records(recursive=False)
        plan.zero_gradients()
        outputs, loss, gradient = self._forward_loss(x, y, plan.fusion)
        self.net.backward(gradient, input_gradient=False, skip_last=plan.fusion is not None)
        self.parallel.average_gradients(plan.parameters, samples=x.shape[0])
        self.optimizer.step(plan.parameters)
        return outputs, loss

    def _step_plan(self):
        """The walk of the net a step needs, kept while nothing it depends on changes (the
        net, its layers, anything a layer holds, the loss): a walk costs about as much as a
        small net's whole forward."""
        cached = vars(self).get("_cached_plan")
        if cached is None or not cached.fits(self):
            cached = self._cached_plan = _StepPlan(self)
        return cached

    # ---------------------------------------------------------------- epochs
    @exclusive("fit", not_during_fit=True)
    @fitting
    def fit(self, x, y=None, epochs=1, validation_data=None, shuffle=None, verbose=1,
            callbacks=None, *, validation_split=0.0, resume_from=None, check_inputs=None,
            log_every=None):
        """Train for `epochs` passes over (x, y).

        Parameters
        ----------
        x : array (N, ...), or a :class:`tinyml.data.DataLoader`
            Host NumPy data (each batch is moved to the net's backend) or an array already on
            the net's backend. A DataLoader brings its own labels, batches, shuffling and
            transform (`y`, `shuffle` and the Learner's batch_size are not used then); its
            host batches are moved to the backend one by one.
        y : array (N,) of class indices, or (N, ...) targets
        epochs : int > 0
            How many epochs to train; with `resume_from`, the epoch to train up to, counted
            from the start of the run (a 2-epoch checkpoint with ``epochs=4`` trains 2 more,
            as Keras' ``initial_epoch``).
        validation_data : (x_val, y_val), optional
            Evaluated after every epoch.
        shuffle : bool, optional
            Reshuffle the samples every epoch, with the backend's seeded generator (True when
            left out). A DataLoader shuffles as it was built: a `shuffle` that disagrees with
            it is a ValueError rather than ignored.
        verbose : 0, 1 or 2
            0 shows nothing; 1 a live progress bar when standard output is a terminal, else
            one line per epoch; 2 one line per epoch (:mod:`tinyml.callbacks.progress`).
        callbacks : list of :class:`tinyml.callbacks.Callback`, optional
            Called at each event (see :mod:`tinyml.callbacks`), after the layers' hooks, the
            histories, the NaN guard and the display; any may set ``learner.stop_training``.
        validation_split : float in (0, 1), optional
            Hold out the LAST fraction of (x, y) (before shuffling, as Keras) as validation
            data. Not with `validation_data` or a DataLoader.
        resume_from : path, optional
            A checkpoint from :meth:`save_checkpoint`: weights, optimizer, random streams,
            epoch, step and history are restored first, so training goes on exactly where the
            checkpoint was written.
        check_inputs : bool, optional
            Refuse NaN or infinite values in x (and float targets) before training, with a
            ValueError naming the first. Default: on for host data, off for data already on a
            device (checking it would wait for the device).
        log_every : int > 0, optional
            Read the steps' losses from the device every `log_every` steps (for the progress
            display and the NaN check); default: a few times a second (every 0.25 s).

        At each epoch's end, before ``on_epoch_end``, an optimizer that has ``report_loss``
        (every :class:`tinyml.optim.Optimizer`) is given the epoch's mean training loss as a
        Python float, the ``cur_loss`` its scheduler sees from then on (ReduceOnPlateau, King).

        A NaN or infinite loss stops training within one logging interval, with a
        RuntimeWarning naming the epoch, the step and the last finite loss
        (:class:`tinyml.callbacks.TerminateOnNaN`; pass your own to change how). Ctrl-C stops
        at a step boundary (a step is never half applied): the weights are those of the last
        completed step and ``fit`` returns the history of the completed epochs, with
        ``history.interrupted`` True.

        Returns
        -------
        history : :class:`tinyml.callbacks.History`
            A dict of lists of Python floats, one entry per epoch: ``loss`` and, for class
            labels, ``accuracy``; ``val_loss`` and ``val_accuracy`` with validation data;
            ``lr`` and ``epoch_time``. The run's whole history (over calls and resumes) is
            ``self.history``.
        """
        epochs = check_positive_int("fit", "epochs", epochs)
        log_every = None if log_every is None else check_positive_int("fit", "log_every",
                                                                      log_every)
        verbose = self.parallel.verbosity(verbose)  # rank 0 alone shows progress
        display = progress_callbacks(verbose)
        # The data first: a net that has not learnt its input shape learns it from x, so the
        # checkpoint has parameters to load into.
        data = TrainingData(self, x, y, validation_data, validation_split, check_inputs,
                            shuffle)
        if resume_from is not None:
            load_checkpoint(self, resume_from)
        last = epochs if resume_from is not None else self.epoch + epochs
        history = History()
        user = self.parallel.here(callbacks or ())
        guard = [] if any(isinstance(c, TerminateOnNaN) for c in user) else [TerminateOnNaN()]
        events = CallbackList([LayerHooks(), self.history, history, *guard, *display, *user],
                              self, {"epochs": last, "initial_epoch": self.epoch,
                                     "steps": data.steps, "samples": data.samples,
                                     "batch_size": data.batch_size, "verbose": verbose})
        if last <= self.epoch:
            if verbose:
                print(f"fit: the run has done {counted(self.epoch, 'epoch')} already "
                      f"(epochs={epochs}); nothing to train. Ask for more epochs to go on.",
                      flush=True)
            return history
        self.stop_training, self.stop_reason = False, None
        logs = {}
        self.parallel.start(self.net)
        announcement = self.parallel.describe(
            self.net.backend, None if data.loader is not None else data.batch_size)
        if verbose and announcement:  # which processes and transport, on rank 0
            print(announcement, flush=True)
        with StepGuard() as steps, self.parallel.active():
            try:
                events.on_train_begin(logs)
                for epoch in range(self.epoch, last):
                    logs = self._train_epoch(epoch, data, events, steps, shuffle, log_every)
                    if self.parallel.agree(self.stop_training):
                        break
            except KeyboardInterrupt:
                history.interrupted = True
                self._interrupted(verbose)
            events.on_train_end(logs)
        history.stop_reason = self.stop_reason
        return history

    def _train_epoch(self, epoch, data, events, steps, shuffle, log_every):
        """One pass over the training data, its validation and its events; the epoch's logs."""
        started = time.perf_counter()
        events.on_epoch_begin(epoch, {})
        self.net.train()
        totals = RunningTotals(data.classify, self.metrics)
        progress = ProgressLog(log_every)
        plan = _StepPlan(self)  # once per epoch: callbacks may change the net between
        for batch, (x_batch, y_batch) in enumerate(data.batches(epoch, shuffle)):
            steps.begin_step()
            with skip_index_checks():  # fit checked every index once, before the first step
                outputs, loss = self.train_step(x_batch, y_batch, plan)
            self.step += 1
            steps.end_step()  # a Ctrl-C during the step is raised here, with the step whole
            totals.add(outputs, loss, y_batch)
            progress.add(loss, self.step, batch)
            events.on_batch_end(batch, {"loss": loss, "outputs": outputs,
                                        "size": y_batch.shape[0], "step": self.step})
            if progress.due():
                events.on_progress(batch, progress.read(totals))
            if self.parallel.agree(self.stop_training):
                break
        final = progress.read(totals)  # every step's loss is read (and checked) by the end
        events.on_progress(batch, final)
        logs = totals.means(final["sums"], across=self.parallel.communicator)
        if data.validation is not None:
            scores = self._evaluate(*data.validation, self.net.backend)
            logs.update({f"val_{key}": value for key, value in scores.items()})
        if callable(getattr(self.optimizer, "report_loss", None)):
            self.optimizer.report_loss(logs["loss"])
        if getattr(self.optimizer, "lr", None) is not None:
            logs["lr"] = float(self.optimizer.lr)
        logs["epoch_time"] = time.perf_counter() - started
        self.epoch = epoch + 1
        events.on_epoch_end(epoch, logs)
        return logs

    def _interrupted(self, verbose):
        """After Ctrl-C: no records left behind; say what was kept."""
        self.net.clear_records()
        self.stop_reason = (f"interrupted (Ctrl-C) during epoch {self.epoch + 1}: the weights "
                            f"are those of step {self.step}, the last completed one; the "
                            f"history holds {counted(self.epoch, 'completed epoch')}")
        if verbose:
            print(f"\n{self.stop_reason}", flush=True)

    # ---------------------------------------------------------------- checkpoints
    @exclusive("save_checkpoint")
    def save_checkpoint(self, path):
        """Write the whole training state to `path` (.npz, atomically): weights, buffers,
        optimizer state, epoch and step, the random streams and the history. ``fit(...,
        resume_from=path)`` goes on from it; see :mod:`tinyml.train.checkpoint`. In a
        data-parallel run only rank 0 writes (every process holds the same state)."""
        if self.parallel.is_chief:
            save_checkpoint(self, path)

    @exclusive("load_checkpoint", not_during_fit=True)
    def load_checkpoint(self, path):
        """Take the training state :meth:`save_checkpoint` wrote (all of it, or nothing). A
        net not built yet is first built for the input shape the checkpoint records. Refused
        (RuntimeError) while ``fit`` runs: pass ``resume_from`` to fit instead."""
        load_checkpoint(self, path)

    @exclusive("evaluate")
    def evaluate(self, x, y):
        """{"loss": float, "accuracy": float} over (x, y) in eval mode (accuracy for class
        labels only)."""
        backend = self.net.backend
        x, y, classify = self._checked(x, y, backend, "evaluate")
        return self._evaluate(x, y, classify, backend)

    def _evaluate(self, x, y, classify, backend):
        """evaluate() on data that _checked has already prepared (this process's share of it,
        summed over the processes, in a data-parallel run)."""
        totals = RunningTotals(classify, self.metrics)
        fusion = self.fusion
        x, y, across = self.parallel.evaluation_share(x, y)
        with _inference(self.net):
            for x_batch, y_batch in batches(x, y, self.batch_size, backend):
                outputs, loss, _ = self._forward_loss(x_batch, y_batch, fusion)
                totals.add(outputs, loss, y_batch)
        return totals.means(across=across)

    @exclusive("predict")
    def predict(self, x):
        """The net's outputs for `x`, in eval mode, as one array on the net's backend."""
        backend = self.net.backend
        if index_layer(self.net) is None:  # token ids are not pixels
            warn_if_unscaled(x, "predict")
        x = prepare_inputs(self.net, x, backend, "predict")
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError("predict: x is empty; give at least one sample")
        declared = self.net.declared_input_shape()
        if declared is not None and tuple(x.shape) == tuple(declared[1:]):
            raise ValueError(f"predict: x has shape {tuple(x.shape)}, one sample for this net: "
                             "the batch axis is missing. Pass x[None] (or x[0:1]).")
        if not self.net.built:  # untrained, but the layers learn their sizes from x as in fit
            self.net.build(tuple(x.shape[1:]))
        self.net.output_shape(tuple(x.shape))
        with _inference(self.net):
            parts = [self.net.forward(x_batch)
                     for x_batch, _ in batches(x, None, self.batch_size, backend)]
        return parts[0] if len(parts) == 1 else backend.xp.concat(parts, axis=0)

    def _checked(self, x, y, backend, who):
        """Data prepared for batching and checked against the net and the loss, before any
        compute (see :mod:`tinyml.train.checks`); classify says whether accuracy counts."""
        return checked_data(self.net, self.loss, x, y, backend, who)


def _metric_names(metrics):
    """The metric names, each checked by building it once (an unknown name fails here)."""
    if metrics is None:
        return ()
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a list of names, such as [{metrics!r}]; got the "
                        f"string {metrics!r}")
    names = tuple(metrics)
    for name in names:
        make_metric(name)
    if len(set(names)) != len(names):
        raise ValueError(f"metrics names a metric twice: {list(names)}")
    return tuple(name for name in names if name != "accuracy")  # always logged for classes


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
        self.key = self._key(learner)
        self.layers = [net, *net.named_layers().values()]
        self.parameters = net.named_parameters()
        self.fusion = learner.fusion

    def zero_gradients(self):
        """Zero every parameter's gradient: those that still fit their data in one
        ``zero_arrays`` (one call on the torch backend), the others anew."""
        fitting, kind = [], None
        for parameter in self.parameters.values():
            grad, data = parameter.grad, parameter.data
            kind = type(data) if kind is None else kind  # one library in the one call
            if type(grad) is kind and type(data) is kind and grad.shape == data.shape \
                    and grad.dtype == data.dtype:
                fitting.append(grad)
            else:  # none yet, or new data of another shape, dtype or library
                parameter.zero_grad()
        if fitting:
            zero_arrays(fitting)

    @staticmethod
    def _key(learner):
        return (structure_version(), learner.net, tuple(learner.net.layers), learner.loss)

    def fits(self, learner):
        """True while the net and the loss are those this plan walked, unchanged."""
        version, net, layers, loss = self.key
        return version == structure_version() and net is learner.net and \
            loss is learner.loss and layers == tuple(learner.net.layers)


class _inference:
    """Eval mode, no records and no per-batch index checks (the data was checked once) for a
    block, then each layer's own mode back."""

    def __init__(self, net):
        self.net = net

    def __enter__(self):
        layers = [self.net, *self.net.named_layers().values()]
        self.modes = [(layer, layer.training) for layer in layers]
        self.net.eval()
        self.no_grad, self.trusted = no_grad(), skip_index_checks()
        self.no_grad.__enter__()
        self.trusted.__enter__()

    def __exit__(self, *exc):
        self.trusted.__exit__(*exc)
        self.no_grad.__exit__(*exc)
        for layer, mode in self.modes:
            layer.training = mode
