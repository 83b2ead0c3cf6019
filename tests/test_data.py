"""The digits dataset: shapes, ranges, and a split that keeps every class in both parts."""

import sys

import numpy as np
import pytest

from tinyml.data import load_digits


@pytest.mark.extra("data")
def test_images_split_with_every_class_on_both_sides():
    x_train, y_train, x_test, y_test = load_digits()
    assert x_train.shape[1:] == (1, 8, 8) and x_train.dtype == np.float32
    assert len(x_train) + len(x_test) == 1797 and abs(len(x_test) - 360) <= 10
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert y_train.dtype == np.int64
    assert set(y_train) == set(y_test) == set(range(10))


@pytest.mark.extra("data")
def test_flat_vectors_and_a_seeded_split():
    first = load_digits(flat=True, seed=3)
    again = load_digits(flat=True, seed=3)
    other = load_digits(flat=True, seed=4)
    assert first[0].shape[1:] == (64,)
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[3], other[3])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2])
def test_bad_test_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction must be in"):
        load_digits(test_fraction=fraction)


def test_missing_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(RuntimeError, match=r'pip install -e "\.\[data\]" in the root of a clone'):
        load_digits()
