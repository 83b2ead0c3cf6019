"""NumPy: the host library, through array-api-compat's namespace; one device, "cpu"."""

import array_api_compat
import numpy as np

from .base import Adapter


class NumpyAdapter(Adapter):
    """NumPy on the host: draws with NumPy's PCG64, natives for the convolutions (cache-sized
    chunks, :mod:`~tinyml.backend.ops.conv_numpy`), pooling and scatter-add."""

    name = module = "numpy"
    rank = 0
    install = "pip install numpy"
    one_device = True
    natives = {
        "scatter_add": "scatter._numpy",
        "im2col": "windows._numpy_im2col",
        "col2im_matmul": "conv_numpy._numpy_col2im_matmul",
        "conv2d": "conv_numpy._numpy_conv2d",
        "conv2d_backward": "conv_numpy._numpy_conv2d_backward",
        "conv_transpose2d": "conv_numpy._numpy_conv_transpose2d",
        "conv_transpose2d_backward": "conv_numpy._numpy_conv_transpose2d_backward",
        "max_pool2d": "pool._numpy_max_pool2d",
        "max_pool2d_forward": "pool._numpy_max_pool2d_forward",
        "max_pool2d_backward": "pool._numpy_max_pool2d_backward",
        "concat_steps": "steps._numpy",
        "bag_scatter_add": "scatter._numpy_bags",
        "activation": "activations_numpy._numpy_activation",
        "moment_sums": "reductions._numpy_moment_sums",
        "avg_pool2d": "pool._numpy_avg_pool2d",
        "avg_pool2d_backward": "pool._numpy_avg_pool2d_backward",
    }

    def is_namespace(self, xp):
        return array_api_compat.is_numpy_namespace(xp)

    def namespace(self):
        import array_api_compat.numpy as xp

        return xp

    def device(self, spec):
        if spec not in (None, "cpu"):
            raise ValueError(f"the numpy backend has one device, 'cpu'; got device={spec!r}")
        return "cpu"

    def device_of(self, x):
        return "cpu"

    def to_numpy(self, x):
        return np.asarray(x)


ADAPTER = NumpyAdapter()
