"""An ImageNet-style folder of images: ``root/<class name>/<image file>``.

Class indices follow the sorted class-folder names (as ImageNet's synset order does).
Images are decoded with Pillow on access.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._files import DataFileError
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
        self.classes = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        self.samples = [
            (path, label)
            for label, name in enumerate(self.classes)
            for path in sorted((self.root / name).iterdir())
            if path.suffix.lower() in extensions
        ]
        if not self.samples:
            raise FileNotFoundError(
                f"ImageFolder: no images ({', '.join(extensions)}) in class folders under "
                f"{self.root}"
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int32]:
        from PIL import Image, UnidentifiedImageError

        path, label = self.samples[self._index(index)]
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                if self.size is not None:
                    image = image.resize((self.size[1], self.size[0]), Image.BILINEAR)
                pixels = np.asarray(image, np.float32) / 255.0
        except (UnidentifiedImageError, OSError) as error:
            raise DataFileError(f"ImageFolder: cannot decode image {path}: {error}") from error
        return np.transpose(pixels, (2, 0, 1)), np.int32(label)
