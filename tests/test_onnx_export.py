"""tinyml.onnx.export: every layer of tinyml.layers.__all__ exports or is refused by name, and
onnxruntime computes what tinyml's own NumPy forward computes.

EXPORTS has one entry per exported layer class: the ONNX operators its graph must hold once
each (those the backend operations' ndonnx natives emit), or Refused with words of the
reason. A class exported without an entry fails the first test, so a new layer (the sequence
layers, when they land) cannot skip the export contract. Each layer is built as
tests/test_layer_contract.py's LAYERS builds it (net_around: alone in a net, or with what it
needs), exported with a dynamic batch, checked with ``onnx.checker.check_model(...,
full_check=True)``, and run in onnxruntime at batch 1, 3, 5 and 17 against the forward in
float32 NumPy (rtol 1e-4).
"""

from typing import NamedTuple

import numpy as np
import pytest
from config_layers import net_around
from test_layer_contract import exported_layer_classes, sample

import tinyml
from tinyml import cli
from tinyml.layers import (
    BatchNorm2D,
    Conv2D,
    Dropout,
    Flatten,
    Linear,
    MaxPool2D,
    MaxUnpool2D,
    ReLU,
    Softmax,
)

ndonnx = pytest.importorskip("ndonnx", reason="the onnx extra: pip install -e '.[onnx]'")
onnx = pytest.importorskip("onnx", reason="the onnx extra: pip install -e '.[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra: pip install -e '.[onnx]'")

BATCHES = (1, 3, 5, 17)
RTOL, ATOL = 1e-4, 1e-5  # float32 in both runtimes, summed in different orders


class Refused(NamedTuple):
    """A layer the exporter refuses; `words` appear in the message, beside the layer's name."""

    words: str


# kind -> the ONNX operators its graph holds exactly once each (the natives'), or Refused.
EXPORTS = {
    "Linear": ("Gemm",),
    "Conv2D": ("Conv",),
    "Deconv2D": ("ConvTranspose",),
    "MaxPool2D": ("MaxPool",),
    "Dropout": (),
    "Flatten": ("Reshape",),
    "ReLu": (),
    "Softmax": ("Softmax",),
    "LogSoftmax": ("LogSoftmax",),
    "Sigmoid": (),
    "Tanh": ("Tanh",),
    "LeakyReLU": (),
    "ELU": (),
    "SELU": (),
    "GELU": (),
    "SoftPlus": (),
    "HardSigmoid": (),
    "Exponential": ("Exp",),
    "Identity": (),
    "Affine": (),
    "FullyConnected": ("Gemm",),
    "RBM": ("Gemm",),  # its forward is p(h = 1 | v), deterministic; sampling is not forward
    "SparseEvolution": ("Gemm",),
    "BatchNorm1D": (),
    "BatchNorm2D": (),
    "LayerNorm1D": (),
    "LayerNorm2D": (),
    "Conv1D": ("Conv",),
    "AvgPool2D": ("AveragePool",),
    "Pool2D": ("AveragePool",),
    "GlobalAvgPool2D": (),
    "MaxUnpool2D": ("MaxPool",),  # its pool; the unpooling is the layer's own window code
    "Add": (),
    "Multiply": (),
    "Concatenate": ("Concat",),
    "Residual": ("Gemm",),
    "Parallel": ("Gemm", "Concat"),
}


def test_every_exported_layer_class_has_an_entry():
    missing = sorted(set(exported_layer_classes()) - set(EXPORTS))
    assert not missing, (f"tinyml.layers exports {missing} with no entry in EXPORTS of "
                         "tests/test_onnx_export.py: say which ONNX operators its graph holds, "
                         "or Refused(why)")
    assert sorted(set(EXPORTS) - set(exported_layer_classes())) == []


# ---------------------------------------------------------------- helpers
def feed(session, x):
    """{input name: float32 array} for one input or a list of them, in the session's order
    of inputs, which must be input_0, input_1, ... for a list."""
    names = [item.name for item in session.get_inputs()]
    assert names == (["input"] if not isinstance(x, list) else
                     [f"input_{i}" for i in range(len(x))])
    arrays = x if isinstance(x, list) else [x]
    return {name: np.asarray(array, dtype=np.float32) for name, array in
            zip(names, arrays, strict=True)}


