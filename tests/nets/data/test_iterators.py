import threading

import numpy as np
import pytest

from nets import data


def dataset(n=10):
    return data.TensorDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


def test_batches_in_order_with_a_short_last_one():
    it = data.DatasetIterator(dataset(), batch_size=4)
    batches = [y.tolist() for _, y in it]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(it) == 3
    assert len(data.DatasetIterator(dataset(), 4, drop_last=True)) == 2


def test_seeded_shuffle_repeats_across_runs_and_changes_each_epoch():
    def epochs(seed):
        it = data.DatasetIterator(dataset(), 5, shuffle=True, seed=seed)
        return [np.concatenate([y for _, y in it]).tolist() for _ in range(2)]

    first = epochs(0)
    assert first == epochs(0)
    assert first[0] != first[1] and sorted(first[0]) == list(range(10))
    assert epochs(1) != first


def test_prefetch_runs_on_a_background_thread():
    seen = []

    class Recording(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            seen.append(threading.current_thread().name)
            return np.float32(i), i

    batches = list(data.DatasetIterator(Recording(), 2, prefetch=2))
    assert len(batches) == 2 and set(seen) == {"nets-data-prefetch"}


def test_errors_in_the_loader_reach_the_consumer():
    ds = data.ListDataset([1, 2, 3], load=lambda v: (1 / (v - 2), v))
    with pytest.raises(ZeroDivisionError):
        list(data.DatasetIterator(ds, 1))


def test_shards_split_each_global_batch():
    parts = [
        [y.tolist() for _, y in data.DatasetIterator(dataset(8), 4, shard=(k, 2))] for k in range(2)
    ]
    assert parts == [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]
    with pytest.raises(ValueError, match=r"shard=\(0, 3\) needs .* batch_size \(4\) divisible"):
        data.DatasetIterator(dataset(8), 4, shard=(0, 3))


def test_transform_gets_a_seeded_rng():
    it = data.DatasetIterator(dataset(), 10, transform=lambda x, rng: x + rng.random(x.shape))
    a = next(iter(it))[0]
    b = next(
        iter(data.DatasetIterator(dataset(), 10, transform=lambda x, rng: x + rng.random(x.shape)))
    )[0]
    np.testing.assert_array_equal(a, b)


def test_bad_batch_size():
    with pytest.raises(ValueError, match=r"batch_size must be an int >= 1, got 0"):
        data.DatasetIterator(dataset(), 0)


def test_set_epoch_reproduces_an_epochs_order():
    it = data.DatasetIterator(dataset(), 10, shuffle=True, seed=4)
    orders = [next(iter(it))[1].tolist() for _ in range(3)]
    it.set_epoch(2)
    assert next(iter(it))[1].tolist() == orders[2]
