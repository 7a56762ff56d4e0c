import numpy as np
import pytest
from PIL import Image

from nets import data


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    pixels = {}
    for cls in ["cat", "dog"]:
        (tmp_path / cls).mkdir()
        for k in range(2):
            arr = rng.integers(0, 256, (6, 5, 3)).astype(np.uint8)
            Image.fromarray(arr).save(tmp_path / cls / f"{k}.png")
            pixels[(cls, k)] = arr
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    return tmp_path, pixels


def test_image_folder_classes_samples_and_pixels(folder):
    root, pixels = folder
    ds = data.ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and len(ds) == 4
    x, y = ds[3]
    assert x.shape == (3, 6, 5) and int(y) == 1
    # PNG is lossless, and uint8 / 255 correctly rounded to float32 is float64's quotient rounded
    want = np.transpose(pixels[("dog", 1)], (2, 0, 1)) / 255.0
    np.testing.assert_array_equal(x, want.astype(np.float32))


def test_image_folder_resizes_so_batches_stack(folder):
    root, _ = folder
    it = data.DatasetIterator(data.ImageFolder(root, size=(8, 8)), batch_size=4, prefetch=0)
    x, y = next(iter(it))
    assert x.shape == (4, 3, 8, 8) and y.tolist() == [0, 0, 1, 1]


def test_corrupt_image_names_the_file(folder):
    root, _ = folder
    (root / "cat" / "0.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(data.DataFileError, match=r"cannot decode image .*cat/0.png"):
        data.ImageFolder(root)[0]


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ImageFolder: no folder at .*nowhere"):
        data.ImageFolder(tmp_path / "nowhere")
