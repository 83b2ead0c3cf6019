"""The processes of a data-parallel run, and tinyml's three collectives over them.

A :class:`Communicator` wraps an mpi4py communicator. Its collectives take lists of arrays of
any backend, pack them into one buffer per dtype (:mod:`.packing`) and hand each buffer to the
transport of their library (:mod:`.transports`): MPI for host memory, NCCL or a CUDA-aware MPI
for CuPy. Every process must make the same calls in the same order with arrays of the same
shapes and dtypes, as with any MPI collective.
"""

import numbers
import sys

from ..backend import array_namespace, device_of, dtype_kind, host_namespace, namespace_name
from ._mpi import import_mpi
from .current import current_communicator
from .packing import Packed
from .transports import checked_gpu_path, make_transport


def init(comm=None, *, gpu=None):
    """The :class:`Communicator` of this MPI run (``mpi4py.MPI.COMM_WORLD``), or of `comm`.

    Parameters
    ----------
    comm : mpi4py communicator or Communicator, optional
        The processes to train over; default every process ``mpirun`` started. A
        Communicator is returned as it is.
    gpu : "auto", "nccl", "cuda-aware-mpi" or "host", optional
        How CuPy arrays travel (see :mod:`tinyml.distributed.transports`); default
        $TINYML_GPU_COLLECTIVES, else "auto" (NCCL when CuPy has it, else host memory).

    In a run of several processes, an exception that nobody catches on one of them ends every
    process (``MPI_Abort``) after printing its traceback, as ``python -m mpi4py`` does, so the
    others never wait for ever in a collective.

    Raises
    ------
    RuntimeError
        mpi4py is not installed (``pip install "tinyml-xp[mpi]"``).
    """
    if isinstance(comm, Communicator):
        return comm
    mpi = import_mpi()
    communicator = Communicator(mpi.COMM_WORLD if comm is None else comm, gpu=gpu, mpi=mpi)
    if communicator.size > 1:
        _abort_on_uncaught_exception(communicator)
    return communicator


