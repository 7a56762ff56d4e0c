"""Data augmentation from the papers, on batches of CHW images: ``t(inputs, rng) -> inputs``.

Every transform takes a NumPy batch ``(N, C, H, W)`` and a ``numpy.random.Generator`` (the
iterator's seeded one), so an augmented run repeats exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_batch(name: str, x: np.ndarray) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a batch of images (N, C, H, W), got shape {x.shape}")


class Compose:
    """Compose(t1, t2, ...): apply the transforms in order."""

    def __init__(self, *transforms):
        self.transforms = transforms

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for t in self.transforms:
            x = t(x, rng)
        return x


class RandomCrop:
    """RandomCrop(size[, padding]): zero-pad by `padding`, then crop `size` at a random place.

    The CIFAR augmentation of He et al. 2015 (4-pixel padding, 32x32 crops).
    """

    def __init__(self, size: int | tuple[int, int], padding: int = 0):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch("RandomCrop", x)
        p = self.padding
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        th, tw = self.size
        n, _, h, w = x.shape
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop {self.size} larger than padded image {(h, w)}")
        tops = rng.integers(0, h - th + 1, size=n)
        lefts = rng.integers(0, w - tw + 1, size=n)
        return np.stack(
            [
                x[i, :, t : t + th, s : s + tw]
                for i, (t, s) in enumerate(zip(tops, lefts, strict=True))
            ]
        )


class HorizontalFlip:
    """HorizontalFlip([p]): mirror each image left-right with probability `p` (0.5)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch("HorizontalFlip", x)
        flip = rng.random(len(x)) < self.p
        return np.where(flip[:, None, None, None], x[..., ::-1], x)


class Normalize:
    """Normalize(mean, std): per-channel ``(x - mean[c]) / std[c]``."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError("Normalize: mean and std must be 1-D and of the same length")
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be > 0, got {self.std.tolist()}")

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        _check_batch("Normalize", x)
        if x.shape[1] != len(self.mean):
            raise ValueError(
                f"Normalize: {len(self.mean)} channel statistics for images with "
                f"{x.shape[1]} channels"
            )
        mean = self.mean[None, :, None, None]
        std = self.std[None, :, None, None]
        return ((x - mean) / std).astype(np.float32)


# The RGB pixel covariance's eigen-decomposition on ImageNet, as used by fb.resnet.torch.
IMAGENET_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


class PCAColorJitter:
    """PCAColorJitter([std][, eigval][, eigvec]): AlexNet's "fancy PCA" lighting noise.

    Each image gets ``eigvec @ (alpha * eigval)`` added to every pixel, ``alpha ~ N(0, std)``
    per image (Krizhevsky et al. 2012, section 4.1; std 0.1). The eigen-decomposition defaults to
    ImageNet's RGB covariance; compute your data's with ``pca_of(images)``.
    """

    def __init__(self, std: float = 0.1, eigval=IMAGENET_EIGVAL, eigvec=IMAGENET_EIGVEC):
        self.std = std
        self.eigval = np.asarray(eigval, np.float32)
        self.eigvec = np.asarray(eigvec, np.float32)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _check_batch("PCAColorJitter", x)
        if x.shape[1] != 3:
            raise ValueError(f"PCAColorJitter: expected RGB images (3 channels), got {x.shape[1]}")
        alpha = rng.normal(0.0, self.std, size=(len(x), 3)).astype(np.float32)
        shift = (alpha * self.eigval) @ self.eigvec.T  # N x 3
        return (x + shift[:, :, None, None]).astype(x.dtype)


def pca_of(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors (columns) of the RGB covariance of `images` (N, 3, H, W)."""
    pixels = np.moveaxis(np.asarray(images, np.float64), 1, -1).reshape(-1, 3)
    eigval, eigvec = np.linalg.eigh(np.cov(pixels, rowvar=False))
    return eigval[::-1].copy(), eigvec[:, ::-1].copy()