def tinyml_forward(net, x):
    """The eval-mode forward of `net` on host input `x` (an array or a list), on the host."""
    net.eval()
    with tinyml.no_grad():
        given = [tinyml.asarray(item) for item in x] if isinstance(x, list) else \
            tinyml.asarray(x)
        y = net.forward(given)
    return [tinyml.to_numpy(item) for item in y] if isinstance(y, tuple) else tinyml.to_numpy(y)


def dynamic(x):
    """The input_shape of host input `x` (or a list of them) with the batch axis dynamic."""
    if isinstance(x, list):
        return [(None, *item.shape[1:]) for item in x]
    return (None, *x.shape[1:])


def exported(net, shape, path, **options):
    """(ModelProto as written, onnxruntime session) for `net` exported to `path`."""
    tinyml.onnx.export(net, path, input_shape=shape, **options)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    return model, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def operators(model):
    return [node.op_type for node in model.graph.node]


def lenet():
    """LeNet-5 as bench/bench_steps.py times it."""
    return tinyml.Net([
        Conv2D("conv1", (1, 28, 28), 6, 5, 5, 1, 2), ReLU("relu1"),
        MaxPool2D("pool1", (6, 28, 28), 2, 2),
        Conv2D("conv2", (6, 14, 14), 16, 5, 5, 1, 0), ReLU("relu2"),
        MaxPool2D("pool2", (16, 10, 10), 2, 2),
        Flatten("flatten"),
        Linear("fc1", 400, 120), ReLU("relu3"),
        Linear("fc2", 120, 84), ReLU("relu4"),
        Linear("fc3", 84, 10), Softmax("softmax"),
    ])


@pytest.fixture
def numpy32():
    with tinyml.use_backend("numpy", dtype="float32") as active, tinyml.use_seed(0):
        yield active


# ---------------------------------------------------------------- every layer
@pytest.mark.parametrize("kind", [k for k, entry in EXPORTS.items()
                                  if not isinstance(entry, Refused)])
def test_each_layer_exports_and_onnxruntime_agrees(numpy32, kind, tmp_path):
    net, x = net_around(kind)
    host = [tinyml.to_numpy(item) for item in x] if isinstance(x, list) else tinyml.to_numpy(x)
    model, session = exported(net, dynamic(host), tmp_path / f"{kind}.onnx")
    found = operators(model)
    for operator in EXPORTS[kind]:
        assert found.count(operator) == 1, f"{kind}: {operator} in {found}"
    shape = [item.shape for item in host] if isinstance(host, list) else host.shape
    for batch in BATCHES:
        sample_x = sample([tuple(s) for s in shape] if isinstance(shape, list) else shape, batch)
        got = session.run(None, feed(session, sample_x))[0]
        want = tinyml_forward(net, sample_x)
        assert got.shape == want.shape, (kind, batch)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{kind} @ {batch}")


class Noise(tinyml.Layer):
    """y = x + N(0, 0.1): noise in every mode, drawn where the input lives. A forward with
    no ONNX form: the graph cannot hold tinyml's random streams."""

    def forward(self, input):
        self._remember(output_shape=input.shape)
        draws = tinyml.backend.backend_of(input).normal(input.shape, std=0.1, dtype=input.dtype)
        return input + draws


def refused_cases():
    """(net, the name its refusal gives, input_shape, words of the reason) of each Refused
    entry, and of a layer of the user's that draws random numbers in forward."""
    cases = [(tinyml.Net([Linear("fc", 4, 3), Noise("noise")]), "Noise 'noise'", (None, 4),
              "random draws")]
    for kind, entry in EXPORTS.items():
        if isinstance(entry, Refused):
            net, x = net_around(kind)
            host = [tinyml.to_numpy(i) for i in x] if isinstance(x, list) else tinyml.to_numpy(x)
            cases.append((net, f"{kind} 'layer'", dynamic(host), entry.words))
    return cases


