"""The GPU transports for CuPy arrays: NCCL through ``cupy.cuda.nccl``, or a CUDA-aware MPI.

NCCL is the GPU path the issue names (as ChainerMN's): the buffers never leave the GPU and the
collective is queued on CuPy's current stream, so the host does not wait for it. Each process
drives one GPU; rank 0 makes NCCL's unique id and MPI hands it to the others (the usual
``ncclCommInitRank`` handshake), once per device.
"""

import importlib

NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32",
              "float64": "NCCL_FLOAT64", "int8": "NCCL_INT8", "uint8": "NCCL_UINT8",
              "int32": "NCCL_INT32", "uint32": "NCCL_UINT32", "int64": "NCCL_INT64",
              "uint64": "NCCL_UINT64"}
"""NumPy dtype name -> the name of NCCL's data type constant in ``cupy.cuda.nccl``."""


def load_nccl():
    """(cupy, cupy.cuda.nccl) or (cupy, None) when this CuPy has no NCCL."""
    cupy = importlib.import_module("cupy")
    try:
        nccl = importlib.import_module("cupy.cuda.nccl")
    except ImportError:
        return cupy, None
    return cupy, (nccl if getattr(nccl, "available", False) else None)


def _pointer(buffer):
    return buffer.data.ptr


class NcclTransport:
    """Sum and broadcast of CuPy buffers with NCCL, in place on the GPU, on the current
    stream."""

    name = "NCCL on GPU buffers (cupy.cuda.nccl)"

    def __init__(self, comm, nccl, cupy):
        self.comm, self.nccl, self.cupy = comm, nccl, cupy
        self._communicators = {}  # GPU number -> NcclCommunicator

    def allreduce_sum(self, buffer):
        communicator = self._communicator(buffer)
        communicator.allReduce(_pointer(buffer), _pointer(buffer), buffer.size,
                               self._type(buffer), self.nccl.NCCL_SUM, self._stream())
        return buffer

    def broadcast(self, buffer, root):
        communicator = self._communicator(buffer)
        communicator.bcast(_pointer(buffer), buffer.size, self._type(buffer), root,
                           self._stream())
        return buffer

    def _communicator(self, buffer):
        """This GPU's NCCL communicator, made on first use (a collective of every rank)."""
        device = buffer.device.id  # a CuPy array's GPU
        found = self._communicators.get(device)
        if found is None:
            rank, size = self.comm.Get_rank(), self.comm.Get_size()
            unique_id = self.nccl.get_unique_id() if rank == 0 else None
            unique_id = self.comm.bcast(unique_id, root=0)
            with self.cupy.cuda.Device(device):
                found = self.nccl.NcclCommunicator(size, unique_id, rank)
            self._communicators[device] = found
        return found

    def _type(self, buffer):
        name = NCCL_TYPES.get(str(buffer.dtype))
        if name is None:
            raise TypeError(f"tinyml.distributed: NCCL has no data type for {buffer.dtype}; "
                            f"use one of {sorted(NCCL_TYPES)}")
        return getattr(self.nccl, name)

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr


class CudaAwareMpiTransport:
    """MPI on CuPy buffers in GPU memory, for an MPI built with CUDA support (mpi4py hands it
    the device pointer). MPI knows no CUDA stream, so the current stream is synchronized
    first: the buffer must be complete before MPI reads it."""

    name = "CUDA-aware MPI on GPU buffers"

    def __init__(self, comm, mpi, cupy):
        self.comm, self.mpi, self.cupy = comm, mpi, cupy

    def allreduce_sum(self, buffer):
        self.cupy.cuda.get_current_stream().synchronize()
        self.comm.Allreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM)
        return buffer

    def broadcast(self, buffer, root):
        self.cupy.cuda.get_current_stream().synchronize()
        self.comm.Bcast(buffer, root=root)
        return buffer
