"""Pictures of training and of what a net learned, written as PNG files (host side).

Needs matplotlib, the ``plots`` extra: ``pip install -e ".[plots]"`` in a clone of tinyml
(or ``pip install matplotlib``). Importing this module does not import matplotlib; each function
does when called and raises ModuleNotFoundError with that command if it is missing. Figures are
drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, no display, nothing
kept between calls); each function writes one PNG and returns its ``Figure``.

- :func:`plot_history`: loss and metric curves per epoch, the learning rate below.
- :func:`plot_confusion_matrix`: true classes by predicted ones, counts in the cells.
- :func:`plot_filters`: a convolution's filters, one tile each.
- :func:`plot_feature_maps`: the channels one input makes in a layer of a net.
- :func:`plot_misclassified`: the images a model got wrong, titled "true → predicted".
"""

from .confusion import plot_confusion_matrix
from .filters import plot_feature_maps, plot_filters
from .history import plot_history
from .images import plot_misclassified

__all__ = [
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_misclassified",
]
