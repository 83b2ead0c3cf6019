"""array_api_strict: the standard and nothing more, on named host devices; the tests run it on
"device1" so an array created without ``device=`` fails loudly."""

import array_api_compat
import numpy as np

from .base import Adapter, extra_install


class ArrayApiStrictAdapter(Adapter):
    """array_api_strict: host draws (the numbers NumPy draws), no natives."""

    name = module = "array_api_strict"
    rank = 2
    install = extra_install("test", "array-api-strict")
    test_device = "device1"

    def is_namespace(self, xp):
        return array_api_compat.is_array_api_strict_namespace(xp)

    def device(self, spec):
        strict = self.imported()
        if spec is None:
            return strict.Device("CPU_DEVICE")
        if not isinstance(spec, str):
            return spec
        try:
            return strict.Device(spec)
        except ValueError:
            valid = ", ".join(str(d) for d in strict.__array_namespace_info__().devices())
            raise ValueError(
                f"array_api_strict has no device {spec!r}; choose one of {valid}"
            ) from None

    def device_of(self, x):
        return x.device

    def to_numpy(self, x):
        """Not ``x.to_device(...)``: array_api_strict (every release to 2.6) copies across
        devices with ``np.asarray(..., copy=True)``, which NumPy 1.26 lacks; its own
        ``asarray`` onto the CPU device works on both NumPy 1.26 and 2.x."""
        strict = self.imported()
        cpu = strict.Device("CPU_DEVICE")
        if x.device == cpu:
            return np.asarray(x)
        return np.asarray(strict.asarray(x, device=cpu, copy=True))


ADAPTER = ArrayApiStrictAdapter()