def test_a_layer_whose_forward_does_not_trace_is_refused_by_name(numpy32, tmp_path):
    for net, name, shape, words in refused_cases():
        with pytest.raises(TypeError, match=rf"{name} cannot be exported to ONNX") as raised:
            tinyml.onnx.export(net, tmp_path / "refused.onnx", input_shape=shape)
        assert words in str(raised.value)
    assert not (tmp_path / "refused.onnx").exists()


# ---------------------------------------------------------------- the goals
@pytest.mark.parametrize(("build", "sample_shape", "convolutions"),
                         [(tinyml.models.cnn, (1, 8, 8), 1), (lenet, (1, 28, 28), 2)])
def test_the_digits_cnn_and_lenet_are_one_conv_per_convolution(numpy32, build, sample_shape,
                                                               convolutions, tmp_path):
    net = build()
    model, session = exported(net, (None, *sample_shape), tmp_path / "net.onnx")
    found = operators(model)
    assert found.count("Conv") == convolutions and found.count("MaxPool") == convolutions
    pools = [node for node in model.graph.node if node.op_type == "MaxPool"]
    assert all(len(node.output) == 1 for node in pools)  # no Indices: onnxruntime's fast path
    assert found.count("Gemm") == len([n for n in net.layers if isinstance(n, Linear)])
    assert len(found) <= 40, found
    x = np.random.default_rng(1).random((5, *sample_shape), dtype=np.float32)
    np.testing.assert_allclose(session.run(None, feed(session, x))[0], tinyml_forward(net, x),
                               rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- names, shapes, opset
def test_names_dynamic_batch_and_initializers_by_state_dict_key(numpy32, tmp_path):
    net = tinyml.Net([Conv2D("conv", (1, 6, 6), 2, 3, 3, 1, 1), BatchNorm2D("bn", 2),
                      ReLU("relu"), Flatten("flat"), Linear("fc", 72, 3)])
    model, session = exported(net, (None, 1, 6, 6), tmp_path / "net.onnx")
    assert [value.name for value in model.graph.input] == ["input"]
    assert [value.name for value in model.graph.output] == ["output"]
    for value in (*model.graph.input, *model.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [tensor.name for tensor in model.graph.initializer] == list(net.state_dict())
    for tensor in model.graph.initializer:
        np.testing.assert_array_equal(onnx.numpy_helper.to_array(tensor),
                                      tinyml.to_numpy(net.state_dict()[tensor.name]))
    assert model.producer_name == "tinyml"


def test_a_fixed_batch_is_fixed(numpy32, tmp_path):
    net = tinyml.models.mlp()
    model, session = exported(net, (3, 1, 8, 8), tmp_path / "net.onnx")
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3
    x = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    np.testing.assert_allclose(session.run(None, feed(session, x))[0], tinyml_forward(net, x),
                               rtol=RTOL, atol=ATOL)
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        session.run(None, feed(session, x[:2]))


def test_a_newer_opset_is_converted_and_still_agrees(numpy32, tmp_path):
    """Run by ONNX's reference evaluator: onnxruntime may not know the newest opsets yet."""
    from onnx.reference import ReferenceEvaluator

    net = tinyml.models.cnn()
    built = tinyml.onnx.export(net, tmp_path / "default.onnx", input_shape=(None, 1, 8, 8))
    default = next(entry.version for entry in built.opset_import if entry.domain == "")
    tinyml.onnx.export(net, tmp_path / "newer.onnx", input_shape=(None, 1, 8, 8),
                       opset=default + 1)
    model = onnx.load(tmp_path / "newer.onnx")
    onnx.checker.check_model(model, full_check=True)
    assert next(entry.version for entry in model.opset_import if entry.domain == "") == \
        default + 1
    x = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    got = ReferenceEvaluator(model).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, tinyml_forward(net, x), rtol=RTOL, atol=ATOL)


def test_several_outputs_are_numbered(numpy32, tmp_path):
    """MaxPool2D(return_index=True) alone returns (output, indices): output_0 and output_1."""
    pool = MaxPool2D("pool", (2, 4, 4), 2, 2, return_index=True)
    model, session = exported(pool, (None, 2, 4, 4), tmp_path / "pool.onnx")
    assert [value.name for value in model.graph.output] == ["output_0", "output_1"]
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4)).astype(np.float32)
    got = session.run(None, feed(session, x))
    want = tinyml_forward(pool, x)
    np.testing.assert_allclose(got[0], want[0], rtol=RTOL)
    np.testing.assert_array_equal(got[1], want[1])


