"""Nets without repeated shapes: layers that leave out their input size learn it from the net
(its input_shape, a first layer that declares one, net.build, or the first batch) and are then
the very layers built with the size given; a mismatched chain is refused as it is built."""

import numpy as np
import pytest

import tinyml
from tinyml import Learner, Net
from tinyml.core.inferred import NotBuiltError
from tinyml.layers import (
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Conv1D,
    Conv2D,
    Deconv2D,
    Flatten,
    GlobalAvgPool2D,
    LayerNorm1D,
    LayerNorm2D,
    Linear,
    MaxPool2D,
    Parallel,
    ReLu,
    Residual,
    Softmax,
)
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.testing import assert_close, check_layer

# (layer without its input size, the same layer with it, one sample's shape)
PAIRS = [
    (lambda: Linear("layer", 5), lambda: Linear("layer", 7, 5), (7,)),
    (lambda: Conv2D("layer", 4, 3, padding=1), lambda: Conv2D("layer", (2, 6, 5), 4, 3, 3, 1, 1),
     (2, 6, 5)),
    (lambda: Conv2D("layer", 4, 3, 2, stride=2, padding="same"),
     lambda: Conv2D("layer", (2, 7, 6), 4, 3, 2, 2, "same"), (2, 7, 6)),
    (lambda: Deconv2D("layer", 3, 2, stride=2),
     lambda: Deconv2D("layer", (2, 4, 3), 3, 2, 2, 2), (2, 4, 3)),
    (lambda: Conv1D("layer", 4, 3, padding="causal"),
     lambda: Conv1D("layer", (2, 9), 4, 3, padding="causal"), (2, 9)),
    (lambda: MaxPool2D("layer", 2), lambda: MaxPool2D("layer", (3, 6, 6), 2, 2), (3, 6, 6)),
    (lambda: AvgPool2D("layer", 3, 1), lambda: AvgPool2D("layer", (2, 5, 5), 3, 1), (2, 5, 5)),
    (lambda: BatchNorm1D("layer"), lambda: BatchNorm1D("layer", 6), (6,)),
    (lambda: BatchNorm2D("layer"), lambda: BatchNorm2D("layer", 3), (3, 4, 4)),
    (lambda: LayerNorm1D("layer"), lambda: LayerNorm1D("layer", 5), (4, 5)),
    (lambda: LayerNorm2D("layer"), lambda: LayerNorm2D("layer", (3, 4, 4)), (3, 4, 4)),
]
IDS = ["linear", "conv2d", "conv2d-same-stride", "deconv2d", "conv1d", "maxpool", "avgpool",
       "batchnorm1d", "batchnorm2d", "layernorm1d", "layernorm2d"]


def weights(layer):
    return {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}


@pytest.mark.parametrize(("lazy", "eager", "sample"), PAIRS, ids=IDS)
def test_a_layer_built_by_the_net_is_the_layer_built_with_its_size(backend, lazy, eager, sample):
    with tinyml.use_seed(3):
        net = Net([lazy()], input_shape=sample)
    with tinyml.use_seed(3):
        given = eager()
    built = net["layer"]
    assert built.built and net.built
    assert built.hyperparameters.keys() == given.hyperparameters.keys()
    assert built.output_shape((None, *sample)) == given.output_shape((None, *sample))
    assert built.declared_input_shape() == given.declared_input_shape()
    expected = weights(given)
    assert list(weights(built)) == list(expected)
    for key, value in built.state_dict().items():
        assert_close(value, expected[key], backend=backend, rtol=0, atol=0)
    x = np.random.default_rng(0).standard_normal((3, *sample))
    with tinyml.no_grad():
        assert_close(net.forward(backend.asarray(x)), tinyml.to_numpy(given(backend.asarray(x))),
                     backend=backend, rtol=1e-12, atol=1e-12)
    rebuilt = Net.from_config(net.config())  # the size learnt is in the config
    assert rebuilt.built and rebuilt["layer"].hyperparameters == built.hyperparameters


@pytest.mark.parametrize(("lazy", "eager", "sample"), [PAIRS[1], PAIRS[4], PAIRS[10]],
                         ids=["conv2d", "conv1d", "layernorm2d"])
def test_a_layer_built_from_its_first_input_passes_the_layer_recipe(backend, lazy, eager,
                                                                    sample):
    layer = lazy()
    x = np.random.default_rng(1).standard_normal((2, *sample))
    layer.build((None, *sample))
    check_layer(layer, x, mode="random", directions=4)


