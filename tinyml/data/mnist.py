"""MNIST and Fashion-MNIST from their four IDX files on disk. tinyml downloads nothing.

A folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or gzipped (``.gz``);
where both forms are present the plain one is read (no decompression).
"""

import os
import pathlib

import numpy as np

from .idx import load_idx

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_MNIST_FOLDER = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
FASHION_MNIST_ENV = "TINYML_FASHION_MNIST"
FASHION_MNIST_HELP = ("Get them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu, "
                      f"installs to {FASHION_MNIST_FOLDER}), or download the four files from "
                      "https://github.com/zalandoresearch/fashion-mnist into a folder and pass "
                      f"it as path (or set {FASHION_MNIST_ENV} to it); tinyml downloads nothing.")


def load_mnist(path):
    """MNIST's 60,000 training and 10,000 test digits from the folder `path`.

    Returns
    -------
    x_train, y_train, x_test, y_test
        Images as float32 of shape (N, 1, rows, cols) (28x28 for the real files) scaled to
        [0, 1] (the bytes divided by 255); labels as int64 in [0, 10), as `load_digits`.

    Raises
    ------
    FileNotFoundError
        Naming the files missing from `path`.
    ValueError
        Naming the file that is not valid IDX, not uint8 images (N, rows, cols), not 1-D
        labels in [0, 10), or whose count differs between images and labels.
    """
    return _load(path, "MNIST", "")


def load_fashion_mnist(path=None):
    """Fashion-MNIST (Zalando's 28x28 clothing images, classes `FASHION_MNIST_CLASSES`).

    `path` None means the folder in the environment variable ``TINYML_FASHION_MNIST`` if it is
    set, else ``/usr/share/datasets/fashion-mnist`` (where Debian's package
    ``dataset-fashion-mnist`` installs the files). Returns and raises as `load_mnist`; the
    FileNotFoundError also says how to get the files.
    """
    if path is None:
        path = os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_FOLDER
    return _load(path, "Fashion-MNIST", " " + FASHION_MNIST_HELP)


def _load(path, name, help_text):
    folder = pathlib.Path(path)
    found = {stem: _find(folder, stem) for stem in FILES}
    missing = [stem for stem, file in found.items() if file is None]
    if missing:
        raise FileNotFoundError(
            f"{name} files not found in {str(folder)!r}: missing {', '.join(missing)} (plain or "
            f".gz); the folder must hold {', '.join(FILES)}.{help_text}")
    x_train, y_train = _pair(found[FILES[0]], found[FILES[1]])
    x_test, y_test = _pair(found[FILES[2]], found[FILES[3]])
    return x_train, y_train, x_test, y_test


def _find(folder, stem):
    for candidate in (folder / stem, folder / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _pair(images_file, labels_file):
    """Images (N, 1, rows, cols) float32 in [0, 1] and labels (N,) int64, checked."""
    images, labels = load_idx(images_file), load_idx(labels_file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{str(images_file)!r}: images must be uint8 of shape (N, rows, cols); "
                         f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{str(labels_file)!r}: labels must be integers of shape (N,); "
                         f"got {labels.dtype} of shape {labels.shape}")
    if len(labels) != len(images):
        raise ValueError(f"{str(labels_file)!r} has {len(labels)} labels but "
                         f"{str(images_file)!r} has {len(images)} images")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{str(labels_file)!r}: labels must be in [0, 10); got values from "
                         f"{labels.min()} to {labels.max()}")
    x = images[:, None, :, :].astype(np.float32)
    x /= 255  # in place: no float64 copy of 60,000 images
    return x, labels.astype(np.int64)
