"""Training curves: the losses and metrics a ``History`` kept, epoch by epoch."""

import math
from collections.abc import Iterable, Mapping

import numpy as np

from ..core import counted
from ._figure import save_png, start_figure

NOT_CURVES = ("epoch_time",)  # seconds per epoch: not a quality of the model
LEARNING_RATE = "lr"


def plot_history(history, path, *, title=None, figsize=(10, 5), dpi=100):
    """Draw training curves to a PNG at `path` and return the matplotlib Figure.

    Keys holding ``"loss"`` (``loss``, ``val_loss``, ...) share the left axes; every other key
    (``accuracy``, ``val_accuracy``, ``top_5``, ...) shares the right one, which is left out
    when there are no such keys. ``"epoch_time"`` is not drawn. ``"lr"`` (the learning rate)
    gets a small third axes below the others, on a log scale when all its values are
    positive. The x axis is the epoch number, from 1. NaN, infinite and None values are
    drawn as gaps in their curve.

    Parameters
    ----------
    history : dict of {str: list of float}, or an object with such a ``.history`` dict
        ``tinyml.callbacks.History``, a Keras ``History``, or ``history.history`` itself.
    path : str or os.PathLike
        Where to write the PNG; must end in ``.png`` and its folder must exist.
    title : str, optional
        Drawn above the axes; by default ``"training history, N epochs"``.
    figsize : (float, float)
        Width and height in inches.
    dpi : float
        Pixels per inch. The PNG is ``int(figsize[0] * dpi)`` by ``int(figsize[1] * dpi)``
        pixels: 1000 x 500 by default.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If `history` is not a dict (and has no ``.history`` dict), or a value is not a list.
    ValueError
        If an entry is not a number (one number per epoch), or no key has values to draw.
    FileNotFoundError
        If the folder of `path` does not exist (checked before drawing).
    ModuleNotFoundError
        If matplotlib is not installed: ``pip install -e ".[plots]"`` in a clone, or
        ``pip install matplotlib``.
    """
    curves = _curves(history)
    path, figure = start_figure("plot_history", path, figsize, dpi)
    rate = curves.pop(LEARNING_RATE, None)
    losses = {key: values for key, values in curves.items() if "loss" in key}
    metrics = {key: values for key, values in curves.items() if key not in losses}
    panels = [(group, label) for group, label in ((losses, "loss"), (metrics, "metric"))
              if group]
    rows = bool(panels) + (rate is not None)
    grid = figure.add_gridspec(rows, max(len(panels), 1),
                               height_ratios=[3, 1] if rows == 2 else None)
    for column, (group, label) in enumerate(panels):
        _draw_curves(figure.add_subplot(grid[0, column]), group, label)
    if rate is not None:
        ax = _draw_curves(figure.add_subplot(grid[-1, :]), {LEARNING_RATE: rate},
                          "learning rate")
        finite = rate[np.isfinite(rate)]
        if finite.size and (finite > 0).all():
            ax.set_yscale("log")
    epochs = max(values.size for values in (*curves.values(), *([] if rate is None else [rate])))
    figure.suptitle(title if title else f"training history, {counted(epochs, 'epoch')}")
    save_png(figure, path)
    return figure


def _curves(history):
    """{key: float64 array, NaN for non-finite} of every key to draw, in the history's order."""
    records = getattr(history, "history", history)
    if not isinstance(records, Mapping):
        raise TypeError("plot_history takes a dict of lists of floats or an object with such a "
                        ".history dict (tinyml.callbacks.History, Keras' History); got "
                        f"{type(history).__name__}")
    curves = {}
    for key, values in records.items():
        if key in NOT_CURVES:
            continue
        curve = _as_curve(key, values)
        if curve.size:
            curves[str(key)] = curve
    if not curves:
        raise ValueError(f"plot_history: nothing to draw; the history has no values "
                         f"(keys: {list(records)})")
    return curves


def _as_curve(key, values):
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"plot_history: history[{key!r}] must be a list of numbers, one per "
                        f"epoch; got {type(values).__name__}")
    numbers = []
    for value in values:
        try:
            number = math.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"plot_history: history[{key!r}] must hold one number per epoch; "
                             f"found {value!r}") from None
        numbers.append(number if math.isfinite(number) else math.nan)
    return np.asarray(numbers, dtype=np.float64)


def _draw_curves(ax, curves, label):
    """One line per curve against epochs 1..n, dotted markers so lone points show."""
    from matplotlib.ticker import MaxNLocator

    for key, values in curves.items():
        ax.plot(np.arange(1, values.size + 1), values, marker=".", label=key)
    ax.set_xlabel("epoch")
    # Half an epoch of margin: one epoch alone would get matplotlib's (0.945, 1.05) otherwise.
    ax.set_xlim(0.5, max(values.size for values in curves.values()) + 0.5)
    ax.set_ylabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax
