"""The confusion matrix as an image: rows are the true classes, columns the predicted ones."""

import numpy as np

from ..backend import to_numpy
from ._figure import save_png, start_figure

MOST_ANNOTATED = 20  # above this many classes the numbers would not fit in their cells


def plot_confusion_matrix(cm, path, class_names=None, normalize=False, *, title=None,
                          figsize=(6, 6), dpi=100, cmap="Blues"):
    r"""Draw confusion matrix `cm` to a PNG at `path` and return the matplotlib Figure.

    Cell (i, j) counts the samples of true class i predicted as class j: rows are true,
    columns predicted, with a colour bar beside. With ``normalize=True`` each row is divided
    by its sum, :math:`\hat c_{ij} = c_{ij} / \sum_k c_{ik}` (the fraction of class i given
    each label; a row of zeros stays zero) and the colours run from 0 to 1. For C <= 20
    classes every cell is annotated with its count (or, normalized, its fraction to two
    decimals); larger matrices are drawn without numbers.

    Parameters
    ----------
    cm : array of shape (C, C)
        Non-negative finite counts, from any backend (copied to the host).
    path : str or os.PathLike
        Where to write the PNG; must end in ``.png`` and its folder must exist.
    class_names : sequence of C str, optional
        Tick labels; the class indices by default.
    normalize : bool
        Show each row as fractions of its sum.
    title : str, optional
        Above the matrix; by default the number of samples and the accuracy (the diagonal's
        share), ``"confusion matrix: 359 samples, accuracy 0.972"``.
    figsize : (float, float)
        Width and height in inches.
    dpi : float
        Pixels per inch. The PNG is ``int(figsize[0] * dpi)`` by ``int(figsize[1] * dpi)``
        pixels: 600 x 600 by default.
    cmap : str
        A matplotlib colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `cm` is not square, not numeric, negative or not finite, or `class_names` does not
        have C entries.
    TypeError
        If `class_names` is one string instead of a sequence of them.
    FileNotFoundError
        If the folder of `path` does not exist (checked before drawing).
    ModuleNotFoundError
        If matplotlib is not installed: ``pip install -e ".[plots]"`` in a clone, or
        ``pip install matplotlib``.
    """
    counts = _check_matrix(cm)
    names = _check_names(class_names, counts.shape[0])
    path, figure = start_figure("plot_confusion_matrix", path, figsize, dpi)
    shown = _row_fractions(counts) if normalize else counts
    ax = figure.add_subplot()
    image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else None,
                      interpolation="nearest")
    figure.colorbar(image, ax=ax, shrink=0.8)
    classes = counts.shape[0]
    if names is not None or classes <= MOST_ANNOTATED:
        labels = names if names is not None else [str(index) for index in range(classes)]
        ax.set_xticks(range(classes), labels=labels, rotation=45 if names else 0,
                      ha="right" if names else "center")
        ax.set_yticks(range(classes), labels=labels)
    if classes <= MOST_ANNOTATED:
        _annotate(ax, shown, fraction=normalize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title if title else _default_title(counts))
    save_png(figure, path)
    return figure


def _default_title(counts):
    total = counts.sum()
    if total == 0:
        return "confusion matrix: no samples"
    samples = f"{int(total):,}" if total == round(total) else f"{total:g}"
    return f"confusion matrix: {samples} samples, accuracy {np.trace(counts) / total:.3f}"


def _check_matrix(cm):
    counts = to_numpy(cm)
    if counts.dtype.kind not in "biuf":
        raise ValueError(f"plot_confusion_matrix: cm must hold numbers; got dtype {counts.dtype}")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError("plot_confusion_matrix: cm must be a square (C, C) matrix of counts, "
                         f"true classes by row; got shape {counts.shape}")
    counts = counts.astype(np.float64)
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("plot_confusion_matrix: cm must hold non-negative finite counts; got "
                         f"values from {np.nanmin(counts)} to {np.nanmax(counts)}")
    return counts


def _check_names(class_names, classes):
    if class_names is None:
        return None
    if isinstance(class_names, str):
        raise TypeError("plot_confusion_matrix: class_names must be a sequence of names, "
                        f"not one string; got {class_names!r}")
    names = [str(name) for name in class_names]
    if len(names) != classes:
        raise ValueError(f"plot_confusion_matrix: class_names has {len(names)} names for a "
                         f"{classes}x{classes} matrix; give one per class")
    return names


def _row_fractions(counts):
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _annotate(ax, shown, *, fraction):
    """Each cell's value in its middle, white on the darker half of the colour range."""
    integral = not fraction and bool((shown == np.round(shown)).all())
    threshold = 0.5 if fraction else shown.max() / 2  # the middle of the colour range
    for (row, column), value in np.ndenumerate(shown):
        text = f"{value:.2f}" if fraction else f"{int(value)}" if integral else f"{value:.3g}"
        ax.text(column, row, text, ha="center", va="center", fontsize=8,
                color="white" if value > threshold else "black")
