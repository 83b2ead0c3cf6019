"""Host-side data: datasets, IDX files and a DataLoader. Never device code."""

from .digits import load_digits
from .idx import load_idx, save_idx
from .loader import DataLoader
from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_fashion_mnist, load_mnist

__all__ = ["load_digits", "load_idx", "save_idx", "load_mnist", "load_fashion_mnist",
           "FASHION_MNIST_CLASSES", "MNIST_CLASSES", "DataLoader"]
