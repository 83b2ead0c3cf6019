"""scikit-learn's handwritten digits (1,797 8x8 images, 10 classes), shipped with scikit-learn,
so nothing is downloaded."""

import numpy as np

from ..backend import extra_install


def load_digits(*, flat=False, test_fraction=0.2, seed=0):
    """The digits as host arrays, split into train and test with every class in both.

    Parameters
    ----------
    flat : bool
        False gives images (N, 1, 8, 8) for convolutional nets; True gives vectors (N, 64).
    test_fraction : float in (0, 1)
        Share of each class held out for testing.
    seed : int
        Seeds the split (NumPy's generator, independent of tinyml.seed).

    Returns
    -------
    x_train, y_train, x_test, y_test
        Pixels as float32 scaled to [0, 1]; labels as int64 in [0, 10).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise RuntimeError("the digits dataset comes with scikit-learn: "
                           f"{extra_install('data', 'scikit-learn')}") from None
    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test[members[: round(len(members) * test_fraction)]] = True
    x = images.reshape(len(images), 64) if flat else images[:, None, :, :]
    return x[~test], labels[~test], x[test], labels[test]