def test_a_standalone_layer_says_it_is_not_built_and_builds_when_called():
    conv = Conv2D("conv", 4, 3)
    assert not conv.built and conv.declared_input_shape() is None
    assert conv.output_shape((None, 1, 8, 8)) == (None, 4, 6, 6)  # known without building
    with pytest.raises(NotBuiltError, match=r"Conv2D 'conv' has no weight yet: its input_dim "
                                            r"was left out.*layer\.build\(input_shape\)"):
        conv.forward(tinyml.asarray(np.ones((2, 1, 8, 8))))
    assert isinstance(NotBuiltError("x"), RuntimeError) and getattr(conv, "weight", 5) == 5
    assert tuple(conv(tinyml.asarray(np.ones((2, 1, 8, 8)))).shape) == (2, 4, 6, 6)
    assert conv.built and conv.weight.shape == (4, 1, 3, 3)
    assert conv.hyperparameters["input_dim"] == [1, 8, 8]


def test_defaults_stride_padding_and_window():
    conv = Conv2D("conv", (1, 8, 8), 4, 3)
    assert (conv.stride, conv.padding, conv.w_filter) == (1, 0, 3)
    assert conv.output_shape((None, 1, 8, 8)) == (None, 4, 6, 6)
    pool = MaxPool2D("pool")
    assert (pool.size, pool.stride) == ((2, 2), 2)
    assert MaxPool2D("pool", 3).stride == 3 and MaxPool2D("pool", 3, 1).stride == 1
    assert Deconv2D("up", (2, 3, 3), 4, 2).stride == 1
    with pytest.raises(TypeError, match=r"a 2x3 window needs a stride"):
        MaxPool2D("pool", (2, 3))


def test_the_seed_positional_signatures_still_work():
    net = Net([Conv2D("conv", (1, 8, 8), 16, 3, 3, 1, 1), ReLu("relu"),
               MaxPool2D("pool", (16, 8, 8), 2, 2), Flatten("flat"),
               Linear("fc", 16 * 4 * 4, 10), Softmax("softmax")])
    assert net.built and net.input_shape == (1, 8, 8)
    assert net["fc"].weight.shape == (10, 256)
    assert Deconv2D("up", (2, 3, 3), 4, 2, 2, 2, 1, 0).output_shape((None, 2, 3, 3)) == \
        (None, 4, 6, 6)


def cnn_without_shapes():
    return [Conv2D("conv", 8, 3, padding=1), ReLu("relu"), MaxPool2D("pool", 2),
            Residual("res", [Conv2D("inner", 8, 3, padding=1), BatchNorm2D("bn")]),
            Parallel("par", [[Conv2D("branch", 8, 1)], []], "add"), GlobalAvgPool2D("gap"),
            Linear("fc", 10), Softmax("softmax")]


def test_a_net_given_its_input_shape_is_built_at_once_summary_and_counts_included(capsys):
    net = Net(cnn_without_shapes(), input_shape=(1, 8, 8))
    assert net.built
    net.summary()
    table = capsys.readouterr().out
    assert "res.inner (Conv2D)     (None, 8, 4, 4)     584" in table
    assert "fc (Linear)            (None, 10)           90" in table
    expected = 80 + 584 + 16 + 72 + 90
    assert f"Total params: {expected:,} (trainable: {expected:,})" in table
    assert sum(parameter.size for parameter in net.parameters()) == expected


def test_a_net_without_an_input_shape_learns_it_from_the_first_batch_of_fit(backend32, capsys):
    net = Net(cnn_without_shapes())
    assert not net.built and net.parameters() == []
    net.summary()
    assert "Total params: 0 so far; the layers marked ? learn their input size" in \
        capsys.readouterr().out
    x = np.random.default_rng(0).random((32, 1, 8, 8), dtype=np.float32)
    y = np.arange(32) % 10
    history = Learner(net, cross_entropy, SGD(lr=0.05), batch_size=8).fit(x, y, epochs=2,
                                                                          verbose=0)
    assert net.built and net.input_shape == (1, 8, 8) and len(history["loss"]) == 2
    for parameter in net.parameters():  # created on the backend, and trained
        assert tinyml.backend.backend_of(parameter.data).name == backend32.name
        assert tinyml.backend.device_of(parameter.data) == backend32.device
        assert parameter.grad is not None


def test_build_takes_one_sample_shape_and_returns_the_net():
    net = Net([Flatten("flat"), Linear("fc", 3)])
    assert net.build((2, 5)) is net and net["fc"].weight.shape == (3, 10)
    assert net.build([2, 5]) is net  # the same shape again: checked only
    with pytest.raises(ValueError, match=r"takes samples of shape \(2, 5\); got "
                                         r"input_shape=\(3, 5\)"):
        net.build((3, 5))
    with pytest.raises(ValueError, match=r"without the batch axis.*\(2, 5\)"):
        Net([Linear("fc", 3)]).build((None, 2, 5))


def test_a_net_moved_before_it_is_built_builds_there(backend):
    net = Net([Linear("fc", 3)]).to(backend)
    net.build((4,))
    assert tinyml.backend.backend_of(net["fc"].weight.data).name == backend.name
    assert tinyml.backend.device_of(net["fc"].weight.data) == backend.device


