"""``--plots DIR``: the pictures of a finished run, as PNG files (needs matplotlib)."""

import os

import numpy as np

from .. import viz
from ..backend import to_numpy
from ..metrics import confusion_matrix
from .arguments import check_folder_to_fill, require_module

FLAG = "--plots"


def check_plots_folder(path):
    """Before training: the folder can be used or created, and matplotlib is there."""
    if path is None:
        return
    check_folder_to_fill(FLAG, path, "plots")
    require_module(FLAG, "matplotlib", "plots")


def first_convolution(net):
    """The net's first layer with a 4-D weight (Conv2D, Deconv2D), or None."""
    for layer in net.layers:
        weight = getattr(layer, "weight", None)
        if weight is not None and len(weight.shape) == 4:
            return layer
    return None


def write_plots(folder, learner, dataset, predicted):
    """Write history.png (when epochs were trained), confusion_matrix.png, misclassified.png
    and, for a net with a convolution, filters.png and feature_maps.png (of its first one)
    into `folder` (created when missing). Returns (written paths, notes on what was not)."""
    os.makedirs(folder, exist_ok=True)
    written, notes = [], []

    def target(name):
        path = os.path.join(folder, name)
        written.append(path)
        return path

    if len(learner.history.get("loss", ())):
        viz.plot_history(learner.history, target("history.png"))
    else:
        notes.append("history.png: no epoch was trained")
    classes = len(dataset.class_names)
    cm = confusion_matrix(predicted, dataset.y_test, num_classes=classes)
    viz.plot_confusion_matrix(to_numpy(cm), target("confusion_matrix.png"),
                              class_names=dataset.class_names)
    viz.plot_misclassified(dataset.x_test, dataset.y_test, predicted, target("misclassified.png"),
                           class_names=dataset.class_names)
    conv = first_convolution(learner.net)
    if conv is None:
        notes.append("filters.png and feature_maps.png: the net has no convolution")
    else:
        viz.plot_filters(conv, target("filters.png"), title=f"{conv.name} filters")
        viz.plot_feature_maps(learner.net, conv.name, dataset.x_test[:1],
                              target("feature_maps.png"),
                              title=f"{conv.name} feature maps, test image 0 "
                                    f"(class {dataset.class_names[int(dataset.y_test[0])]})")
    return written, notes


def predicted_classes(learner, x):
    """The net's predicted class per sample, as a host int64 array."""
    return np.argmax(to_numpy(learner.predict(x)), axis=1).astype(np.int64)
