"""CuPy on an NVIDIA GPU, through array-api-compat's namespace. Imported lazily: naming this
adapter never imports CuPy, and a machine without a GPU gets a RuntimeError (or a test skip)
that says why."""

import importlib.util

import array_api_compat
import numpy as np

from .._random import HostRandom, float_name
from .base import Adapter

# What to run for CuPy, wherever tinyml came from (the extras only add CuPy's wheel).
CUPY_INSTALL = ('pip install cupy-cuda12x (cupy-cuda13x for CUDA 13); or, with tinyml\'s '
                'extra, pip install -e ".[cuda12]" in the root of a clone of tinyml, or '
                'pip install "tinyml-xp[cuda12]" from a package index (cuda13 for CUDA 13)')


class CupyRandom(HostRandom):
    """Draws on the GPU with cupy.random, so dropout masks never cross the bus.

    Permutations (for shuffling host data) still come from the host generator. ``copy()``
    shares the GPU generator: curand exports no state to copy.
    """

    def __init__(self, seed_sequence, backend):
        super().__init__(seed_sequence, backend)
        import cupy

        with backend.device:
            self._device_rng = cupy.random.RandomState(device_seed(seed_sequence))

    def uniform(self, backend, shape, low, high, dtype):
        name = float_name(backend, dtype)
        with backend.device:
            draws = self._device_rng.random_sample(shape, dtype=name)
            return draws * (high - low) + low if (low, high) != (0.0, 1.0) else draws

    def normal(self, backend, shape, mean, std, dtype):
        name = float_name(backend, dtype)
        with backend.device:
            return self._device_rng.standard_normal(shape, dtype=name) * std + mean


def device_seed(seed_sequence):
    """The 64-bit seed of cupy.random.RandomState for `seed_sequence`.

    The root sequence of a seed that fits gives the seed itself (the stream tinyml drew on GPU 0
    before ranks); any other gives 64 bits derived from the sequence.
    """
    entropy = seed_sequence.entropy
    if not seed_sequence.spawn_key and isinstance(entropy, int) and entropy < 2**64:
        return entropy
    return int(seed_sequence.generate_state(1, np.uint64)[0])


def cuda_devices(cupy):
    """(number of visible CUDA devices, what CuPy said when there are none)."""
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError, or a driver library that fails to load
        return 0, f"{type(error).__name__}: {error}"
    return count, "cudaGetDeviceCount returned 0"


class CupyAdapter(Adapter):
    """CuPy: draws on the GPU (:class:`CupyRandom`), natives for scatter-add and the window
    transforms (one elementwise kernel each, :mod:`~tinyml.backend.ops.cupy_kernels`)."""

    name = module = "cupy"
    rank = 1
    install = CUPY_INSTALL
    gpu = True
    random_factory = CupyRandom
    natives = {
        "scatter_add": "scatter._cupy",
        "im2col": "cupy_kernels._cupy_im2col",
        "col2im_matmul": "cupy_kernels._cupy_col2im_matmul",
    }

    def is_namespace(self, xp):
        return array_api_compat.is_cupy_namespace(xp)

    def namespace(self):
        cupy = self.imported()
        count, reason = cuda_devices(cupy)
        if count == 0:
            raise RuntimeError(
                f"CuPy is installed but finds no usable GPU ({reason}). Check the NVIDIA "
                "driver with `nvidia-smi` and that the cupy-cuda12x/13x package matches it, "
                "or use backend 'numpy'."
            )
        import array_api_compat.cupy as xp

        return xp

    def device(self, spec):
        cupy = self.imported()
        count = cuda_devices(cupy)[0]
        number = 0 if spec is None else spec
        if isinstance(number, cupy.cuda.Device):
            number = number.id
        if not isinstance(number, int) or not 0 <= number < count:
            raise ValueError(f"cupy device must be a GPU number in [0, {count}); got {spec!r}")
        return cupy.cuda.Device(number)

    def device_of(self, x):
        return x.device

    def to_numpy(self, x):
        return x.get()

    def device_index(self, device):
        return device.id

    def test_skip_reason(self):
        if importlib.util.find_spec("cupy") is None:
            return f"CuPy is not installed ({CUPY_INSTALL})"
        count, reason = cuda_devices(self.imported())
        return None if count else f"no CUDA device visible to CuPy ({reason})"


ADAPTER = CupyAdapter()
