"""What every picture shares: matplotlib found (or an error that says how to install it), the
path and size checked, a new Figure on the Agg canvas, images laid out in a grid, the PNG
written.

Figures are made with ``matplotlib.figure.Figure`` and ``FigureCanvasAgg`` directly, never
through pyplot: no GUI backend is chosen, no display is needed, and no figure is left in
pyplot's global registry between calls.
"""

import io
import math
import numbers
import os

import numpy as np

INSTALL_HINT = 'pip install "tinyml-xp[plots]" (from a clone: pip install -e ".[plots]")'


def require_matplotlib(who):
    """(Figure, FigureCanvasAgg), imported now; ModuleNotFoundError with the fix if missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ModuleNotFoundError(
            f"tinyml.viz.{who} draws with matplotlib, which is not installed. "
            f"Install the plots extra: {INSTALL_HINT}", name="matplotlib") from error
    return Figure, FigureCanvasAgg


def check_path(who, path):
    """`path` as a str, refused unless it ends in ``.png`` and its folder exists."""
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"{who}: path must be a str or os.PathLike; got "
                        f"{type(path).__name__}") from None
    if not path.lower().endswith(".png"):
        raise ValueError(f"{who} writes a PNG; the path must end in '.png'; got {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path!r} is a folder; give a file name inside it, "
                                f"such as {os.path.join(path, 'plot.png')!r}")
    if os.path.exists(path) and not os.path.isfile(path):  # a pipe would block the write
        raise ValueError(f"{who}: {path!r} is not a regular file (a named pipe, a device?); "
                         "name a .png file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{who}: the folder {folder!r} does not exist, so {path!r} "
                                f"cannot be written; create it first "
                                f"(os.makedirs({folder!r}, exist_ok=True))")
    return path


def check_size(who, figsize, dpi):
    """(width, height) in inches and dpi as floats, refused unless positive and finite and
    at least one pixel each way."""
    def positive(argument, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{who}: {argument} must be a number; got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{who}: {argument} must be positive and finite; got {value!r}")
        return float(value)

    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise TypeError(f"{who}: figsize must be (width, height) in inches; got {figsize!r}")
    width, height = (positive("figsize", extent) for extent in figsize)
    dpi = positive("dpi", dpi)
    if width * dpi < 1 or height * dpi < 1:
        raise ValueError(f"{who}: figsize {tuple(figsize)} at dpi {dpi:g} is under one pixel; "
                         "use a larger figsize or dpi")
    return (width, height), dpi


def new_figure(who, figsize, dpi):
    """An empty Figure of `figsize` inches at `dpi` on an Agg canvas, laid out by matplotlib's
    constrained layout."""
    figure_class, canvas_class = require_matplotlib(who)
    figure = figure_class(figsize=figsize, dpi=dpi, layout="constrained")
    canvas_class(figure)
    return figure


def start_figure(who, path, figsize, dpi):
    """(path, figure): `path` and the size checked (before anything is drawn), then the empty
    Figure that `who` draws on."""
    path = check_path(who, path)
    figsize, dpi = check_size(who, figsize, dpi)
    return path, new_figure(who, figsize, dpi)


def save_png(figure, path):
    """Render `figure` to PNG bytes, then write them to `path` (nothing is written if drawing
    fails)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    with open(path, "wb") as file:
        file.write(buffer.getvalue())


def tile_axes(figure, count):
    """`count` axes in a near-square grid (ceil(sqrt(count)) columns), row by row, without
    ticks."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    axes = [figure.add_subplot(rows, columns, index + 1) for index in range(count)]
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


def draw_tiles(figure, tiles, titles, **imshow_options):
    """One ``imshow`` per tile, titled, on a grid (:func:`tile_axes`); returns the axes."""
    axes = tile_axes(figure, len(tiles))
    for ax, tile, label in zip(axes, tiles, titles, strict=True):
        ax.imshow(tile, interpolation="nearest", **imshow_options)
        ax.set_title(label, fontsize=8)
    return axes


def draw_message(figure, message):
    """A figure with nothing to show: one blank axes saying `message`."""
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    return ax


def unit_range(values):
    """`values` mapped linearly onto [0, 1] by their own finite min and max (a constant array
    becomes 0.5 everywhere); non-finite entries stay NaN."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.full(values.shape, np.nan)
    low, high = finite.min(), finite.max()
    if high == low:
        return np.where(np.isfinite(values), 0.5, np.nan)
    return np.where(np.isfinite(values), (values - low) / (high - low), np.nan)
