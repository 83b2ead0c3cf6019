"""Building a Backend from a name: the one place that imports each array library by name."""

import importlib

from ._backend import FLOAT_DTYPES, Backend
from ._random import CupyRandom, HostRandom

KNOWN_BACKENDS = ("numpy", "cupy", "array_api_strict", "torch")

# What to run for CuPy, wherever tinyml came from (the extras only add CuPy's wheel).
CUPY_INSTALL = ('pip install cupy-cuda12x (cupy-cuda13x for CUDA 13); or, with tinyml\'s '
                'extra, pip install -e ".[cuda12]" in the root of a clone of tinyml, or '
                'pip install "tinyml-xp[cuda12]" from a package index (cuda13 for CUDA 13)')


def extra_install(extra, package):
    """How to install tinyml's optional `extra` (which adds `package`): first the command that
    works in a clone (no package index has tinyml-xp yet), then the plain package."""
    return (f'pip install -e ".[{extra}]" in the root of a clone of tinyml, or pip install '
            f'{package}')


def make_backend(name, *, device=None, dtype="float32"):
    """A Backend for library `name` on `device` with default floating dtype `dtype`.

    Raises
    ------
    ValueError
        Unknown name, dtype or device (the message lists the valid ones).
    RuntimeError
        The library is not installed, or CuPy finds no usable GPU.
    """
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a string such as 'numpy'; got {name!r}")
    key = name.strip().lower()
    if key not in KNOWN_BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}; known backends: {', '.join(KNOWN_BACKENDS)}"
        )
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {FLOAT_DTYPES}; got {dtype!r}")
    return _BUILDERS[key](device, dtype)


def _numpy(device, dtype):
    import array_api_compat.numpy as xp

    if device not in (None, "cpu"):
        raise ValueError(f"the numpy backend has one device, 'cpu'; got device={device!r}")
    return Backend("numpy", xp, "cpu", dtype, HostRandom)


def _array_api_strict(device, dtype):
    strict = _import("array_api_strict", extra_install("test", "array-api-strict"))
    if device is None:
        device = strict.Device("CPU_DEVICE")
    elif isinstance(device, str):
        try:
            device = strict.Device(device)
        except ValueError:
            valid = ", ".join(str(d) for d in _strict_devices(strict))
            raise ValueError(
                f"array_api_strict has no device {device!r}; choose one of {valid}"
            ) from None
    return Backend("array_api_strict", strict, device, dtype, HostRandom)


def _strict_devices(strict):
    return strict.__array_namespace_info__().devices()


def _torch(device, dtype):
    torch = _import("torch", "pip install torch  (a CPU build is enough)")
    import array_api_compat.torch as xp

    try:
        device = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"torch does not understand device={device!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"torch device {device} was asked for, but torch sees no CUDA device. "
            "Use device='cpu', or the cupy backend on a machine with a GPU."
        )
    return Backend("torch", xp, device, dtype, HostRandom)


def _cupy(device, dtype):
    cupy = _import("cupy", CUPY_INSTALL)
    count, reason = _cuda_devices(cupy)
    if count == 0:
        raise RuntimeError(
            f"CuPy is installed but finds no usable GPU ({reason}). Check the NVIDIA driver "
            "with `nvidia-smi` and that the cupy-cuda12x/13x package matches it, or use "
            "backend 'numpy'."
        )
    number = 0 if device is None else device
    if isinstance(number, cupy.cuda.Device):
        number = number.id
    if not isinstance(number, int) or not 0 <= number < count:
        raise ValueError(f"cupy device must be a GPU number in [0, {count}); got {device!r}")
    import array_api_compat.cupy as xp

    return Backend("cupy", xp, cupy.cuda.Device(number), dtype, CupyRandom)


def _cuda_devices(cupy):
    """(number of visible CUDA devices, what CuPy said when there are none)."""
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError, or a driver library that fails to load
        return 0, f"{type(error).__name__}: {error}"
    return count, "cudaGetDeviceCount returned 0"


def _import(module, install):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise RuntimeError(
            f"the {module} backend needs the '{module}' package, which is not installed "
            f"({error}). Install it with: {install}"
        ) from None


_BUILDERS = {
    "numpy": _numpy,
    "cupy": _cupy,
    "array_api_strict": _array_api_strict,
    "torch": _torch,
}
