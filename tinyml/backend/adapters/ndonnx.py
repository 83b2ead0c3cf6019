"""ndonnx, whose arrays build an ONNX graph: ``tinyml.onnx.export`` runs a net's forward on
them. Not a backend to train on; its natives emit one ONNX operator each
(:mod:`~tinyml.backend.ops.ndonnx_natives`)."""

from .base import Adapter, extra_install


class NdonnxAdapter(Adapter):
    """ndonnx: recognised by its namespace's name, so checking needs no import of it."""

    name = module = "ndonnx"
    rank = 4
    install = extra_install("onnx", "ndonnx")
    makes_backend = False
    natives = {
        "conv2d": "ndonnx_natives._conv",
        "col2im_matmul": "ndonnx_natives._conv_transpose",
        "max_pool2d": "ndonnx_natives._max_pool",
        "avg_pool2d": "ndonnx_natives._average_pool",
        "linear": "ndonnx_natives._gemm",
        "softmax": "ndonnx_natives._softmax",
        "log_softmax": "ndonnx_natives._log_softmax",
        "recurrence": "ndonnx_natives._recurrent_node",
    }

    def is_namespace(self, xp):
        return getattr(xp, "__name__", None) == "ndonnx"


ADAPTER = NdonnxAdapter()
