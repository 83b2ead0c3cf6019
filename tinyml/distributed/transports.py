"""How a packed buffer reaches the other processes: MPI on host memory, or NCCL or a
CUDA-aware MPI on GPU memory. tinyml adds no protocol: each transport is one library call.

===================  ============================================================
arrays               transport
===================  ============================================================
NumPy                MPI on the buffer itself (:class:`HostTransport`)
CuPy                 ``gpu="auto"``: NCCL (``cupy.cuda.nccl``) when CuPy has it, else
                     through host memory; ``"nccl"``: NCCL or an error;
                     ``"cuda-aware-mpi"``: MPI on the GPU buffer; ``"host"``: through
                     host memory
anything else        MPI through host memory (PyTorch on the CPU, array_api_strict)
===================  ============================================================
"""

import os

from ..backend import array_namespace, device_of, host_copy
from .nccl import CudaAwareMpiTransport, NcclTransport, load_nccl

GPU_PATHS = ("auto", "nccl", "cuda-aware-mpi", "host")
GPU_ENV_VAR = "TINYML_GPU_COLLECTIVES"
"""Names the GPU path when ``init`` is not told one (``gpu=None``): one of ``GPU_PATHS``."""


def checked_gpu_path(gpu):
    """`gpu` (or $TINYML_GPU_COLLECTIVES, or "auto" when neither says) checked against
    ``GPU_PATHS``."""
    source = "gpu"
    if gpu is None:
        gpu, source = os.environ.get(GPU_ENV_VAR, "").strip() or "auto", GPU_ENV_VAR
    if not isinstance(gpu, str):
        raise TypeError(f"tinyml.distributed: gpu must be one of {list(GPU_PATHS)}; got "
                        f"{gpu!r}")
    if gpu not in GPU_PATHS:
        raise ValueError(f"tinyml.distributed: {source} must be one of {list(GPU_PATHS)}; got "
                         f"{gpu!r}. 'auto' uses NCCL for CuPy arrays when CuPy has it.")
    return gpu


def make_transport(library, gpu, comm, mpi):
    """The transport for arrays of `library` ("numpy", "cupy", ...) under the `gpu` choice."""
    if library == "numpy":
        return HostTransport(comm, mpi, staged=False)
    if library != "cupy" or gpu == "host":
        return HostTransport(comm, mpi, staged=True)
    cupy, nccl = load_nccl()
    if gpu == "cuda-aware-mpi":
        return CudaAwareMpiTransport(comm, mpi, cupy)
    if nccl is not None:
        return NcclTransport(comm, nccl, cupy)
    if gpu == "nccl":
        raise RuntimeError("tinyml.distributed: gpu='nccl', but this CuPy has no NCCL "
                           "(cupy.cuda.nccl is not available): install NCCL for your CUDA "
                           "(pip install nvidia-nccl-cu12), or choose gpu='cuda-aware-mpi' "
                           "(an MPI built with CUDA) or gpu='host' (through host memory)")
    return HostTransport(comm, mpi, staged=True)


class HostTransport:
    """MPI on host memory. NumPy buffers go to MPI as they are; other libraries' buffers are
    copied to the host, reduced there, and copied back to their device (``staged``)."""

    def __init__(self, comm, mpi, *, staged):
        self.comm, self.mpi, self.staged = comm, mpi, staged
        self.name = ("MPI through host memory (each buffer copied to the host and back)"
                     if staged else "MPI on host buffers")

    def allreduce_sum(self, buffer):
        host = self._host(buffer)
        self.comm.Allreduce(self.mpi.IN_PLACE, host, op=self.mpi.SUM)
        return self._back(host, buffer)

    def broadcast(self, buffer, root):
        host = self._host(buffer)
        self.comm.Bcast(host, root=root)
        return self._back(host, buffer)

    def _host(self, buffer):
        if not self.staged:
            return buffer
        return host_copy(buffer)

    def _back(self, host, buffer):
        if not self.staged:
            return host
        return array_namespace(buffer).asarray(host, device=device_of(buffer))
