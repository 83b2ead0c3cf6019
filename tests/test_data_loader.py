"""The DataLoader: every sample once per epoch, orders fixed by (seed, epoch), the epoch rule,
the transform hook, and clear errors."""

import numpy as np
import pytest

from tinyml.data import DataLoader


def samples(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return x, np.arange(n)  # y is each sample's index: batches show the order


def ys(loader, epoch):
    return np.concatenate([y for _, y in loader.batches(epoch)])


@pytest.mark.parametrize("shuffle", [False, True])
def test_each_epoch_covers_every_sample_once(shuffle):
    x, y = samples(10)
    loader = DataLoader(x, y, batch_size=4, shuffle=shuffle)
    pairs = list(loader)
    assert len(loader) == 3 and [len(b) for b, _ in pairs] == [4, 4, 2]
    seen = np.concatenate([yb for _, yb in pairs])
    assert sorted(seen) == list(range(10))
    for xb, yb in pairs:
        np.testing.assert_array_equal(xb, x[yb])  # samples stay with their labels
    assert shuffle == (list(seen) != list(range(10)))


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(*samples(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b) for b, _ in loader] == [4, 4]
    assert len(DataLoader(*samples(8), batch_size=4, drop_last=True)) == 2


def test_the_order_is_fixed_by_seed_and_epoch():
    x, y = samples(50)
    first = DataLoader(x, y, batch_size=7, shuffle=True, seed=3)
    again = DataLoader(x, y, batch_size=7, shuffle=True, seed=3)
    np.testing.assert_array_equal(ys(first, 2), ys(again, 2))
    np.testing.assert_array_equal(ys(first, 2), np.random.default_rng([3, 2]).permutation(50))
    assert not np.array_equal(ys(first, 2), ys(first, 3))
    other_seed = DataLoader(x, y, batch_size=7, shuffle=True, seed=4)
    assert not np.array_equal(ys(first, 2), ys(other_seed, 2))


def test_each_iteration_advances_the_epoch_and_batches_changes_nothing():
    loader = DataLoader(*samples(30), batch_size=30, shuffle=True, seed=1)
    np.testing.assert_array_equal(ys(loader, 5), ys(loader, 5))
    assert loader.epoch == 0
    orders = []
    for _ in range(3):
        orders.append(next(y for _, y in loader))  # a loop left early still counts
    assert loader.epoch == 3
    for epoch, order in enumerate(orders):
        np.testing.assert_array_equal(order, ys(loader, epoch))


def test_set_epoch_resumes_with_the_orders_of_an_uninterrupted_run():
    x, y = samples(30)
    straight = DataLoader(x, y, batch_size=8, shuffle=True, seed=7)
    run = [np.concatenate([yb for _, yb in straight]) for _ in range(4)]
    resumed = DataLoader(x, y, batch_size=8, shuffle=True, seed=7)
    for epoch in (2, 3):
        resumed.set_epoch(epoch)
        np.testing.assert_array_equal(np.concatenate([yb for _, yb in resumed]), run[epoch])
    assert resumed.epoch == 4


def test_the_transform_runs_on_every_batch_and_batches_are_copies():
    x, y = samples(10)
    calls = []

    def flip_and_shift(xb, yb):
        calls.append(len(xb))
        xb[:] = -xb  # in place: must not touch the loader's x
        return xb[:, ::-1], yb + 100

    loader = DataLoader(x, y, batch_size=4, shuffle=False, transform=flip_and_shift)
    pairs = list(loader)
    assert calls == [4, 4, 2]
    np.testing.assert_array_equal(pairs[0][0], -x[:4, ::-1])
    np.testing.assert_array_equal(pairs[2][1], [108, 109])
    np.testing.assert_array_equal(loader.x, samples(10)[0])


def test_without_labels_batches_carry_none():
    loader = DataLoader([[1.0], [2.0], [3.0]], batch_size=2, shuffle=False)
    pairs = list(loader)
    assert [yb for _, yb in pairs] == [None, None]
    assert isinstance(pairs[0][0], np.ndarray) and pairs[1][0].tolist() == [[3.0]]


def test_the_attributes_the_learner_reads():
    transform = lambda xb, yb: (xb, yb)  # noqa: E731
    loader = DataLoader(*samples(5), batch_size=2, shuffle=True, seed=9, drop_last=True,
                        transform=transform)
    assert (loader.batch_size, loader.shuffle, loader.seed, loader.drop_last, loader.epoch) == \
        (2, True, 9, True, 0)
    assert loader.transform is transform and loader.x.shape == (5, 2) and loader.y.shape == (5,)
    assert "5 samples" in repr(loader)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"y": np.arange(9)}, ValueError, "x has 10 samples but y has 9 labels"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1; got 0"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an int; got 2.5"),
    ({"batch_size": True}, TypeError, "batch_size must be an int; got True"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ({"drop_last": 1}, TypeError, "drop_last must be True or False"),
    ({"batch_size": 11, "drop_last": True}, ValueError, "drop_last=True leaves no batch"),
    ({"transform": 3}, TypeError, "transform must be callable or None; got int"),
])
def test_bad_arguments(kwargs, error, message):
    arguments = {"x": samples(10)[0], "y": samples(10)[1], **kwargs}
    with pytest.raises(error, match=message):
        DataLoader(**arguments)


def test_empty_or_scalar_data_is_refused():
    with pytest.raises(ValueError, match=r"x must hold at least one sample; got shape \(0,\)"):
        DataLoader([])
    with pytest.raises(ValueError, match=r"y must hold at least one sample; got shape \(\)"):
        DataLoader([1.0], 3)


def test_device_arrays_are_refused_with_the_fix():
    class DeviceArray:
        def __array__(self, dtype=None, copy=None):
            raise TypeError("Implicit conversion to a NumPy array is not allowed")

    with pytest.raises(TypeError, match="x must be host data.*tinyml.backend.to_numpy"):
        DataLoader(DeviceArray())


def test_bad_epochs_and_a_transform_that_returns_no_pair():
    loader = DataLoader(*samples(4), batch_size=2, transform=lambda xb, yb: xb)
    with pytest.raises(ValueError, match="epoch must be >= 0; got -1"):
        loader.set_epoch(-1)
    with pytest.raises(TypeError, match="epoch must be an int"):
        list(loader.batches("1"))
    with pytest.raises(TypeError, match=r"transform must return a pair \(x_batch, y_batch\)"):
        list(loader)
