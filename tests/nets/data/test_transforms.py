import numpy as np
import pytest

from nets import data
from nets.data.transforms import pca_of
from tests.tolerance import assert_close


@pytest.fixture
def images():
    return np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)


def test_random_crop_with_padding_is_a_shifted_window(images):
    out = data.RandomCrop(4, padding=2)(images, np.random.default_rng(0))
    assert out.shape == images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for n in range(2):
        found = [
            (t, s)
            for t in range(5)
            for s in range(5)
            if np.array_equal(padded[n, :, t : t + 4, s : s + 4], out[n])
        ]
        assert found


def test_horizontal_flip(images):
    out = data.HorizontalFlip(p=1.0)(images, np.random.default_rng(0))
    np.testing.assert_array_equal(out, images[..., ::-1])
    same = data.HorizontalFlip(p=0.0)(images, np.random.default_rng(0))
    np.testing.assert_array_equal(same, images)


def test_normalize_per_channel(images):
    out = data.Normalize([1.0, 2.0, 3.0], [2.0, 4.0, 0.5])(images, None)
    np.testing.assert_allclose(out[1, 2], (images[1, 2] - 3.0) / 0.5)
    with pytest.raises(ValueError, match=r"Normalize: 2 channel statistics for images with 3"):
        data.Normalize([0, 0], [1, 1])(images, None)


def test_pca_color_jitter_shifts_along_the_eigenvectors(images):
    eigval, eigvec = np.array([1.0, 0.5, 0.1]), np.eye(3)[:, [2, 0, 1]]
    jitter = data.PCAColorJitter(std=0.1, eigval=eigval, eigvec=eigvec)
    out = jitter(images, np.random.default_rng(5))
    alpha = np.random.default_rng(5).normal(0, 0.1, (2, 3))
    expected_shift = eigvec @ (alpha[0] * eigval)  # Krizhevsky et al. 2012, section 4.1
    # float32 alpha and eigval, their product, a 3-term dot, added to the pixels and subtracted
    # again: 8 terms, on the scale of the pixels (the shift is recovered by cancellation)
    assert_close(
        out[0] - images[0],
        np.broadcast_to(expected_shift[:, None, None], (3, 4, 4)),
        terms=8,
        scale=float(np.abs(out[0]).max()),
    )


def test_pca_of_recovers_a_known_covariance():
    rng = np.random.default_rng(0)
    pixels = rng.normal(size=(20000, 3)) * [3.0, 1.0, 0.2]
    eigval, eigvec = pca_of(pixels.T.reshape(3, -1, 1)[None].swapaxes(0, 0).reshape(1, 3, -1, 1))
    # the sampling error of 20000 draws (about sqrt(2 / 20000) = 1%), not rounding
    np.testing.assert_allclose(eigval, [9.0, 1.0, 0.04], rtol=0.05)
    assert abs(eigvec[0, 0]) > 0.99


def test_compose_and_shape_errors(images):
    t = data.Compose(data.HorizontalFlip(1.0), data.Normalize([0, 0, 0], [2, 2, 2]))
    np.testing.assert_allclose(t(images, np.random.default_rng(0)), images[..., ::-1] / 2)
    with pytest.raises(ValueError, match=r"RandomCrop: expected a batch of images \(N, C, H, W\)"):
        data.RandomCrop(2)(images[0], np.random.default_rng(0))
