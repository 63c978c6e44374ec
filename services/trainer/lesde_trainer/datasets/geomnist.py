"""GEOMNIST: 32x32 grey images of filled geometric shapes (DESIGN section 3).

Each class is one shape. Across the samples of a class the shape is rotated by angles
spaced linearly over [0, 176] degrees, scaled by a small random factor (size jitter),
and blurred by a Gaussian whose sigma is uniform in [0.9, 1.1]. Pixel values lie in
[0, 1], background 0. Everything is vectorised numpy: rasterisation by 2x2
supersampled point-in-shape tests, blur as a separable matrix product per image.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 32
CLASS_NAMES = ("triangle", "rectangle", "ellipse")
MAX_ANGLE_DEG = 176.0
SIGMA_RANGE = (0.9, 1.1)
SCALE_RANGE = (0.9, 1.1)  # size jitter
_SUPERSAMPLE = 2
# Half-extents in pixels before jitter; elongated so that rotation changes the image.
_RECTANGLE_HALF = (10.0, 6.0)
_ELLIPSE_SEMI = (11.0, 6.5)
_TRIANGLE_CIRCUMRADIUS = 11.5


def _sample_grid() -> tuple[np.ndarray, np.ndarray]:
    """Supersampled pixel-centre coordinates relative to the image centre, shape (32s, 32s)."""
    step = 1.0 / _SUPERSAMPLE
    axis = (np.arange(IMAGE_SIZE * _SUPERSAMPLE) + 0.5) * step - IMAGE_SIZE / 2
    return np.meshgrid(axis, axis, indexing="xy")


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Point-in-shape test in the shape's own (unrotated, unscaled) frame."""
    if shape == "rectangle":
        return (np.abs(u) <= _RECTANGLE_HALF[0]) & (np.abs(v) <= _RECTANGLE_HALF[1])
    if shape == "ellipse":
        return (u / _ELLIPSE_SEMI[0]) ** 2 + (v / _ELLIPSE_SEMI[1]) ** 2 <= 1.0
    # Equilateral triangle centred at the origin: inside all three edge half-planes.
    inside = np.ones(u.shape, dtype=bool)
    inradius = _TRIANGLE_CIRCUMRADIUS / 2
    for edge_angle in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
        inside &= -(u * np.cos(edge_angle) + v * np.sin(edge_angle)) <= inradius
    return inside


def _blur_matrices(sigmas: np.ndarray) -> np.ndarray:
    """Gaussian blur as (n, 32, 32) matrices G, blurred = G @ image @ G.T.

    Truncated at 4 sigma and normalised like scipy.ndimage.gaussian_filter with
    mode='constant' (the background is 0, so zero padding is exact).
    """
    offsets = np.arange(IMAGE_SIZE)[:, None] - np.arange(IMAGE_SIZE)[None, :]
    radius = int(np.ceil(4 * SIGMA_RANGE[1]))
    window = np.arange(-radius, radius + 1)
    s = sigmas[:, None, None]
    weights = np.exp(-0.5 * (offsets[None] / s) ** 2) * (np.abs(offsets)[None] <= radius)
    norm = np.exp(-0.5 * (window[None, :] / sigmas[:, None]) ** 2).sum(axis=1)
    return weights / norm[:, None, None]


def render_shape(shape: str, *, angles_deg: np.ndarray, scales: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Draw one shape under many rotations, scales and blurs.

    Parameters
    ----------
    shape : one of CLASS_NAMES
    angles_deg, scales, sigmas : ndarray of shape (n,)

    Returns
    -------
    images : ndarray of shape (n, 32, 32), float32 in [0, 1]
    """
    gx, gy = _sample_grid()
    theta = np.deg2rad(angles_deg)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    s = scales[:, None, None]
    # Inverse rotation and scaling of the sample points = forward transform of the shape.
    u = (cos * gx + sin * gy) / s
    v = (-sin * gx + cos * gy) / s
    fine = _inside(shape, u, v).astype(np.float64)
    n = fine.shape[0]
    coverage = fine.reshape(n, IMAGE_SIZE, _SUPERSAMPLE, IMAGE_SIZE, _SUPERSAMPLE).mean(axis=(2, 4))
    blur = _blur_matrices(sigmas)
    images = blur @ coverage @ blur.transpose(0, 2, 1)
    return np.clip(images, 0.0, 1.0).astype(np.float32)


def generate_geomnist_class(shape: str, count: int, *, seed: int) -> np.ndarray:
    """All ``count`` samples of one class, deterministic in (seed, shape).

    The class's own random stream depends only on the shape's canonical index, so a
    triangle set is the same whatever other classes are requested.

    Returns
    -------
    images : ndarray of shape (count, 1, 32, 32), float32
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E0, CLASS_NAMES.index(shape)]))
    angles = np.linspace(0.0, MAX_ANGLE_DEG, count)
    scales = rng.uniform(*SCALE_RANGE, size=count)
    sigmas = rng.uniform(*SIGMA_RANGE, size=count)
    images = np.empty((count, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    chunk = 2000  # bounds the supersampled temporaries to ~100 MB
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        images[start:stop, 0] = render_shape(
            shape, angles_deg=angles[start:stop], scales=scales[start:stop], sigmas=sigmas[start:stop]
        )
    return images
