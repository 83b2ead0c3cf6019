"""Noticing a launch by ``mpirun`` (or another MPI launcher), for the command line."""

import os
import sys

from .communicator import init

LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE")
"""Where MPI launchers put the number of processes: Open MPI; MPICH, Intel MPI and Slurm's
PMI; MVAPICH."""


def launched_processes(environ=None):
    """How many processes the MPI launcher started, from its environment variables; None when
    this process was not started by one."""
    environ = os.environ if environ is None else environ
    for name in LAUNCHER_VARIABLES:
        value = environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def from_launcher(*, gpu=None):
    """:func:`init`'s Communicator when a launcher started several processes, else None
    (one process: nothing to do, and mpi4py is not needed)."""
    processes = launched_processes()
    if processes is None or processes < 2:
        return None
    return init(gpu=gpu)


def abort_run(status):
    """After an error on this process of a run of several, end every process now with
    `status` (they would otherwise wait for ever in their next collective). Does nothing
    in one process, or where MPI was never started."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is None or not mpi.Is_initialized() or mpi.Is_finalized():
        return
    if mpi.COMM_WORLD.Get_size() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        mpi.COMM_WORLD.Abort(status)
