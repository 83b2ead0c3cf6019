"""Finishing the ModelProto that ndonnx builds: weights as initializers, names, the opset.

ndonnx builds a model whose parameters are graph inputs (the traced net's arguments). Here they
become initializers of the same names (the ``state_dict`` keys) holding the trained values, the
dynamic batch axis is named ``batch`` on every input and output, and the model says tinyml made
it. A requested opset newer than the one the graph needs is reached with ONNX's version
converter.
"""

PRODUCER = "tinyml"
BATCH = "batch"  # the name of the dynamic batch axis, shared by inputs and outputs


def weights_as_initializers(model, values):
    """Move each graph input named in `values` ({key: host array}) into the initializers."""
    from onnx import numpy_helper

    graph = model.graph
    kept = [value for value in graph.input if value.name not in values]
    used = {value.name for value in graph.input} & set(values)
    del graph.input[:]
    graph.input.extend(kept)
    graph.initializer.extend(numpy_helper.from_array(array, name=name)
                             for name, array in values.items() if name in used)  # key order


def order_ends(model, inputs, outputs):
    """Put the graph's inputs and outputs in the order of the names `inputs` and `outputs`
    (spox's order varies from one process to the next)."""
    for ends, names in ((model.graph.input, inputs), (model.graph.output, outputs)):
        ordered = sorted(ends, key=lambda value: list(names).index(value.name))
        del ends[:]
        ends.extend(ordered)


def drop_unused_outputs(model):
    """Leave out each node's trailing outputs that nothing reads, where the operator's schema
    makes them optional: spox always asks MaxPool for its Indices, and onnxruntime computes
    them on a slow path (about 10x the pooling alone) when they are there."""
    from onnx import defs

    opset = graph_opset(model)
    read = {name for node in model.graph.node for name in node.input}
    read |= {value.name for value in model.graph.output}
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        schema = defs.get_schema(node.op_type, opset)
        while len(node.output) > 1 and node.output[-1] not in read and \
                schema.outputs[min(len(node.output), len(schema.outputs)) - 1].option == \
                defs.OpSchema.FormalParameterOption.Optional:
            node.output.pop()


def name_batch_axis(model):
    """Call the first axis of each input and output ``batch`` where its size is not fixed."""
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = BATCH


def sign(model, doc):
    """tinyml as the producer, `doc` as the graph's description, no ndonnx schema (it would
    still list the weights as inputs)."""
    from .. import __version__  # here: tinyml/__init__.py imports this package first

    model.producer_name = PRODUCER
    model.producer_version = __version__
    model.graph.name = PRODUCER
    model.graph.doc_string = doc
    kept = [prop for prop in model.metadata_props if prop.key != "ndonnx_schema"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)


def graph_opset(model):
    """The version of the default ONNX domain the model imports."""
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def with_opset(model, opset):
    """`model` at `opset` (None: the opset it was built at): converted when newer, refused
    when older than the operators in the graph need, or newer than the installed onnx knows."""
    import onnx
    from onnx import version_converter

    built = graph_opset(model)
    if opset is None or opset == built:
        return model
    newest = onnx.defs.onnx_opset_version()
    if opset < built or opset > newest:
        raise ValueError(
            f"tinyml.onnx.export: opset={opset} is out of reach; the graph's operators need "
            f"opset {built} or newer, and the installed onnx {onnx.__version__} knows opsets up "
            f"to {newest}. Pass an opset in [{built}, {newest}], or opset=None for {built}."
        )
    return version_converter.convert_version(model, opset)
