"""An ImageNet-style folder of images: ``root/<class name>/<image file>``.

Class indices follow the sorted class-folder names (as ImageNet's synset order does).
Images are decoded with Pillow on access.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._files import DataFileError, open_regular, regular
from .datasets import Dataset

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".gif", ".tif", ".tiff", ".webp")


class ImageFolder(Dataset):
    """ImageFolder(root[, size][, extensions]): ``ds[i] -> (image CHW float32 in [0,1], class)``.

    Args:
        root: the folder holding one sub-folder per class.
        size: ``(height, width)`` to resize every image to (bilinear), so batches stack;
            None keeps each image's own size.
        extensions: the file endings counted as images (case-insensitive).

    Attributes:
        classes: the class names, in index order.
        samples: ``(path, class index)`` pairs.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        size: tuple[int, int] | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
    ):
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"ImageFolder: no folder at {self.root}; expected root/<class>/<image> (e.g. an "
                "unpacked ImageNet train folder)"
            )
        self.size = size
        self.classes = sorted(p.name for p in _listing(self.root) if p.is_dir())
        self.samples = [
            (Path(entry.path), label)
            for label, name in enumerate(self.classes)
            for entry in sorted(_listing(self.root / name), key=lambda e: e.name)
            if os.path.splitext(entry.name)[1].lower() in extensions and _image_file(entry)
        ]
        if not self.samples:
            raise FileNotFoundError(
                f"ImageFolder: no images ({', '.join(extensions)}) in class folders under "
                f"{self.root}"
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int32]:
        from PIL import Image

        path, label = self.samples[self._index(index)]
        with open_regular(path, "ImageFolder") as file:  # a FIFO now is refused, never waited on
            try:
                with Image.open(file) as image:
                    image = image.convert("RGB")
                    if self.size is not None:
                        image = image.resize((self.size[1], self.size[0]), Image.BILINEAR)
                    pixels = np.asarray(image, np.float32) / 255.0
            except Exception as error:  # Pillow's decoders raise many kinds on hostile bytes
                raise DataFileError(
                    f"ImageFolder: cannot decode image {path}: {type(error).__name__}: {error}"
                ) from error
        return np.transpose(pixels, (2, 0, 1)), np.int32(label)


def _listing(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as error:
        raise DataFileError(f"ImageFolder: cannot list {folder}: {error.strerror}") from None


def _image_file(entry: os.DirEntry) -> bool:
    """True for a regular file (symbolic links followed); an image-named entry that is not one
    (a folder, a FIFO, a device, a dangling link or a link loop) is refused when the data set
    is made, not met when a batch blocks on it."""
    try:
        if entry.is_file():  # from the directory listing: no extra system call for most entries
            return True
    except OSError:  # a link loop; regular() says so
        pass
    regular(entry.path, "ImageFolder")  # raises, naming what the entry is
    return True
