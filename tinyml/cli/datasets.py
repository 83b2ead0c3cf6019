"""``--dataset digits|fashion-mnist|mnist|idx:DIR``, ``--data-dir`` and ``--limit``: which
images a command reads, all from disk (nothing is downloaded)."""

import argparse
import os
from dataclasses import dataclass

import numpy as np

from ..data import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_digits,
    load_fashion_mnist,
    load_mnist,
)
from .arguments import non_negative_int, positive_int

NAMES = ("digits", "fashion-mnist", "mnist")
IDX_PREFIX = "idx:"
# One sample's shape per named dataset, known without reading the files (for `summary`).
SAMPLE_SHAPES = {"digits": (1, 8, 8), "fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28)}
CLASS_NAMES = {"digits": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES,
               "mnist": MNIST_CLASSES}


@dataclass
class Dataset:
    """A dataset's splits as host arrays, after --limit, and what it was before."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    full_sizes: tuple  # (train, test) before --limit

    @property
    def sample_shape(self):
        return tuple(self.x_train.shape[1:])

    def describe(self):
        """'1438 training and 359 test images of digits', with what --limit left out."""
        train, test = len(self.x_train), len(self.x_test)
        if (train, test) == self.full_sizes:
            return f"{train} training and {test} test images of {self.name}"
        return (f"{train} of {self.full_sizes[0]} training and {test} of {self.full_sizes[1]} "
                f"test images of {self.name} (--limit)")


def dataset_spec(text):
    """argparse type of --dataset: a name in NAMES, or idx:DIR."""
    if text in NAMES:
        return text
    if text.startswith(IDX_PREFIX) and text[len(IDX_PREFIX):].strip():
        return text
    raise argparse.ArgumentTypeError(
        f"must be {', '.join(NAMES)} or idx:DIR (a folder holding the four MNIST-style IDX "
        f"files); got {text!r}")


def add_dataset_arguments(parser, *, seed=True, remembered=False):
    """--dataset, --data-dir, --limit and --seed. With `remembered` (evaluate, for a saved net)
    --dataset, --data-dir and --seed default to what the weights file stores."""
    default = "the dataset the net was trained on (stored with it), else digits" if \
        remembered else "digits"
    parser.add_argument("--dataset", type=dataset_spec, default=None if remembered else "digits",
                        help="digits (scikit-learn's 8x8 digits), fashion-mnist (Debian's "
                             "dataset-fashion-mnist files, or --data-dir), mnist (needs "
                             "--data-dir), or idx:DIR (any folder with the four MNIST-style "
                             f"IDX files); default: {default}")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="the folder with the four IDX files for mnist or fashion-mnist")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use only the first N training and the first N test images "
                             "(quick runs)")
    if seed:
        parser.add_argument("--seed", type=non_negative_int, default=None if remembered else 0,
                            help="seeds tinyml's generators and the digits' train/test split "
                                 "(default 0" + (", or the one the net was trained with)"
                                                 if remembered else ")"))


def check_dataset_arguments(spec, data_dir):
    """Refuse --data-dir where it does not apply or is missing, before reading anything."""
    if spec == "mnist" and data_dir is None:
        raise ValueError("--dataset mnist needs --data-dir DIR, the folder holding "
                         "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                         "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz); "
                         "tinyml downloads nothing")
    if data_dir is not None and spec not in ("mnist", "fashion-mnist"):
        where = "the folder is in idx:DIR already" if spec.startswith(IDX_PREFIX) else \
            "the digits come with scikit-learn"
        raise ValueError(f"--data-dir applies to --dataset mnist and fashion-mnist, not "
                         f"{spec} ({where}); leave --data-dir out")


def load(spec, data_dir=None, *, limit=None, seed=0):
    """The Dataset that --dataset `spec`, --data-dir and --limit name."""
    check_dataset_arguments(spec, data_dir)
    if spec == "digits":
        splits = load_digits(flat=False, seed=seed)
    elif spec == "fashion-mnist":
        splits = load_fashion_mnist(data_dir)
    elif spec == "mnist":
        splits = load_mnist(data_dir)
    else:
        splits = load_mnist(spec[len(IDX_PREFIX):])
    x_train, y_train, x_test, y_test = splits
    full = (len(x_train), len(x_test))
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    if len(x_train) == 0 or len(x_test) == 0:
        raise ValueError(f"--dataset {spec} has {full[0]} training and {full[1]} test images; "
                         "both splits need at least one")
    return Dataset(spec, x_train, y_train, x_test, y_test, class_names_of(spec), full)


def stored_description(spec, data_dir, seed, data):
    """What ``tinyml train`` stores with the net (``net.metadata``), so that evaluate, predict
    and summary default to it: the dataset (folders made absolute), its seed, the samples'
    shape and the class names."""
    if spec.startswith(IDX_PREFIX):
        spec = IDX_PREFIX + os.path.abspath(spec[len(IDX_PREFIX):])
    return {"dataset": spec, "data_dir": None if data_dir is None else os.path.abspath(data_dir),
            "seed": seed, "input_shape": list(data.sample_shape),
            "class_names": list(data.class_names)}


def remembered_dataset(args, metadata):
    """(--dataset, --data-dir, --seed) for a saved net: each flag given, else what the file
    stores (`metadata`), else the defaults (digits, none, 0). A --data-dir is taken from the
    file only with the dataset it belongs to."""
    stored = metadata.get("dataset")
    spec = args.dataset or stored or "digits"
    data_dir = args.data_dir
    if data_dir is None and spec == stored:
        data_dir = metadata.get("data_dir")
    seed = args.seed if args.seed is not None else metadata.get("seed", 0)
    return spec, data_dir, seed


def class_names_of(spec):
    """The class names of --dataset `spec` (the digits 0-9 for an idx:DIR folder)."""
    return CLASS_NAMES.get(spec, MNIST_CLASSES)


def sample_shape_of(spec):
    """One sample's shape for --dataset `spec`; an idx:DIR folder's files are read."""
    if spec in SAMPLE_SHAPES:
        return SAMPLE_SHAPES[spec]
    return tuple(load(spec).x_test.shape[1:])