def test_a_mismatched_chain_is_refused_when_built_naming_both_layers_and_the_shape():
    with pytest.raises(ValueError, match=r"^Linear 'fc' cannot follow Flatten 'flat', which "
                                         r"puts out \(batch, 1024\): Linear 'fc' expects input "
                                         r"of shape \(batch, 100\)"):
        Net([Conv2D("conv", (1, 8, 8), 16, 3, padding=1), Flatten("flat"),
             Linear("fc", 100, 10)])
    with pytest.raises(ValueError, match=r"^Conv2D 'conv' cannot take the input of Net, "
                                         r"\(batch, 64\): .*Reshape flat samples"):
        Net([Conv2D("conv", 4, 3)], input_shape=(64,))
    inner = Net([Linear("a", 4), Linear("b", 3, 2)], name="block")  # 'b' waits for 'a'
    with pytest.raises(ValueError, match=r"^Linear 'b' cannot follow Linear 'a', which puts "
                                         r"out \(batch, 4\): Linear 'b' expects input of shape "
                                         r"\(batch, 3\)"):
        Net([Flatten("flat"), inner], input_shape=(2, 2))


def test_a_refused_layer_is_not_added():
    net = Net([Flatten("flat"), Linear("fc", 4, 3)], input_shape=(2, 2))
    with pytest.raises(ValueError, match="cannot follow Linear 'fc'"):
        net.add(Linear("head", 5, 2))
    assert [layer.name for layer in net] == ["flat", "fc"]
    net.add(Linear("head", 2))
    assert net["head"].weight.shape == (2, 3)


def test_the_name_comes_first_and_a_missing_size_is_named():
    with pytest.raises(TypeError, match=r"Linear\(64, 10\): the first argument is the layer's "
                                        r"name, a string; got 64\..*Linear\('linear', 64, 10\)"):
        Linear(64, 10)
    with pytest.raises(TypeError, match=r"Linear 'fc' needs output_dim; got none\. For "
                                        r"example: Linear\('fc', 10\)"):
        Linear("fc")
    with pytest.raises(TypeError, match=r"Conv1D 'c' needs kernel_width"):
        Conv1D("c", 4)


def test_channels_last_shapes_are_named_as_such():
    conv = Conv2D("conv", (1, 8, 8), 4, 3)
    with pytest.raises(ValueError, match=r"got \(2, 8, 8, 1\)\. Images are NCHW \(channels "
                                         r"first\).*x\.transpose\(0, 3, 1, 2\)"):
        conv.output_shape((2, 8, 8, 1))
    hwc = Conv2D("conv", (8, 8, 1), 4, 3, padding=1)
    with pytest.raises(ValueError, match=r"input_dim=\(8, 8, 1\) puts the channels last; "
                                         r"images are NCHW \(channels first\): "
                                         r"input_dim=\(1, 8, 8\)"):
        hwc.output_shape((2, 1, 8, 8))


def test_labels_in_a_column_are_told_to_be_squeezed():
    net = Net([Linear("fc", 3), Softmax("softmax")], input_shape=(4,))
    learner = Learner(net, cross_entropy, SGD(lr=0.1))
    with pytest.raises(ValueError, match=r"labels of shape \(6, 1\).*squeeze them to \(N,\)"):
        learner.fit(np.ones((6, 4), dtype=np.float32), np.zeros((6, 1), dtype=np.int64),
                    verbose=0)


# ---------------------------------------------------------------- files of unbuilt nets
def test_an_unbuilt_net_is_not_saved_and_is_built_by_loading(tmp_path):
    with pytest.raises(RuntimeError, match=r"not built yet.*net\.build\(input_shape\)"):
        Net(cnn_without_shapes()).save(tmp_path / "net.npz")
    trained = Net(cnn_without_shapes(), input_shape=(1, 8, 8))
    trained.save(tmp_path / "net.npz")
    fresh = Net(cnn_without_shapes()).load(tmp_path / "net.npz")
    assert fresh.built and fresh.input_shape == (1, 8, 8)
    for key, value in weights(trained).items():
        np.testing.assert_array_equal(weights(fresh)[key], value)
    loaded = tinyml.load_net(tmp_path / "net.npz")
    assert loaded.input_shape == (1, 8, 8) and loaded["fc"].input_dim == 8


def test_a_layer_of_your_own_is_asked_only_its_output_shape():
    class Doubler(tinyml.Layer):
        def build(self):  # a method of another meaning, as a Keras habit might give
            raise AssertionError("Net called build on a layer that does not build from shapes")

        def output_shape(self, input_shape):
            return tuple(input_shape)

    net = Net([Doubler("double"), Linear("fc", 2)], input_shape=(3,))
    assert net.built and net["fc"].weight.shape == (2, 3)
