"""What a convolution learned: its filters, and the maps one input makes in a layer."""

import numpy as np

from ..backend import array_namespace, to_numpy
from ..core import Net, Parameter, no_grad
from ..layers import Deconv2D
from ._figure import draw_tiles, save_png, start_figure, unit_range


def plot_filters(layer, path, *, title=None, figsize=(8, 8), dpi=100, cmap="gray"):
    """Draw a convolution's filters, one tile each, to a PNG at `path`; return the Figure.

    Filter f of a Conv2D is ``weight[f]``, of shape (in_channels, kh, kw); a Deconv2D, whose
    weight is (in_channels, out_channels, kh, kw), has ``weight[:, f]``. A filter over 3 input
    channels is drawn in colour (channel 0 red, 1 green, 2 blue); any other number of input
    channels is averaged into one grey image. Each tile is scaled to its own minimum and
    maximum (black to white), so tiles show patterns, not magnitudes; a constant filter is mid
    grey. Tiles are titled with the filter index and laid out ceil(sqrt(F)) to a row.

    Parameters
    ----------
    layer : Conv2D or Deconv2D, or any layer with a 4-D ``weight`` Parameter
        Its weights are copied to the host.
    path : str or os.PathLike
        Where to write the PNG; must end in ``.png`` and its folder must exist.
    title : str, optional
    figsize : (float, float)
        Width and height in inches.
    dpi : float
        Pixels per inch. The PNG is ``int(figsize[0] * dpi)`` by ``int(figsize[1] * dpi)``
        pixels: 800 x 800 by default.
    cmap : str
        Colour map of the grey tiles.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If `layer` has no 4-D ``weight`` Parameter (Linear, Conv1D, ReLu, ...), naming it.
    FileNotFoundError
        If the folder of `path` does not exist (checked before drawing).
    ModuleNotFoundError
        If matplotlib is not installed: ``pip install "tinyml-xp[plots]"``.
    """
    filters = _filters_of(layer)
    path, figure = start_figure("plot_filters", path, figsize, dpi)
    draw_tiles(figure, [_filter_image(kernel) for kernel in filters],
               [str(index) for index in range(len(filters))], cmap=cmap, vmin=0, vmax=1)
    if title:
        figure.suptitle(title)
    save_png(figure, path)
    return figure


def _filters_of(layer):
    """The host array (F, C, kh, kw) of `layer`'s filters."""
    weight = getattr(layer, "weight", None)
    shape = tuple(weight.shape) if isinstance(weight, Parameter) else None
    if shape is None or len(shape) != 4:
        who = layer.describe() if hasattr(layer, "describe") else type(layer).__name__
        has = "no weight Parameter" if shape is None else f"a weight of shape {shape}"
        raise TypeError(f"plot_filters draws a 2-D convolution's filters, a 4-D weight "
                        f"(filters, channels, kh, kw); {who} has {has}. Pass a Conv2D layer, "
                        "e.g. net['conv1'].")
    filters = to_numpy(weight.data)
    return np.swapaxes(filters, 0, 1) if isinstance(layer, Deconv2D) else filters


def _filter_image(kernel):
    """(kh, kw, 3) colour for 3 channels, else the channel mean (kh, kw); scaled to [0, 1]."""
    if kernel.shape[0] == 3:
        return unit_range(np.moveaxis(kernel, 0, -1))
    return unit_range(kernel.mean(axis=0))


