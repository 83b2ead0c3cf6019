"""PyTorch, through array-api-compat's namespace, on the CPU or a CUDA device."""

import array_api_compat

from .base import Adapter


class TorchAdapter(Adapter):
    """PyTorch: host draws (the numbers NumPy draws, moved over), natives from PyTorch's own
    kernels (convolutions, pooling, windows, scatter-add)."""

    name = module = "torch"
    rank = 3
    install = "pip install torch  (a CPU build is enough)"
    natives = {
        "scatter_add": "scatter._torch",
        "im2col": "windows._torch_im2col",
        "col2im_matmul": "windows._torch_col2im_matmul",
        "conv2d": "conv._torch_conv2d",
        "conv2d_backward": "conv._torch_conv2d_backward",
        "conv_transpose2d": "conv._torch_conv_transpose2d",
        "conv_transpose2d_backward": "conv._torch_conv_transpose2d_backward",
        "max_pool2d": "pool._torch_max_pool2d",
        "max_pool2d_forward": "pool._torch_max_pool2d_forward",
        "max_pool2d_backward": "pool._torch_max_pool2d_backward",
        "concat_steps": "steps._torch",
        "activation": "activations_torch._torch_activation",
        "avg_pool2d": "pool._torch_avg_pool2d",
        "avg_pool2d_backward": "pool._torch_avg_pool2d_backward",
        "normalize": "moments._torch_normalize",
        "sgd_step": "optimizers._torch_sgd_step",
        "linear": "dense._torch_linear",
        "linear_backward": "dense._torch_linear_backward",
        "zero_arrays": "optimizers._torch_zero_arrays",
    }

    def is_namespace(self, xp):
        return array_api_compat.is_torch_namespace(xp)

    def namespace(self):
        self.imported()
        import array_api_compat.torch as xp

        return xp

    def device(self, spec):
        torch = self.imported()
        try:
            device = torch.device("cpu" if spec is None else spec)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"torch does not understand device={spec!r}: {error}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"torch device {device} was asked for, but torch sees no CUDA device. "
                "Use device='cpu', or the cupy backend on a machine with a GPU."
            )
        return device

    def device_of(self, x):
        return x.device

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def device_index(self, device):
        return 0 if device.type == "cpu" else device.index or 0


ADAPTER = TorchAdapter()
