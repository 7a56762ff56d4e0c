"""PyTorch .pth files read without torch: state dicts come back; hostile files are refused."""

import numpy as np
import pytest

from nets.interop import StateDictError
from nets.interop.pth import read_pth
from tests.nets.interop.pth_writer import write_pth


def test_a_state_dict_comes_back_exactly(tmp_path):
    arrays = {
        "conv1.weight": np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32),
        "bn1.num_batches_tracked": np.array(7, np.int64),
        "fc.bias": np.arange(5, dtype=np.float16),
        "t": np.arange(12.0).reshape(3, 4).T.copy(),  # float64
    }
    path = tmp_path / "m.pth"
    write_pth(path, arrays)
    back = read_pth(path)
    assert list(back) == list(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)


def test_torch_save_output_when_torch_is_here(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed (the bench extra)")
    sd = {"w": torch.arange(6.0).reshape(2, 3), "view": torch.arange(12.0).reshape(3, 4).t()}
    torch.save(sd, tmp_path / "t.pth")
    back = read_pth(tmp_path / "t.pth")
    for k, v in sd.items():
        np.testing.assert_array_equal(back[k], v.numpy())
    module_sd = torch.nn.BatchNorm2d(3).state_dict()  # an OrderedDict with _metadata
    torch.save(module_sd, tmp_path / "bn.pth")
    back = read_pth(tmp_path / "bn.pth")
    assert list(back) == list(module_sd)
    assert int(back["num_batches_tracked"]) == 0


def test_hostile_and_damaged_files_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    write_pth(path, {"w": np.zeros(2, np.float32)}, extra_global=("os", "system"))
    with pytest.raises(StateDictError, match=r"refers to os.system"):
        read_pth(path)
    write_pth(path, {"w": np.zeros(4, np.float32)}, sizes_off=True)
    with pytest.raises(StateDictError, match=r"storage '0': 12 bytes in the archive for 4"):
        read_pth(path)
    path.write_bytes(b"PK-but-not-a-zip")
    with pytest.raises(StateDictError, match=r"is not a zip archive"):
        read_pth(path)
