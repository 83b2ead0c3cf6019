"""A stand-in for MPI in one process: each rank is a thread, the collectives meet at a
threading.Barrier. It speaks the part of mpi4py's API that tinyml.distributed uses, so the
Communicator, the Learner's data-parallel hooks and sync BatchNorm run unchanged on every
backend without mpirun. The real MPI runs are in test_distributed_mpirun.py.

Sums are taken in rank order, so every rank gets the same bits, as with MPI on two ranks.
A rank that stops calling collectives breaks the barrier after TIMEOUT seconds
(threading.BrokenBarrierError) instead of hanging the test.
"""

import contextvars
import functools
import operator
import threading
import types

import numpy as np

import tinyml
from tinyml.distributed import Communicator

TIMEOUT = 60
MPI = types.SimpleNamespace(IN_PLACE=object(), SUM="sum", COMM_TYPE_SHARED="shared")


class ThreadWorld:
    """`size` ranks' shared meeting place."""

    def __init__(self, size):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=TIMEOUT)
        self.slots = [None] * size
        self.calls = []  # (rank, method name, buffer size), in call order

    def communicator(self, rank, **kwargs):
        return Communicator(ThreadComm(self, rank), mpi=MPI, **kwargs)

    def exchange(self, rank, value):
        """Every rank's `value`, in rank order, on every rank."""
        self.slots[rank] = value
        self.barrier.wait()
        values = list(self.slots)
        self.barrier.wait()  # nobody overwrites a slot before everyone has read them
        return values


class ThreadComm:
    """One rank's view of a ThreadWorld, with mpi4py's method names."""

    def __init__(self, world, rank):
        self.world, self.rank = world, rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.world.size

    def Barrier(self):
        self.world.exchange(self.rank, None)

    def Allreduce(self, sendbuf, recvbuf, op):
        assert sendbuf is MPI.IN_PLACE and op == MPI.SUM
        assert isinstance(recvbuf, np.ndarray) and recvbuf.flags.c_contiguous
        self.world.calls.append((self.rank, "Allreduce", recvbuf.size))
        values = self.world.exchange(self.rank, np.array(recvbuf, copy=True))
        recvbuf[...] = functools.reduce(operator.add, values)

    def Bcast(self, buf, root):
        assert isinstance(buf, np.ndarray)
        self.world.calls.append((self.rank, "Bcast", buf.size))
        values = self.world.exchange(self.rank, np.array(buf, copy=True))
        buf[...] = values[root]

    def bcast(self, obj, root):
        return self.world.exchange(self.rank, obj)[root]

    def Abort(self, status):
        raise AssertionError(f"rank {self.rank} aborted with status {status}")


def run_ranks(size, function, *, backend=None, world=None, **kwargs):
    """`function(comm, rank)` on `size` threads, one per rank, each under `backend` (threads
    start without the caller's context), in `world` (a new ThreadWorld by default); their
    results in rank order. An exception on any rank is raised here (the first rank's)."""
    world = ThreadWorld(size) if world is None else world
    results, errors = [None] * size, [None] * size

    def one(rank):
        try:
            with tinyml.use_backend(backend or tinyml.get_backend()):
                results[rank] = function(world.communicator(rank, **kwargs), rank)
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            errors[rank] = error
            world.barrier.abort()  # the others stop waiting for this rank

    threads = [threading.Thread(target=contextvars.Context().run, args=(one, rank))
               for rank in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a rank is still running"
    real = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
    broken = [e for e in errors if e is not None]
    if real or broken:
        raise (real or broken)[0]
    return results