# ---------------------------------------------------------------- the net is left alone
def test_the_net_is_left_exactly_as_it_was_on_every_backend(backend, tmp_path):
    """A net in training mode with records pending, BatchNorm statistics, an unpool that
    remembers its pool's last forward and dropout: after the export, every array, mode,
    record, attribute and random stream is as before, and the file agrees with the net."""
    pool = MaxPool2D("pool", (2, 6, 6), 2, 2)
    net = tinyml.Net([Conv2D("conv", (1, 6, 6), 2, 3, 3, 1, 1), BatchNorm2D("bn", 2),
                      ReLU("relu"), pool, MaxUnpool2D("unpool", pool), Flatten("flat"),
                      Dropout("drop", 0.5), Linear("fc", 72, 3), Softmax("softmax")])
    x = tinyml.asarray(np.random.default_rng(0).standard_normal((4, 1, 6, 6)))
    net.forward(x)  # training mode: records pending, running statistics moved
    layers = [net, *net.named_layers().values()]
    before = {key: (array, tinyml.to_numpy(array).copy()) for key, array in
              net.state_dict().items()}
    attributes = [dict(vars(layer)) for layer in layers]
    records = [list(layer._records) for layer in layers]
    streams = tinyml.backend.streams_state()

    model, session = exported(net, (None, 1, 6, 6), tmp_path / "net.onnx")

    after = net.state_dict()
    assert list(after) == list(before)
    for key, (array, values) in before.items():
        assert after[key] is array, key  # the very same arrays, on their backend and device
        np.testing.assert_array_equal(tinyml.to_numpy(array), values, err_msg=key)
    for layer, kept, pending in zip(layers, attributes, records, strict=True):
        assert vars(layer) == kept, layer
        assert layer._records == pending and layer.training
    assert tinyml.backend.streams_state() == streams
    host = np.random.default_rng(2).standard_normal((3, 1, 6, 6))
    np.testing.assert_allclose(session.run(None, feed(session, host))[0],
                               tinyml_forward(net, host), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- the command line
def test_tinyml_export_takes_the_input_shape_from_the_file(numpy32, tmp_path, capsys):
    weights, output = tmp_path / "cnn.npz", tmp_path / "cnn.onnx"
    tinyml.models.cnn().save(weights)
    assert cli.main(["export", "--weights", str(weights), "--output", str(output)]) == 0
    assert "input (1, 8, 8) (any batch size)" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(output), full_check=True)
    mlp = tmp_path / "mlp.npz"  # Flatten first: the one dataset image shape it takes
    tinyml.models.mlp(input_dim=(1, 28, 28)).save(mlp)
    assert cli.main(["export", "--weights", str(mlp), "--output", str(output), "--batch", "2",
                     "--opset", "22"]) == 0
    assert "input (1, 28, 28) (batch 2)" in capsys.readouterr().out
    model = onnx.load(output)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert [entry.version for entry in model.opset_import if entry.domain == ""] == [22]


