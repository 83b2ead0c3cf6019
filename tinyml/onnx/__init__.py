"""Export to ONNX: a trained net as a file that onnxruntime, a phone, a browser or a C++
service can run.

``tinyml.onnx.export(net, "model.onnx", input_shape=(None, 1, 8, 8))`` runs the net's
eval-mode forward once on ndonnx arrays (an Array API namespace whose arrays build an ONNX
graph), so the file computes exactly what the layers' own standard calls compute. Convolutions,
pooling, linear maps and softmax are one ONNX operator each: the backend operations have
natives for ndonnx (:mod:`tinyml.backend.ops.ndonnx_natives`). Needs the ``onnx`` extra
(ndonnx, onnx, onnxruntime); importing tinyml does not.

From the command line: ``tinyml export --weights W.npz --output M.onnx``.
"""

from .export import export

__all__ = ["export"]
