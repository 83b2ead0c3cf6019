"""Data-parallel training over MPI (mpi4py), with NCCL as the GPU path.

tinyml adds no protocol of its own: processes, launch, collectives and failure handling are
MPI's (``mpirun -n 2 python -m mpi4py script.py``). This package gives

- :func:`init`: a :class:`Communicator` (``rank``, ``size``, ``barrier()``) over
  ``mpi4py.MPI.COMM_WORLD`` or a communicator of yours;
- :func:`allreduce_mean`, :func:`allreduce_sum` and :func:`broadcast` on lists of arrays of
  any backend, packed into one buffer per dtype (:mod:`.packing`) and sent by MPI on host
  memory, or by NCCL / a CUDA-aware MPI for CuPy (:mod:`.transports`);
- what ``Learner(..., distributed=comm)`` calls (:mod:`.data_parallel`) and the rule for
  which samples each process trains on (:mod:`.shares`);
- :func:`current_communicator` / :func:`use_communicator`, for ``BatchNorm(..., sync=True)``;
- :func:`from_launcher` and :func:`abort_run`, for the command line.

It imports without mpi4py; :func:`init` then raises a RuntimeError that says what to install
(``pip install "tinyml-xp[mpi]"``).
"""

from .communicator import Communicator, allreduce_mean, allreduce_sum, broadcast, init
from .current import current_communicator, use_communicator
from .data_parallel import DataParallel, OneProcess, data_parallel
from .launch import abort_run, from_launcher, launched_processes
from .shares import global_batches, rank_order, share_bounds
from .transports import GPU_ENV_VAR, GPU_PATHS

__all__ = [
    "GPU_ENV_VAR",
    "GPU_PATHS",
    "Communicator",
    "DataParallel",
    "OneProcess",
    "abort_run",
    "allreduce_mean",
    "allreduce_sum",
    "broadcast",
    "current_communicator",
    "data_parallel",
    "from_launcher",
    "global_batches",
    "init",
    "launched_processes",
    "rank_order",
    "share_bounds",
    "use_communicator",
]
