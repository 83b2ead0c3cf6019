"""The images a model got wrong, each titled "true → predicted"."""

import math

import numpy as np

from ..backend import to_numpy
from ..core import check_positive_int
from ._figure import (
    draw_message,
    draw_tiles,
    save_png,
    start_figure,
    unit_range,
)

NOTHING_WRONG = "no misclassified images"


def plot_misclassified(x, labels, predicted, path, max_images=25, class_names=None, *,
                       title=None, figsize=(8, 8), dpi=100, cmap="gray"):
    """Draw the first `max_images` images with ``predicted != labels`` as a grid of tiles,
    each titled "true → predicted", to a PNG at `path`; return the Figure.

    Grey images are coloured by their own minimum and maximum; colour images are scaled to
    [0, 1] by theirs. When nothing is misclassified the PNG still gets written, one blank
    axes saying "no misclassified images". Without a `title` the figure is titled with the
    counts, e.g. "25 of 130 misclassified shown (1797 images)".

    Parameters
    ----------
    x : array of shape (N, 1, H, W), (N, H, W), (N, H, W, 3), (N, 3, H, W) or (N, D)
        The images, host or any backend's (copied to the host). Flat rows need D to be a
        perfect square, H = W = sqrt(D).
    labels, predicted : array of shape (N,) of class indices, or (N, K) of scores
        The true and the predicted classes; a 2-D array (one-hot labels, a net's
        probabilities) stands for its argmax along axis 1.
    path : str or os.PathLike
        Where to write the PNG; must end in ``.png`` and its folder must exist.
    max_images : int
        At most this many tiles, in the order the images come.
    class_names : sequence of str, optional
        Names of the classes, indexed by class; the indices themselves by default.
    title : str, optional
    figsize : (float, float)
        Width and height in inches.
    dpi : float
        Pixels per inch. The PNG is ``int(figsize[0] * dpi)`` by ``int(figsize[1] * dpi)``
        pixels: 800 x 800 by default.
    cmap : str
        Colour map of grey images.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `x` has none of the shapes above, `labels` or `predicted` do not hold one whole
        class number per image, or `class_names` has no name for a class that appears.
    TypeError
        If `max_images` is not an int.
    FileNotFoundError
        If the folder of `path` does not exist (checked before drawing).
    ModuleNotFoundError
        If matplotlib is not installed: ``pip install -e ".[plots]"`` in a clone, or
        ``pip install matplotlib``.
    """
    images = _images(x)
    count = images.shape[0]
    true = _classes("labels", labels, count)
    guess = _classes("predicted", predicted, count)
    max_images = check_positive_int("plot_misclassified", "max_images", max_images)
    wrong = np.flatnonzero(true != guess)
    shown = wrong[:max_images]
    name = _namer(class_names, np.concatenate([true[shown], guess[shown]]))
    path, figure = start_figure("plot_misclassified", path, figsize, dpi)
    if shown.size:
        tiles = [unit_range(images[i]) if images.ndim == 4 else images[i] for i in shown]
        draw_tiles(figure, tiles, [f"{name(true[i])} → {name(guess[i])}" for i in shown],
                   cmap=cmap)
    else:
        draw_message(figure, NOTHING_WRONG)
    figure.suptitle(title if title else
                    f"{shown.size} of {wrong.size} misclassified shown ({count} images)")
    save_png(figure, path)
    return figure


def _images(x):
    """Host float images (N, H, W) or (N, H, W, 3)."""
    images = to_numpy(x)
    shape = tuple(images.shape)
    if images.dtype.kind not in "biuf":
        raise ValueError(f"plot_misclassified: x must hold numbers; got dtype {images.dtype}")
    if images.ndim == 2 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        images = images.reshape(shape[0], side, side)
    elif images.ndim == 4 and shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4 and shape[-1] in (1, 3):
        images = images[..., 0] if shape[-1] == 1 else images
    elif images.ndim == 4 and shape[1] == 3:
        images = np.moveaxis(images, 1, -1)
    elif images.ndim != 3:
        raise ValueError(
            "plot_misclassified: x must be images of shape (N, 1, H, W), (N, H, W), "
            f"(N, H, W, 3), (N, 3, H, W), or flat (N, D) with D a perfect square; got {shape}"
            + (f": {shape[1]} is not a square; reshape to (N, H, W)" if images.ndim == 2
               else ""))
    return images.astype(np.float64)


def _classes(argument, values, count):
    """Host int64 class indices (N,) from indices (N,) or scores (N, K)."""
    classes = to_numpy(values)
    if classes.ndim == 2:
        classes = classes.argmax(axis=1)
    if classes.ndim != 1 or classes.shape[0] != count:
        raise ValueError(f"plot_misclassified: {argument} must be (N,) class indices or (N, K) "
                         f"scores for the N = {count} images; got shape {tuple(classes.shape)}")
    if classes.dtype.kind not in "iuf":
        raise ValueError(f"plot_misclassified: {argument} must hold class numbers; got dtype "
                         f"{classes.dtype}")
    fractional = classes[classes != np.round(classes)]  # NaN included
    if fractional.size:
        raise ValueError(f"plot_misclassified: {argument} must hold whole class numbers; got "
                         f"{fractional[0]}")
    return classes.astype(np.int64)


def _namer(class_names, used):
    """The function that spells a class: its name, or its index without `class_names`."""
    if class_names is None:
        return str
    if isinstance(class_names, str):
        raise TypeError("plot_misclassified: class_names must be a sequence of names, not one "
                        f"string; got {class_names!r}")
    names = [str(name) for name in class_names]
    outside = used[(used < 0) | (used >= len(names))]
    if outside.size:
        raise ValueError(f"plot_misclassified: class_names has {len(names)} names but class "
                         f"{int(outside[0])} appears; give a name to every class")
    return lambda index: names[index]
