import numpy as np
import pytest

from nets import data


def _numbered(n):
    return data.TensorDataset(np.arange(n) * 10, np.arange(n))


def test_batch_dataset_policies_perm_filter_and_merge():
    ds = _numbered(7)
    b = data.BatchDataset(ds, 3)
    assert len(b) == 3
    x, y = b[2]  # the last, incomplete batch
    assert y.tolist() == [6] and x.tolist() == [60]
    assert len(data.BatchDataset(ds, 3, policy="skip-last")) == 2
    with pytest.raises(ValueError, match=r"size 7 is not divisible by the batch size 3"):
        data.BatchDataset(ds, 3, policy="divisible-only")
    with pytest.raises(ValueError, match="policy should be one of include-last, skip-last"):
        data.BatchDataset(ds, 3, policy="last")
    rev = data.BatchDataset(ds, 3, perm=lambda idx, size: size - 1 - idx)
    assert rev[0][1].tolist() == [6, 5, 4]
    odd = data.BatchDataset(ds, 4, filter=lambda s: int(s[1]) % 2 == 1)
    assert odd[0][1].tolist() == [1, 3] and odd[1][1].tolist() == [5]
    summed = data.BatchDataset(ds, 4, merge=lambda samples: sum(int(s[1]) for s in samples))
    assert summed[0] == 0 + 1 + 2 + 3
    dicts = data.BatchDataset(data.ListDataset(range(4), lambda i: {"v": np.full(2, i)}), 2)
    np.testing.assert_array_equal(dicts[1]["v"], [[2, 2], [3, 3]])


class _Deferred(data.Dataset):
    """Samples as generators: each yields once (its read "issued"), then returns the sample."""

    def __init__(self):
        self.log = []

    def __len__(self):
        return 4

    def __getitem__(self, i):
        def read():
            self.log.append(("start", i))
            yield
            self.log.append(("finish", i))
            return np.array([i]), i

        return read()


def test_coroutine_batch_dataset_starts_every_sample_then_finishes_them():
    ds = _Deferred()
    b = data.CoroutineBatchDataset(ds, 3)
    x, y = b[0]
    assert y.tolist() == [0, 1, 2]
    # every read is issued before any is finished, as Torchnet's coroutines
    assert ds.log == [("start", 0), ("start", 1), ("start", 2)] + [("finish", i) for i in range(3)]
    # plain datasets pass through
    assert data.CoroutineBatchDataset(_numbered(5), 2)[2][1].tolist() == [4]
