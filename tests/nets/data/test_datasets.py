import numpy as np
import pytest

from nets import data


def test_tensor_dataset_protocol():
    ds = data.TensorDataset(np.arange(10).reshape(5, 2), np.arange(5))
    assert len(ds) == 5 and ds.size() == 5
    x, y = ds[-1]
    assert x.tolist() == [8, 9] and int(y) == 4
    with pytest.raises(IndexError, match=r"TensorDataset: index 5 out of range for 5 samples"):
        ds[5]
    with pytest.raises(ValueError, match=r"inputs have 5 samples but targets have 4"):
        data.TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_list_dataset_loads_items():
    ds = data.ListDataset(["a", "bb", "ccc"], load=lambda s: (np.array([len(s)]), s[0]))
    assert ds[2][0].tolist() == [3] and ds[1][1] == "b"
    x, y = ds.batch(np.array([0, 2]))
    assert x.tolist() == [[1], [3]] and y.tolist() == ["a", "c"]


def test_split_is_disjoint_covering_and_seeded():
    ds = data.TensorDataset(np.arange(10), np.arange(10))
    a, b = data.split(ds, [0.7, 0.3], seed=1)
    assert (len(a), len(b)) == (7, 3)
    assert sorted([*a.indices, *b.indices]) == list(range(10))
    assert data.split(ds, [0.7, 0.3], seed=1)[0].indices.tolist() == a.indices.tolist()
    assert data.split(ds, [0.5, 0.5], seed=None)[1].indices.tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match=r"split: fractions must be positive and sum to at most 1"):
        data.split(ds, [0.8, 0.3])


def test_shuffle_and_transform_wrappers():
    ds = data.TensorDataset(np.arange(6), np.arange(6))
    sh = data.shuffle(ds, seed=3)
    assert sorted(int(sh[i][0]) for i in range(6)) == list(range(6))
    assert [int(sh[i][0]) for i in range(6)] != list(range(6))
    tr = data.TransformDataset(ds, lambda x: x * 10, lambda y: y + 1)
    assert (int(tr[2][0]), int(tr[2][1])) == (20, 3)


def test_torch7_data_and_label_alias_the_tensor_dataset_arrays():
    x = np.arange(24.0).reshape(4, 3, 2)
    y = np.array([3, 1, 0, 2])
    ds = data.TensorDataset(x, y)
    assert ds.data is ds.inputs and ds.label is ds.targets and ds.size() == 4
    np.testing.assert_array_equal(ds.data[2], ds[2][0])  # testset.data[100] is sample 100
    ds.data = ds.data * 2  # the seed's `trainset.data = trainset.data:cuda()`
    np.testing.assert_array_equal(ds[1][0], x[1] * 2)
    ds.label = y + 1
    assert int(ds[3][1]) == 3
    with pytest.raises(ValueError, match=r"inputs have 3 samples but targets have 4"):
        ds.data = x[:3]
    assert len(ds.data) == 4  # a refused assignment leaves the dataset as it was


def test_every_dataset_answers_data_and_label_by_stacking_its_samples():
    base = data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5) * 10)
    subset = data.SubsetDataset(base, [4, 0])
    np.testing.assert_array_equal(subset.data, [[8.0, 9.0], [0.0, 1.0]])
    np.testing.assert_array_equal(subset.label, [40, 0])
    listed = data.ListDataset(["ab", "c"], lambda s: (np.array([len(s)]), s.upper()))
    assert listed.data.tolist() == [[2], [1]] and listed.label.tolist() == ["AB", "C"]
    mapped = data.TransformDataset(base, lambda v: -v)
    np.testing.assert_array_equal(mapped.data, -base.inputs)


def _numbered(n, start=0):
    return data.TensorDataset(np.arange(start, start + n) * 10, np.arange(start, start + n))


def test_concat_dataset_walks_each_part_in_turn():
    parts = [_numbered(3), _numbered(1, 3), _numbered(4, 4)]
    ds = data.ConcatDataset(parts)
    assert len(ds) == 8
    assert [int(ds[i][1]) for i in range(8)] == list(range(8))
    assert int(ds[-1][1]) == 7
    with pytest.raises(IndexError, match="index 8 out of range for 8 samples"):
        ds[8]
    with pytest.raises(ValueError, match="datasets should not be empty"):
        data.ConcatDataset([])
    with pytest.raises(TypeError, match=r"datasets\[1\] should be a dataset"):
        data.ConcatDataset([parts[0], 5])


def test_resample_and_shuffle_datasets():
    base = _numbered(5)
    rev = data.ResampleDataset(base, lambda d, i: len(d) - 1 - i, size=3)
    assert len(rev) == 3 and [int(rev[i][1]) for i in range(3)] == [4, 3, 2]
    bad = data.ResampleDataset(base, lambda d, i: i + 5)
    with pytest.raises(IndexError, match=r"the sampler mapped index 0 to 5, outside the dataset's"):
        bad[0]
    sh = data.ShuffleDataset(base, seed=3)
    first = [int(sh[i][1]) for i in range(5)]
    assert sorted(first) == list(range(5))  # a permutation
    assert [int(sh[i][1]) for i in range(5)] == first  # fixed until resample()
    draws = set()
    for _ in range(5):
        sh.resample()
        draws.add(tuple(int(sh[i][1]) for i in range(5)))
    assert len(draws) > 1
    with_repl = data.ShuffleDataset(base, size=12, replacement=True)
    assert len(with_repl) == 12 and {int(with_repl[i][1]) for i in range(12)} <= set(range(5))
    with pytest.raises(ValueError, match="cannot exceed the dataset's 5 when sampling without"):
        data.ShuffleDataset(base, size=6)
