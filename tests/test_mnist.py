"""MNIST and Fashion-MNIST from folders of the four IDX files: shapes, dtypes, scaling, the
checks that name the bad file, and where load_fashion_mnist looks when given no path."""

import pathlib

import numpy as np
import pytest

from tinyml.data import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_fashion_mnist,
    load_mnist,
    save_idx,
)
from tinyml.data import mnist as mnist_module

DEBIAN = pathlib.Path("/usr/share/datasets/fashion-mnist")


def fake_folder(folder, gz, train=6, test=4, rows=5, cols=3):
    """The four files with known content: pixel values count up, labels cycle 0..9."""
    folder.mkdir(exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n in (("train", train), ("t10k", test)):
        images = (np.arange(n * rows * cols) % 256).astype(np.uint8).reshape(n, rows, cols)
        save_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images, gz=gz)
        save_idx(folder / f"{split}-labels-idx1-ubyte{suffix}",
                 (np.arange(n) % 10).astype(np.uint8), gz=gz)
    return folder


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("load", [load_mnist, load_fashion_mnist])
def test_a_folder_of_the_four_files_loads_scaled(tmp_path, gz, load):
    x_train, y_train, x_test, y_test = load(fake_folder(tmp_path / "data", gz))
    assert x_train.shape == (6, 1, 5, 3) and x_test.shape == (4, 1, 5, 3)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_array_equal(y_train, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][:6])
    expected = (np.arange(6 * 15) % 256).reshape(6, 1, 5, 3) / np.float32(255)
    np.testing.assert_allclose(x_train, expected, rtol=1e-7)


def test_pixels_span_zero_to_one(tmp_path):
    folder = fake_folder(tmp_path, gz=False, train=20, rows=4, cols=4)  # 320 values, so 0..255
    x_train = load_mnist(str(folder))[0]
    assert x_train.min() == 0.0 and x_train.max() == 1.0


def test_the_plain_file_wins_when_both_forms_are_present(tmp_path):
    fake_folder(tmp_path, gz=True)
    save_idx(tmp_path / "train-labels-idx1-ubyte", np.full(6, 7, np.uint8))
    np.testing.assert_array_equal(load_mnist(tmp_path)[1], np.full(6, 7))


def test_missing_files_are_named(tmp_path):
    fake_folder(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"MNIST files not found in .*: missing "
                       r"t10k-labels-idx1-ubyte \(plain or \.gz\); the folder must hold "
                       r"train-images-idx3-ubyte, train-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_label_and_image_counts_must_match(tmp_path):
    fake_folder(tmp_path, gz=True)
    save_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8), gz=True)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz' has 5 labels but "
                       r".*t10k-images-idx3-ubyte.gz' has 4 images"):
        load_mnist(tmp_path)


@pytest.mark.parametrize(("stem", "array", "problem"), [
    ("train-images-idx3-ubyte", np.zeros((6, 15), np.uint8), "images must be uint8 of shape"),
    ("train-images-idx3-ubyte", np.zeros((6, 5, 3), np.float32), r"got float32 of shape"),
    ("train-labels-idx1-ubyte", np.zeros((6, 1), np.uint8), "labels must be integers of shape"),
    ("train-labels-idx1-ubyte", np.array([0, 1, 2, 3, 10, 4], np.uint8),
     r"labels must be in \[0, 10\); got values from 0 to 10"),
    ("train-labels-idx1-ubyte", np.array([0, 1, -1, 3, 4, 5], np.int8), "from -1 to 5"),
])
def test_contents_that_cannot_be_mnist_name_the_file(tmp_path, stem, array, problem):
    fake_folder(tmp_path, gz=False)
    save_idx(tmp_path / stem, array)
    with pytest.raises(ValueError, match=f"{stem}.*{problem}"):
        load_mnist(tmp_path)


def test_class_names():
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert FASHION_MNIST_CLASSES[9] == "Ankle boot" and MNIST_CLASSES[3] == "3"


def test_fashion_mnist_not_found_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYML_FASHION_MNIST", raising=False)
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_FOLDER", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError) as caught:
        load_fashion_mnist()
    message = str(caught.value)
    assert "absent" in message and "sudo apt-get install dataset-fashion-mnist" in message
    assert "https://github.com/zalandoresearch/fashion-mnist" in message
    assert "TINYML_FASHION_MNIST" in message and "tinyml downloads nothing" in message


def test_the_environment_variable_names_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_FOLDER", str(tmp_path / "absent"))
    monkeypatch.setenv("TINYML_FASHION_MNIST", str(fake_folder(tmp_path / "mine", gz=True)))
    assert load_fashion_mnist()[0].shape == (6, 1, 5, 3)
    monkeypatch.setenv("TINYML_FASHION_MNIST", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="empty"):
        load_fashion_mnist()


def test_an_explicit_path_beats_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYML_FASHION_MNIST", str(tmp_path / "absent"))
    assert len(load_fashion_mnist(fake_folder(tmp_path / "given", gz=False))[3]) == 4


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_the_debian_package_files(monkeypatch):
    monkeypatch.delenv("TINYML_FASHION_MNIST", raising=False)
    x_train, y_train, x_test, y_test = load_fashion_mnist()
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
