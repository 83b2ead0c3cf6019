"""mpi4py, imported only when a communicator is made: tinyml imports without it."""

import importlib

EXTRA = ('pip install "tinyml-xp[mpi]" (from a clone: pip install -e ".[mpi]"), which brings '
         "mpi4py and Open MPI's mpirun")


def import_mpi():
    """``mpi4py.MPI`` (initializing MPI on first import), or a RuntimeError saying what to
    install."""
    try:
        return importlib.import_module("mpi4py.MPI")
    except ImportError as error:
        raise RuntimeError(f"tinyml.distributed needs mpi4py and an MPI library, and this "
                           f"Python has none ({error}): {EXTRA}") from None