def plot_feature_maps(net, layer_name, x, path, *, title=None, figsize=(8, 8), dpi=100,
                      cmap="viridis"):
    """Run one input through `net` up to layer `layer_name` and draw each channel of that
    layer's output as a tile, to a PNG at `path`; return the Figure.

    The layers from the first one up to and including `layer_name` run in eval mode (Dropout
    passes everything, BatchNorm uses its running statistics) inside ``tinyml.no_grad()``,
    so no record is kept; every layer's training mode is put back afterwards, even when a
    layer raises. The output for the sample must be (C, H, W); channel c is tile c, coloured
    by its own minimum and maximum.

    Parameters
    ----------
    net : Net
    layer_name : str
        A layer of `net`; a dotted name (``"block.conv"``) reaches into a Net inside it.
    x : array of shape (1, ...) or one sample
        One input, host or any backend's; it is put on the net's backend and dtype. Without
        the batch axis it is added: when the net declares its input shape (a first Conv2D or
        Linear does) by the number of axes, otherwise unless the first axis is 1.
    path : str or os.PathLike
        Where to write the PNG; must end in ``.png`` and its folder must exist.
    title : str, optional
    figsize : (float, float)
        Width and height in inches.
    dpi : float
        Pixels per inch. The PNG is ``int(figsize[0] * dpi)`` by ``int(figsize[1] * dpi)``
        pixels: 800 x 800 by default.
    cmap : str
        A matplotlib colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If `net` is not a tinyml Net.
    KeyError
        If `net` has no layer `layer_name`; the message lists the names it has.
    ValueError
        If `x` holds more than one sample, or the layer's output is not (C, H, W) per sample.
    FileNotFoundError
        If the folder of `path` does not exist (checked before anything runs).
    ModuleNotFoundError
        If matplotlib is not installed: ``pip install "tinyml-xp[plots]"``.
    """
    if not isinstance(net, Net):
        raise TypeError(f"plot_feature_maps takes a tinyml Net; got {type(net).__name__}")
    layers = _layers_up_to(net, layer_name)
    path, figure = start_figure("plot_feature_maps", path, figsize, dpi)  # before running the net
    maps = _feature_maps(net, layers, _one_input(net, x), layer_name)
    draw_tiles(figure, list(maps), [str(channel) for channel in range(len(maps))], cmap=cmap)
    if title:
        figure.suptitle(title)
    save_png(figure, path)
    return figure


def _layers_up_to(net, name):
    """The layers forward runs, in order, to produce the output of the layer named `name`."""
    found = _path(net, name) if isinstance(name, str) else None
    if found is None:
        raise KeyError(f"plot_feature_maps: the net has no layer named {name!r}; its layers: "
                       f"{_names(net)}")
    return found


def _path(net, name):
    head, _, rest = name.partition(".")
    for index, layer in enumerate(net.layers):
        if layer.name == head:
            if not rest:
                return [*net.layers[:index], layer]
            inner = _path(layer, rest) if isinstance(layer, Net) else None
            return None if inner is None else [*net.layers[:index], *inner]
    return None


def _names(net, prefix=""):
    names = []
    for layer in net.layers:
        names.append(prefix + layer.name)
        if isinstance(layer, Net):
            names.extend(_names(layer, f"{prefix}{layer.name}."))
    return names


def _one_input(net, x):
    """`x` on the net's backend with a batch axis of 1."""
    x = net.backend.asarray(x, copy=False)
    declared = net.declared_input_shape()
    shape = tuple(x.shape)
    unbatched = (len(shape) == len(declared) - 1 if declared is not None
                 else not shape or shape[0] != 1)
    if unbatched:
        x = array_namespace(x).expand_dims(x, axis=0)
    if x.shape[0] != 1:
        raise ValueError(f"plot_feature_maps draws the maps of one input; got a batch of "
                         f"{x.shape[0]} (shape {shape}). Pass x[:1].")
    return x


def _feature_maps(net, layers, x, layer_name):
    """The host array (C, H, W) that `layers` make of `x`, run in eval mode under no_grad."""
    modes = [(layer, layer.training) for layer in (net, *net.named_layers().values())]
    try:
        net.eval()
        with no_grad():
            for layer in layers:
                x = layer.forward(x)
    finally:
        for layer, training in modes:
            layer.training = training
    output = to_numpy(x)
    if output.ndim != 4:
        raise ValueError(f"plot_feature_maps draws (channels, H, W) maps, but layer "
                         f"{layer_name!r} ({layers[-1].describe()}) outputs shape "
                         f"{tuple(output.shape[1:])} per sample. Pick a convolution, pooling "
                         "or activation layer that keeps images.")
    return output[0]