class Communicator:
    """The processes of a data-parallel run (an mpi4py communicator) and their collectives.

    Parameters
    ----------
    comm : mpi4py communicator
        Or any object with its methods ``Get_rank``, ``Get_size``, ``Barrier``,
        ``Allreduce``, ``Bcast``, ``bcast`` and ``Abort``.
    gpu : "auto", "nccl", "cuda-aware-mpi", "host" or None
        How CuPy arrays travel (see :func:`init`).
    mpi : module, optional
        ``mpi4py.MPI`` (for ``IN_PLACE`` and ``SUM``); imported when not given.

    Attributes
    ----------
    rank : int
        This process's number, from 0.
    size : int
        How many processes.
    comm : the mpi4py communicator
    """

    def __init__(self, comm, *, gpu=None, mpi=None):
        self.mpi = import_mpi() if mpi is None else mpi
        self.comm = comm
        self.rank = int(comm.Get_rank())
        self.size = int(comm.Get_size())
        self.gpu = checked_gpu_path(gpu)
        self._transports = {}  # library name -> transport

    def __repr__(self):
        return f"Communicator(rank={self.rank}, size={self.size}, gpu={self.gpu!r})"

    @property
    def local_rank(self):
        """This process's number among those on its host (pick its GPU with it:
        ``tinyml.set_backend("cupy", device=comm.local_rank)``)."""
        local = self.comm.Split_type(self.mpi.COMM_TYPE_SHARED)
        try:
            return int(local.Get_rank())
        finally:
            local.Free()

    def barrier(self):
        """Wait until every process has called it."""
        self.comm.Barrier()

    def path(self, array):
        """Which transport the collectives use for arrays like `array`, in words."""
        return self._transport(array).name

    # ---------------------------------------------------------------- collectives
    def allreduce_sum(self, arrays):
        """The element-wise sum over every process of each array in `arrays` (a list of
        numeric arrays of one backend and device); new arrays, in the same order.
        One collective per dtype among the arrays."""
        arrays, xp = self._checked(arrays, "allreduce_sum", numeric=True)
        if not arrays:
            return []
        packed = Packed(arrays, xp)
        transport = self._transport(arrays[0])
        return packed.unpack([transport.allreduce_sum(buffer) for buffer in packed.buffers])

    def allreduce_mean(self, arrays, *, weight=None):
        r"""The mean over every process of each floating array in `arrays`; new arrays.

        With `weight` (this process's, a number >= 0, such as its sample count) the mean is
        weighted: :math:`\sum_r w_r a_r / \sum_r w_r`, the total weight travelling in the same
        buffer as the arrays (still one collective per dtype). The total must not be 0.
        """
        arrays, xp = self._checked(arrays, "allreduce_mean", floating=True)
        if not arrays:
            return []
        weight = _checked_weight(weight)
        packed = Packed(arrays, xp)
        transport = self._transport(arrays[0])
        if weight is None:
            return packed.unpack([transport.allreduce_sum(buffer) / self.size
                                  for buffer in packed.buffers])
        means = []
        for buffer in packed.buffers:
            own = xp.full((1,), weight, dtype=buffer.dtype, device=device_of(buffer))
            summed = transport.allreduce_sum(xp.concat([buffer * weight, own]))
            means.append(summed[:-1] / summed[-1:])
        return packed.unpack(means)

    def broadcast(self, arrays, root=0):
        """Process `root`'s `arrays` on every process: new arrays of the same shapes and
        dtypes (each process passes arrays of those shapes and dtypes; their values are not
        used except on `root`). Checks first that every process packs the same shapes and
        dtypes, and raises ValueError on every process when one does not."""
        arrays, xp = self._checked(arrays, "broadcast")
        root = self._checked_root(root)
        packed = Packed(arrays, xp) if arrays else None
        mine = packed.signature() if packed else []
        theirs = self.comm.bcast(mine, root=root)
        if self.any(theirs != mine):  # every process raises, not only those that differ
            raise ValueError(f"broadcast: process {root} passes arrays of shapes and dtypes "
                             f"{theirs}, and at least one process passes others (this one, "
                             f"{self.rank}: {mine}); every process must pass the same list "
                             "(build the same net on each)")
        if packed is None:
            return []
        transport = self._transport(arrays[0])
        return packed.unpack([transport.broadcast(buffer, root) for buffer in packed.buffers])

    def sum_values(self, values):
        """The sums over every process of a list of Python numbers (host values: counts,
        flags), as floats."""
        hx = host_namespace()
        host = hx.asarray([float(value) for value in values], dtype=hx.float64)
        self.comm.Allreduce(self.mpi.IN_PLACE, host, op=self.mpi.SUM)
        return [float(value) for value in host]

    def any(self, flag):
        """True on every process when `flag` is true on at least one."""
        return self.sum_values([1.0 if flag else 0.0])[0] > 0

    def abort(self, status=1):
        """End every process of the run now, with exit status `status` (``MPI_Abort``)."""
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(status)

    # ---------------------------------------------------------------- helpers
    def _transport(self, array):
        library = namespace_name(array)
        found = self._transports.get(library)
        if found is None:
            found = self._transports[library] = make_transport(library, self.gpu, self.comm,
                                                               self.mpi)
        return found

    def _checked(self, arrays, who, *, numeric=False, floating=False):
        if not isinstance(arrays, (list, tuple)):
            raise TypeError(f"{who} takes a list of arrays, such as {who}([weights]); got "
                            f"{type(arrays).__name__}")
        arrays = list(arrays)
        if not arrays:
            return arrays, None
        xp = array_namespace(*arrays, names=lambda: [f"array {i}" for i in range(len(arrays))],
                             where=who)
        for index, array in enumerate(arrays):
            kind = dtype_kind(array)
            if (floating and kind != "f") or (numeric and kind not in "iuf"):
                wanted = "floating" if floating else "integer or floating"
                raise TypeError(f"{who}: array {index} has dtype {array.dtype}; it takes "
                                f"{wanted} arrays" + (" (use allreduce_sum for integer "
                                                      "counts)" if floating else ""))
        return arrays, xp

    def _checked_root(self, root):
        if isinstance(root, bool) or not isinstance(root, numbers.Integral):
            raise TypeError(f"broadcast: root must be a process number (an int); got {root!r}")
        if not 0 <= root < self.size:
            raise ValueError(f"broadcast: root must be a process number in [0, {self.size}); "
                             f"got {root}")
        return int(root)


def _checked_weight(weight):
    if weight is None:
        return None
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise TypeError(f"allreduce_mean: weight must be a number >= 0 (this process's share, "
                        f"such as its sample count); got {weight!r}")
    if not 0 <= weight < float("inf"):
        raise ValueError(f"allreduce_mean: weight must be a finite number >= 0; got {weight}")
    return float(weight)


# -------------------------------------------------------------------- module-level calls
def allreduce_sum(arrays, comm=None):
    """:meth:`Communicator.allreduce_sum` over `comm` (default: the current communicator, else
    :func:`init`'s)."""
    return _resolved(comm).allreduce_sum(arrays)


def allreduce_mean(arrays, comm=None, *, weight=None):
    """:meth:`Communicator.allreduce_mean` over `comm` (default: the current communicator,
    else :func:`init`'s)."""
    return _resolved(comm).allreduce_mean(arrays, weight=weight)


def broadcast(arrays, root=0, comm=None):
    """:meth:`Communicator.broadcast` from `root` over `comm` (default: the current
    communicator, else :func:`init`'s)."""
    return _resolved(comm).broadcast(arrays, root)


def _resolved(comm):
    if comm is None:
        comm = current_communicator()
    return init(comm)


_ABORT_HOOK = {"installed": False}


def _abort_on_uncaught_exception(communicator):
    """Make an uncaught exception print its traceback, then abort every process: without it
    the other processes would wait for ever in their next collective."""
    if _ABORT_HOOK["installed"]:
        return
    previous = sys.excepthook

    def print_then_abort(kind, value, traceback):
        previous(kind, value, traceback)
        communicator.abort(1)

    sys.excepthook = print_then_abort
    _ABORT_HOOK["installed"] = True