def test_tinyml_export_of_a_net_that_declares_no_shape_asks_for_one(numpy32, tmp_path,
                                                                    capsys):
    weights, output = tmp_path / "net.npz", tmp_path / "net.onnx"
    tinyml.Net([Flatten("flat"), Linear("fc", 12, 2)]).save(weights)
    assert cli.main(["export", "--weights", str(weights), "--output", str(output)]) == 2
    assert "--input-shape 1,8,8" in capsys.readouterr().err and not output.exists()
    assert cli.main(["export", "--weights", str(weights), "--output", str(output),
                     "--input-shape", "3,4"]) == 0
    with pytest.raises(SystemExit):
        cli.main(["export", "--weights", str(weights), "--output", str(output),
                  "--input-shape", "3,x"])
    assert "one sample's shape" in capsys.readouterr().err


# ---------------------------------------------------------------- the README
def test_the_readme_example_runs(numpy32, tmp_path, monkeypatch):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Export to ONNX", 1)[1].split("\n## ", 1)[0]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    tinyml.models.cnn().save("digits.npz")
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["probabilities"].shape == (5, 10)
    assert (tmp_path / "digits.onnx").stat().st_size > 0


@pytest.mark.parametrize(("shape", "error", "match"),
                         [((None, 1, 8.0, 8), TypeError, r"axis 2 must be an int >= 1; got 8\.0"),
                          ((None, True, 8, 8), TypeError, "axis 1 must be an int >= 1; got True"),
                          ((0, 1, 8, 8), ValueError, r"the batch size must be None \(any batch"),
                          ("1,8,8", TypeError, r"input_shape must be a tuple such as"),
                          ((), TypeError, r"input_shape must be a tuple such as")])
def test_a_malformed_input_shape_is_refused_before_anything_runs(shape, error, match, tmp_path):
    with pytest.raises(error, match=match):
        tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx", input_shape=shape)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("path", "error", "match"),
                         [(".", ValueError, "is a folder; name a file in it"),
                          ("missing/net.onnx", FileNotFoundError, "create it first")])
def test_a_path_that_cannot_be_written_is_refused(path, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        tinyml.onnx.export(tinyml.models.cnn(), path, input_shape=(None, 1, 8, 8))


@pytest.mark.parametrize("opset", ["21", 21.0, True])
def test_an_opset_that_is_not_an_int_is_refused(opset, tmp_path):
    with pytest.raises(TypeError, match=r"opset must be an int such as 21, or None"):
        tinyml.onnx.export(tinyml.models.cnn(), tmp_path / "cnn.onnx",
                           input_shape=(None, 1, 8, 8), opset=opset)


class Lookup(tinyml.Layer):
    """y[n, t] = table[x[n, t]]: rows of a table picked by integer input, as an embedding."""

    def __init__(self, name, rows, width):
        super().__init__(name)
        self.table = tinyml.Parameter(tinyml.get_backend().normal((rows, width)))

    def output_shape(self, input_shape):
        return (*input_shape, self.table.shape[1])

    def forward(self, input):
        xp = tinyml.backend.array_namespace(input, self.table.data)
        self._remember(output_shape=self.output_shape(input.shape))
        flat = xp.take(self.table.data, xp.reshape(input, (-1,)), axis=0)
        return xp.reshape(flat, (-1, input.shape[1], self.table.shape[1]))


def test_integer_input_for_a_net_that_looks_up_indices(numpy32, tmp_path):
    net = tinyml.Net([Lookup("lookup", 7, 3), Flatten("flat"), Linear("fc", 12, 2)])
    model, session = exported(net, (None, 4), tmp_path / "net.onnx", input_dtype="int64")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    indices = np.random.default_rng(0).integers(0, 7, size=(5, 4))
    got = session.run(None, {"input": indices})[0]
    with tinyml.no_grad():
        want = tinyml.to_numpy(net.forward(tinyml.asarray(indices)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match=r"input_dtype must be one of \('float32', 'int64'"):
        tinyml.onnx.export(net, tmp_path / "net.onnx", input_shape=(None, 4),
                           input_dtype="uint8")


def test_the_natives_run_even_where_the_portable_paths_are_forced(numpy32, tmp_path):
    from tinyml.backend import portable_ops

    with portable_ops():
        model, _ = exported(tinyml.models.cnn(), (None, 1, 8, 8), tmp_path / "cnn.onnx")
    assert operators(model).count("Conv") == 1
