"""tinyml.viz: each picture is a PNG of the stated size, holds what it says, and checks its
arguments before drawing; matplotlib stays optional and pyplot is never used."""

import pathlib
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

import tinyml  # noqa: E402
from tinyml.callbacks import History  # noqa: E402
from tinyml.layers import (  # noqa: E402
    Conv1D,
    Conv2D,
    Deconv2D,
    Dropout,
    Flatten,
    Linear,
    MaxPool2D,
    ReLu,
)
from tinyml.viz import (  # noqa: E402
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_misclassified,
)

SMALL = {"figsize": (4, 3), "dpi": 20}  # 80 x 60 pixels: fast to render
SMALL_PIXELS = (80, 60)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = pathlib.Path(tinyml.__file__).resolve().parent.parent  # this tree's tinyml first


def png_size(path):
    """(width, height) from the PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_only_png(tmp_path, name, size=SMALL_PIXELS):
    assert sorted(p.name for p in tmp_path.iterdir()) == [name], "wrote something else too"
    assert png_size(tmp_path / name) == size


def images_of(figure):
    return [image for ax in figure.axes for image in ax.images]


def small_conv_net():
    return tinyml.Net([Conv2D("conv", (1, 6, 6), 4, 3, 3, 1, 1), ReLu("relu"),
                       MaxPool2D("pool", (4, 6, 6), 2, 2), Flatten("flat"),
                       Linear("fc", 36, 3)])


# ---------------------------------------------------------------------------- plot_history
HISTORY = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.7, 0.5],
           "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7],
           "top_5": [0.9, 0.95, 0.99], "epoch_time": [1.2, 1.1, 1.0], "lr": [0.1, 0.05, 0.01]}


def labels_of(ax):
    return {line.get_label() for line in ax.lines}


def test_history_draws_losses_metrics_and_learning_rate(tmp_path):
    figure = plot_history(HISTORY, tmp_path / "history.png", **SMALL)
    assert isinstance(figure, Figure)
    assert_only_png(tmp_path, "history.png")
    loss_ax, metric_ax, rate_ax = figure.axes
    assert labels_of(loss_ax) == {"loss", "val_loss"}
    assert labels_of(metric_ax) == {"accuracy", "val_accuracy", "top_5"}
    assert labels_of(rate_ax) == {"lr"}
    assert rate_ax.get_yscale() == "log"
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2, 3]  # epochs count from 1


def test_history_default_size_is_1000_by_500(tmp_path):
    plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")
    assert png_size(tmp_path / "h.png") == (1000, 500)


def test_history_takes_an_object_with_a_history_dict(tmp_path):
    history = History()
    for epoch, loss in enumerate([0.9, 0.5]):
        history.on_epoch_end(epoch, {"loss": loss, "accuracy": 1 - loss})
    figure = plot_history(history, tmp_path / "h.png", **SMALL)
    assert [labels_of(ax) for ax in figure.axes] == [{"loss"}, {"accuracy"}]


def test_history_draws_non_finite_values_as_gaps(tmp_path):
    history = {"loss": [1.0, float("nan"), float("inf"), None, 0.2]}
    figure = plot_history(history, tmp_path / "h.png", **SMALL)
    (ax,) = figure.axes
    drawn = np.asarray(ax.lines[0].get_ydata(), dtype=float)
    np.testing.assert_array_equal(np.isnan(drawn), [False, True, True, True, False])
    assert png_size(tmp_path / "h.png") == SMALL_PIXELS


def test_history_learning_rate_not_positive_stays_linear(tmp_path):
    figure = plot_history({"loss": [1.0, 0.5], "lr": [0.1, 0.0]}, tmp_path / "h.png", **SMALL)
    assert len(figure.axes) == 2
    assert figure.axes[-1].get_yscale() == "linear"


@pytest.mark.parametrize(("history", "error", "match"), [
    ([1.0, 0.5], TypeError, "dict of lists"),
    ({"loss": 0.5}, TypeError, r"history\['loss'\] must be a list"),
    ({"loss": [0.5, "high"]}, ValueError, "one number per epoch"),
    ({"loss": [], "epoch_time": [1.0]}, ValueError, "nothing to draw"),
])
def test_history_refuses_what_it_cannot_draw(tmp_path, history, error, match):
    with pytest.raises(error, match=match):
        plot_history(history, tmp_path / "h.png", **SMALL)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------- confusion matrix
def texts_of(holder):
    """The strings of the text artists an Axes (or a Figure: its suptitle) holds."""
    return [text.get_text() for text in holder.texts]


def test_confusion_matrix_annotates_counts(tmp_path):
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    figure = plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=["a", "b", "c"],
                                   **SMALL)
    assert_only_png(tmp_path, "cm.png")
    ax = figure.axes[0]
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), cm)  # rows true, columns predicted
    assert texts_of(ax) == [str(v) for v in cm.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")


def test_confusion_matrix_normalizes_rows_on_any_backend(tmp_path, backend):
    cm = backend.asarray(np.array([[3.0, 1.0], [0.0, 0.0]]))
    figure = plot_confusion_matrix(cm, tmp_path / "cm.png", normalize=True, **SMALL)
    ax = figure.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0.0, 0.0]])
    assert texts_of(ax) == ["0.75", "0.25", "0.00", "0.00"]


def test_confusion_matrix_of_many_classes_has_no_numbers(tmp_path):
    figure = plot_confusion_matrix(np.eye(21), tmp_path / "cm.png", **SMALL)
    assert texts_of(figure.axes[0]) == []


@pytest.mark.parametrize(("cm", "names", "error", "match"), [
    (np.ones((2, 3)), None, ValueError, "square"),
    (-np.ones((2, 2)), None, ValueError, "non-negative"),
    (np.ones((2, 2)), ["a"], ValueError, "1 names for a 2x2"),
    (np.ones((2, 2)), "ab", TypeError, "not one string"),
])
def test_confusion_matrix_refuses_bad_input(tmp_path, cm, names, error, match):
    with pytest.raises(error, match=match):
        plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=names, **SMALL)


# ---------------------------------------------------------------------------- plot_filters
def unit(values):
    return (values - values.min()) / (values.max() - values.min())


def test_filters_of_rgb_conv_are_colour_tiles(tmp_path, backend):
    conv = Conv2D("conv", (3, 5, 5), 6, 3, 3, 1, 0)
    figure = plot_filters(conv, tmp_path / "f.png", **SMALL)
    assert_only_png(tmp_path, "f.png")
    tiles = images_of(figure)
    assert len(tiles) == 6
    weight = tinyml.to_numpy(conv.weight.data)
    for index, tile in enumerate(tiles):
        np.testing.assert_allclose(tile.get_array(), unit(np.moveaxis(weight[index], 0, -1)),
                                   rtol=1e-6)  # the tile is computed in float64


def test_filters_over_other_channel_counts_are_grey_means(tmp_path, backend):
    conv = Conv2D("conv", (2, 5, 5), 3, 2, 2, 1, 0)
    tiles = images_of(plot_filters(conv, tmp_path / "f.png", **SMALL))
    weight = tinyml.to_numpy(conv.weight.data)
    assert len(tiles) == 3
    for index, tile in enumerate(tiles):
        np.testing.assert_allclose(tile.get_array(), unit(weight[index].mean(axis=0)), rtol=1e-6)


def test_filters_of_deconv_are_its_output_channels(tmp_path):
    deconv = Deconv2D("up", (2, 3, 3), 5, 2, 2, 2)  # weight (2, 5, 2, 2)
    tiles = images_of(plot_filters(deconv, tmp_path / "f.png", **SMALL))
    weight = tinyml.to_numpy(deconv.weight.data)
    assert len(tiles) == 5
    np.testing.assert_allclose(tiles[4].get_array(), unit(weight[:, 4].mean(axis=0)), rtol=1e-6)


@pytest.mark.parametrize("make_layer", [lambda: Linear("fc", 4, 2),
                                        lambda: Conv1D("conv1d", (2, 8), 3, 3),
                                        lambda: ReLu("relu")], ids=["linear", "conv1d", "relu"])
def test_filters_need_a_4d_weight(tmp_path, make_layer):
    layer = make_layer()
    with pytest.raises(TypeError, match=f"'{layer.name}'.*Pass a Conv2D"):
        plot_filters(layer, tmp_path / "f.png", **SMALL)


# ---------------------------------------------------------------------------- feature maps
def test_feature_maps_draw_each_channel_of_the_layer(tmp_path, backend):
    net = small_conv_net()
    x = np.random.default_rng(0).standard_normal((1, 6, 6))  # no batch axis: it is added
    figure = plot_feature_maps(net, "pool", x, tmp_path / "maps.png", **SMALL)
    assert_only_png(tmp_path, "maps.png")
    tiles = images_of(figure)
    assert len(tiles) == 4
    with tinyml.no_grad():
        expected = tinyml.to_numpy(
            net["pool"](net["relu"](net["conv"](backend.asarray(x[None])))))[0]
    for channel, tile in enumerate(tiles):
        np.testing.assert_allclose(tile.get_array(), expected[channel])


def test_feature_maps_keep_modes_and_record_nothing(tmp_path, backend):
    net = tinyml.Net([Conv2D("conv", (1, 4, 4), 2, 3, 3, 1, 1), Dropout("drop", 0.5)])
    net["conv"].eval()  # a mixed state: conv in eval, the net and dropout training
    x = backend.asarray(np.ones((1, 1, 4, 4)))
    figure = plot_feature_maps(net, "drop", x, tmp_path / "maps.png", **SMALL)
    assert [net.training, net["conv"].training, net["drop"].training] == [True, False, True]
    assert [layer.pending_records for layer in (net, *net.layers)] == [0, 0, 0]
    with tinyml.no_grad():
        conv_only = tinyml.to_numpy(net["conv"](x))[0]
    # Dropout ran in eval mode: it passed the conv's maps unchanged.
    np.testing.assert_allclose(images_of(figure)[1].get_array(), conv_only[1])


def test_feature_maps_reach_into_a_nested_net(tmp_path):
    block = tinyml.Net([Conv2D("conv", (1, 4, 4), 3, 3, 3, 1, 1), ReLu("relu")], name="block")
    net = tinyml.Net([block, Flatten("flat")])
    figure = plot_feature_maps(net, "block.conv", np.ones((1, 4, 4)), tmp_path / "m.png",
                               **SMALL)
    assert len(images_of(figure)) == 3


def test_feature_maps_unknown_layer_lists_the_names(tmp_path):
    with pytest.raises(KeyError, match=r"no layer named 'conv2'.*'conv', 'relu', 'pool'"):
        plot_feature_maps(small_conv_net(), "conv2", np.ones((1, 6, 6)), tmp_path / "m.png")


def test_feature_maps_need_image_output_and_restore_modes_on_error(tmp_path):
    net = small_conv_net()
    with pytest.raises(ValueError, match=r"'flat' .*outputs shape \(36,\) per sample"):
        plot_feature_maps(net, "flat", np.ones((1, 6, 6)), tmp_path / "m.png", **SMALL)
    assert all(layer.training for layer in (net, *net.layers))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("make_net", "x", "error", "match"), [
    (small_conv_net, np.ones((2, 1, 6, 6)), ValueError, "one input; got a batch of 2"),
    (lambda: Linear("fc", 4, 2), np.ones((1, 4)), TypeError, "takes a tinyml Net"),
], ids=["batch", "not-a-net"])
def test_feature_maps_refuse_bad_input(tmp_path, make_net, x, error, match):
    with pytest.raises(error, match=match):
        plot_feature_maps(make_net(), "conv", x, tmp_path / "m.png", **SMALL)


# ---------------------------------------------------------------------------- misclassified
LABELS = np.array([0, 1, 2, 3, 4, 5])
PREDICTED = np.array([0, 2, 2, 1, 4, 0])  # images 1, 3 and 5 are wrong


@pytest.mark.parametrize("shape", [(6, 64), (6, 8, 8), (6, 1, 8, 8), (6, 8, 8, 3),
                                   (6, 3, 8, 8)])
def test_misclassified_tiles_the_wrong_ones(tmp_path, backend, shape):
    x = backend.asarray(np.random.default_rng(1).random(shape))
    figure = plot_misclassified(x, backend.asarray(LABELS), PREDICTED, tmp_path / "m.png",
                                **SMALL)
    assert_only_png(tmp_path, "m.png")
    tiles = images_of(figure)
    assert [ax.get_title() for ax in figure.axes] == ["1 → 2", "3 → 1", "5 → 0"]
    colour = len(shape) == 4 and 3 in shape
    assert [tile.get_array().shape for tile in tiles] == [(8, 8, 3) if colour else (8, 8)] * 3


def test_misclassified_caps_tiles_and_names_classes(tmp_path):
    scores = np.eye(6)[PREDICTED]  # (N, K) scores stand for their argmax
    figure = plot_misclassified(np.zeros((6, 4, 4)), LABELS, scores, tmp_path / "m.png",
                                max_images=2, class_names=list("abcdef"), **SMALL)
    assert [ax.get_title() for ax in figure.axes] == ["b → c", "d → b"]
    assert texts_of(figure) == ["2 of 3 misclassified shown (6 images)"]  # the suptitle


def test_misclassified_with_none_wrong_still_writes_a_png(tmp_path):
    figure = plot_misclassified(np.zeros((6, 4, 4)), LABELS, LABELS, tmp_path / "m.png",
                                **SMALL)
    assert_only_png(tmp_path, "m.png")
    assert images_of(figure) == []
    assert texts_of(figure.axes[0]) == ["no misclassified images"]


@pytest.mark.parametrize(("x", "predicted", "extra", "error", "match"), [
    (np.zeros((6, 63)), PREDICTED, {}, ValueError, "63 is not a square"),
    (np.zeros((6, 2, 4, 4)), PREDICTED, {}, ValueError, r"got \(6, 2, 4, 4\)"),
    (np.zeros((6, 4, 4)), PREDICTED[:5], {}, ValueError, "predicted must be"),
    (np.zeros((6, 4, 4)), PREDICTED + 0.5, {}, ValueError, "whole class numbers"),
    (np.zeros((6, 4, 4)), PREDICTED, {"class_names": ["a"]}, ValueError, "class 1 appears"),
    (np.zeros((6, 4, 4)), PREDICTED, {"max_images": 0}, ValueError, "max_images must be >= 1"),
])
def test_misclassified_refuses_bad_input(tmp_path, x, predicted, extra, error, match):
    with pytest.raises(error, match=match):
        plot_misclassified(x, LABELS, predicted, tmp_path / "m.png", **extra, **SMALL)


# ---------------------------------------------------------------------------- all of them
CALLS = {
    "plot_history": lambda path: plot_history({"loss": [1.0]}, path, **SMALL),
    "plot_confusion_matrix": lambda path: plot_confusion_matrix(np.eye(2), path, **SMALL),
    "plot_filters": lambda path: plot_filters(Conv2D("c", (1, 3, 3), 2, 2, 2, 1, 0), path,
                                              **SMALL),
    "plot_feature_maps": lambda path: plot_feature_maps(small_conv_net(), "conv",
                                                        np.ones((1, 6, 6)), path, **SMALL),
    "plot_misclassified": lambda path: plot_misclassified(np.zeros((2, 4)), [0, 1], [1, 1],
                                                          path, **SMALL),
}


@pytest.mark.parametrize("name", CALLS)
def test_missing_folder_is_refused_before_drawing(tmp_path, name):
    with pytest.raises(FileNotFoundError, match="does not exist.*os.makedirs"):
        CALLS[name](tmp_path / "missing" / "plot.png")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("path", "error", "match"), [
    ("plot.jpg", ValueError, "must end in '.png'"),
    ("folder.png", IsADirectoryError, "is a folder"),
])
def test_path_must_be_a_png_file(tmp_path, path, error, match):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(error, match=match):
        CALLS["plot_history"](tmp_path / path)


@pytest.mark.parametrize(("size", "error", "match"), [
    ({"figsize": (4, 0)}, ValueError, "figsize must be positive"),
    ({"figsize": 4}, TypeError, r"figsize must be \(width, height\)"),
    ({"dpi": "high"}, TypeError, "dpi must be a number"),
    ({"figsize": (0.01, 1), "dpi": 10}, ValueError, "under one pixel"),
])
def test_size_is_checked(tmp_path, size, error, match):
    with pytest.raises(error, match=match):
        plot_confusion_matrix(np.eye(2), tmp_path / "cm.png", **size)


@pytest.mark.parametrize("name", CALLS)
def test_missing_matplotlib_says_what_to_install(tmp_path, monkeypatch, name):
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules: import fails
    with pytest.raises(ImportError, match=r'matplotlib.*pip install -e "\.\[plots\]" in the root'):
        CALLS[name](tmp_path / "plot.png")
    assert not list(tmp_path.iterdir())


def test_importing_tinyml_loads_no_matplotlib_and_drawing_loads_no_pyplot(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import tinyml
        assert "matplotlib" not in sys.modules, "import tinyml imported matplotlib"
        tinyml.viz.plot_confusion_matrix(np.eye(2), {str(tmp_path / "cm.png")!r}, dpi=10)
        assert "matplotlib" in sys.modules
        assert "matplotlib.pyplot" not in sys.modules, "a picture went through pyplot"
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert png_size(tmp_path / "cm.png") == (60, 60)


# ---------------------------------------------------------------------------- labels and scales
def suptitle(figure):
    """The figure's title (Figure.get_suptitle is matplotlib 3.8+; the floor is 3.7)."""
    text = getattr(figure, "_suptitle", None)
    return figure.get_suptitle() if hasattr(figure, "get_suptitle") else (
        "" if text is None else text.get_text())


