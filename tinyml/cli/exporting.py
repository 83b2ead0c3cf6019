"""``tinyml export``: a saved net as an ONNX file, for onnxruntime and every other ONNX runtime."""

import argparse

from ..core import load_net
from ..onnx import export
from .arguments import check_file_to_read, check_file_to_write, positive_int
from .datasets import SAMPLE_SHAPES


def sample_shape(text):
    """One sample's shape, such as ``1,8,8`` (argparse type): positive ints, comma-separated."""
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"must be one sample's shape as positive ints, such "
                                         f"as 1,8,8 (no batch axis); got {text!r}")
    return shape


def add_export_parser(commands):
    command = commands.add_parser(
        "export", help="write a saved net as an ONNX model",
        description="Write the net in --weights (a file from tinyml train --save or net.save, "
                    "which holds the architecture) as an ONNX model: its eval-mode forward in "
                    "float32, for onnxruntime or any ONNX runtime. The batch axis is dynamic "
                    "unless --batch fixes it. Needs the onnx extra.")
    command.add_argument("--weights", metavar="PATH", required=True,
                         help="a file written by tinyml train --save (or net.save)")
    command.add_argument("--output", metavar="FILE", required=True,
                         help="the .onnx file to write")
    command.add_argument("--input-shape", metavar="C,H,W", type=sample_shape, default=None,
                         help="one sample's shape, without the batch axis (default: what the "
                              "net's first layer declares, or the dataset images it takes)")
    command.add_argument("--batch", metavar="N", type=positive_int, default=None,
                         help="a fixed batch size (default: any batch size)")
    command.add_argument("--opset", metavar="N", type=positive_int, default=None,
                         help="the ONNX opset to write (default: the lowest the graph needs)")
    command.set_defaults(run=export_command)


def export_command(args):
    check_file_to_read("--weights", args.weights)
    check_file_to_write("--output", args.output, "model.onnx")
    net = load_net(args.weights)
    shape = (args.batch, *(args.input_shape or input_shape_of(net, args.weights)))
    model = export(net, args.output, input_shape=shape, opset=args.opset)
    opset = next(entry.version for entry in model.opset_import if entry.domain == "")
    batch = "any batch size" if args.batch is None else f"batch {args.batch}"
    print(f"wrote {args.output}: input {tuple(shape[1:])} ({batch}), {len(model.graph.node)} "
          f"nodes, opset {opset}")
    return 0


def input_shape_of(net, weights):
    """One sample's shape for `net`: what its first layer declares, else the one image shape
    of tinyml's datasets that it takes (a net tinyml train made), else a ValueError."""
    declared = net.declared_input_shape()
    if declared is not None:
        return tuple(declared[1:])
    fitting = {shape for shape in SAMPLE_SHAPES.values() if _takes(net, shape)}
    if len(fitting) == 1:
        return fitting.pop()
    first = net.layers[0].describe() if getattr(net, "layers", None) else net.describe()
    raise ValueError(f"the net in {weights} does not say what input it takes (its first layer, "
                     f"{first}, takes any shape); pass one sample's shape, such as "
                     "--input-shape 1,8,8")


def _takes(net, shape):
    try:
        net.output_shape((None, *shape))
    except ValueError:
        return False
    return True
