"""What ``Learner(..., distributed=comm)`` does differently, as a few calls the loop makes.

The Learner holds a :class:`OneProcess` (every call does what one process does: nothing, or
the value it was given) or a :class:`DataParallel` over a communicator, and calls the same
methods either way, so the loop names no MPI call and has no branch per mode:

- ``start(net)`` when training starts: every process takes rank 0's parameters and buffers.
- ``epoch_order`` / ``batch_share`` / ``steps`` / ``loader_steps``: this process's share of
  every global batch (:mod:`tinyml.distributed.shares`).
- ``average_gradients(parameters, samples)`` between backward and the optimizer step: the
  gradients become their mean over the processes, weighted by each one's share of the
  batch, in one collective per dtype. The optimizer then takes the same step everywhere.
- ``communicator``: what ``RunningTotals.means(across=...)`` sums the epoch's losses, counts
  and metrics over, so logs and History hold the whole run's values on every process.
- ``evaluation_share``: evaluation splits its samples over the processes the same way.
- ``agree(stop)``: True on every process when any asks to stop (a NaN guard on one process
  stops all of them at the same step instead of leaving the others in a collective).
- ``is_chief``, ``verbosity`` and ``here(callbacks)``: only rank 0 shows progress (a line per
  epoch), and runs the callbacks that write files or print (``rank_zero_only``); the others
  run the rest.
- ``active()``: makes the communicator current while training, for ``sync`` BatchNorm.
"""

import contextlib

from ..backend import host_namespace, to_numpy
from .communicator import Communicator, init
from .current import use_communicator
from .shares import global_batches, rank_order, share_bounds


def data_parallel(distributed):
    """The Learner's hooks for its `distributed` argument: None (one process), a
    :class:`Communicator`, or an mpi4py communicator (wrapped by :func:`init`)."""
    if distributed is None:
        return OneProcess()
    if isinstance(distributed, Communicator):
        return DataParallel(distributed)
    if all(callable(getattr(distributed, name, None)) for name in ("Get_rank", "Allreduce")):
        return DataParallel(init(distributed))
    raise TypeError(f"Learner: distributed must be a tinyml.distributed.Communicator (from "
                    f"tinyml.distributed.init()), an mpi4py communicator or None; got "
                    f"{type(distributed).__name__}")