def test_history_has_a_title_and_one_epoch_sits_in_the_middle_of_its_axis(tmp_path):
    figure = plot_history({"loss": [0.7], "accuracy": [0.8]}, tmp_path / "h.png", **SMALL)
    assert suptitle(figure) == "training history, 1 epoch"
    for ax in figure.axes:
        assert ax.get_xlim() == (0.5, 1.5)
        assert [tick for tick in ax.get_xticks() if 0.5 <= tick <= 1.5] == [1.0]
    three = plot_history(HISTORY, tmp_path / "h3.png", title="mine", **SMALL)
    assert suptitle(three) == "mine" and three.axes[0].get_xlim() == (0.5, 3.5)


def test_confusion_matrix_title_says_samples_and_accuracy(tmp_path):
    cm = np.array([[5, 1], [2, 2]])
    figure = plot_confusion_matrix(cm, tmp_path / "cm.png", **SMALL)
    assert figure.axes[0].get_title() == "confusion matrix: 10 samples, accuracy 0.700"
    given = plot_confusion_matrix(cm, tmp_path / "cm2.png", title="test set", **SMALL)
    assert given.axes[0].get_title() == "test set"


def test_feature_maps_share_one_colour_scale_with_a_colour_bar(tmp_path):
    net = tinyml.Net([Conv2D("conv", (1, 4, 4), 3, 3, 3, 1, 1)])
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    figure = plot_feature_maps(net, "conv", x, tmp_path / "maps.png", **SMALL)
    with tinyml.no_grad():
        maps = tinyml.to_numpy(net.forward(tinyml.asarray(x)))[0]
    images = images_of(figure)
    assert len(images) == 3
    for image in images:
        assert image.get_clim() == pytest.approx((maps.min(), maps.max()))
    colour_bars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 1 and colour_bars[0].get_ylabel() == "conv output"