class OneProcess:
    """The hooks of a run of one process: each leaves things as they are."""

    communicator = None
    rank = None  # tinyml.seed keeps the current stream rank
    is_chief = True

    def start(self, net):
        """Nothing to align: the only process holds the parameters."""

    def average_gradients(self, parameters, samples):
        """Nothing to average: the gradients are the whole batch's."""

    def active(self):
        """No communicator to make current (sync BatchNorm computes alone)."""
        return contextlib.nullcontext()

    def verbosity(self, verbose):
        """`verbose` as given: this process shows progress."""
        return verbose

    def agree(self, stop):
        """`stop` itself: no other process to ask."""
        return bool(stop)

    def here(self, callbacks):
        """Every callback runs here."""
        return list(callbacks)

    def steps(self, samples, batch_size):
        """The batches of an epoch, the last one short when `samples` do not divide."""
        return -(-samples // batch_size)

    def loader_steps(self, loader):
        """The loader's own number of batches."""
        return len(loader)

    def epoch_order(self, order, samples, batch_size):
        """`order` as it is: every sample is this process's."""
        return order

    def batch_share(self, x_batch, y_batch):
        """The whole batch."""
        return x_batch, y_batch

    def evaluation_share(self, x, y):
        """All the samples, and no communicator to sum over."""
        return x, y, None

    def describe(self, backend, batch_size=None):
        """None: a run of one process has nothing to announce."""
        return None


class DataParallel:
    """The hooks of one process among ``comm.size`` (see the module docstring)."""

    def __init__(self, comm):
        self.communicator = comm
        self.rank, self.size = comm.rank, comm.size
        self.is_chief = comm.rank == 0

    def __repr__(self):
        return f"DataParallel({self.communicator!r})"

    # ---------------------------------------------------------------- state and gradients
    def start(self, net):
        """Every process takes rank 0's parameters and buffers (in place, one collective per
        dtype): processes seeded differently, or resumed from different files, agree."""
        arrays = list(net.state_dict().values())
        for array, value in zip(arrays, self.communicator.broadcast(arrays, root=0),
                                strict=True):
            array[...] = value

    def average_gradients(self, parameters, samples):
        """Each trainable parameter's gradient becomes the mean over the processes weighted
        by `samples`, this process's share of the batch (so a short last batch split
        unevenly still gives the one-process gradient)."""
        trainable = [parameter for parameter in parameters.values() if parameter.trainable]
        means = self.communicator.allreduce_mean([p.grad for p in trainable], weight=samples)
        for parameter, mean in zip(trainable, means, strict=True):
            parameter.grad[...] = mean

    def active(self):
        """The communicator made current while training (what ``sync`` BatchNorm uses)."""
        return use_communicator(self.communicator)

    def verbosity(self, verbose):
        """``fit``'s `verbose` here: 0 except on rank 0, where 1 becomes 2 (a line per epoch):
        mpirun hands the processes a pseudo-terminal without a width, where a live bar shows
        nothing. A value that is not 0, 1 or 2 is left for ``fit`` to refuse."""
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            return verbose
        return 0 if not self.is_chief else (2 if verbose else 0)

    def agree(self, stop):
        """True on every process when any process asks to stop (one small collective)."""
        return self.communicator.any(stop)

    def here(self, callbacks):
        """The callbacks this process runs: all on rank 0; elsewhere those that are not
        ``rank_zero_only`` (files, printing)."""
        if self.is_chief:
            return list(callbacks)
        return [callback for callback in callbacks
                if not getattr(callback, "rank_zero_only", False)]

    # ---------------------------------------------------------------- the samples
    def steps(self, samples, batch_size):
        """The global batches of an epoch that every process gets a sample of."""
        kept = len(global_batches(samples, batch_size * self.size, self.size))
        if kept == 0:
            raise ValueError(f"fit: {samples} samples cannot be split over {self.size} "
                             "processes: each needs at least one sample per step")
        return kept

    def loader_steps(self, loader):
        """The loader's batches that every process gets a sample of (its batch is the global
        batch here: each process takes a share of it)."""
        full, rest = divmod(len(loader.x), loader.batch_size)
        sizes = [loader.batch_size] * full + ([rest] if rest and not loader.drop_last else [])
        kept = sum(1 for size in sizes if size >= self.size)
        if kept == 0:
            raise ValueError(f"fit: the DataLoader's batches of {loader.batch_size} samples "
                             f"cannot be split over {self.size} processes; with a DataLoader "
                             "its batch is the global batch: give it batch_size >= "
                             f"{self.size}")
        return kept

    def epoch_order(self, order, samples, batch_size):
        """This process's sample indices for the epoch: its shares of the global batches of
        rank 0's `order` (None: the stored order)."""
        if order is None:
            order = host_namespace().arange(samples)
        else:
            (order,) = self.communicator.broadcast([to_numpy(order)], root=0)
        return rank_order(order, batch_size, self.rank, self.size)

    def batch_share(self, x_batch, y_batch):
        """This process's share of a DataLoader's (global) batch, or None when the batch has
        fewer samples than processes (every process drops it)."""
        length = len(x_batch)
        if length < self.size:
            return None
        low, high = share_bounds(length, self.rank, self.size)
        return x_batch[low:high], (None if y_batch is None else y_batch[low:high])

    def evaluation_share(self, x, y):
        """(x, y, communicator): this process's contiguous share of the samples and what to
        sum the results over; all of them and None when there are fewer samples than
        processes (each then evaluates all)."""
        if x.shape[0] < self.size:
            return x, y, None
        low, high = share_bounds(x.shape[0], self.rank, self.size)
        return x[low:high, ...], y[low:high, ...], self.communicator

    def describe(self, backend, batch_size=None):
        """The line rank 0 prints when training starts: the processes, each one's share of a
        step (`batch_size`, when known), and the transport of `backend`'s arrays."""
        shares = "" if batch_size is None else (
            f", {batch_size} samples each per step (global batch {batch_size * self.size})")
        path = self.communicator.path(backend.zeros((1,)))
        return f"data-parallel over {self.size} processes{shares}; collectives: {path}"
