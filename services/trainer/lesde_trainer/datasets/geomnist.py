"""GEOMNIST: 32x32 grey images of filled geometric shapes, with the authors' geometry.

Each class is one shape, drawn white (1) on black (0) in its own frame (x to the right,
y down the rows, origin at the image centre) and then placed in the image by

    p = R(theta) q + d,

a rotation by ``theta`` about the shape's centre (clockwise as displayed, since y points
down) followed by a shift ``d``. The shapes,
in pixels (DESIGN section 3; the dimensions of the authors' generator):

- rectangle: width 8 (x) by height 16 (y), centred on its centre;
- triangle: isosceles, base 20 (along x) and height 22 (apex up), centred on its
  centroid, i.e. the base lies at y = +22/3 and the apex at y = -2 * 22/3. The centroid
  (not the bounding-box centre) keeps the shape's centre of mass at the image centre
  under every rotation, and its farthest point (the apex, 14.7 px) stays closer to the
  centre than the bounding-box centre's farthest corner (14.9 px);
- ellipse: semi-axes 6 (x) and 12 (y), each jittered per sample by an independent
  uniform offset in [-1, 1] px, centred on its centre.

Rectangle and triangle are shifted by ``d`` uniform in [-1, 1] px in x and in y (the
ellipse is not shifted: its size jitter plays that role). Across the ``n`` samples of a
class the angles are ``linspace(0, 176, n)`` degrees, so a random train/validation
split sees the whole range in both parts. Each image is then blurred by a Gaussian with
sigma uniform in [0.9, 1.1] px. No coordinate of any shape's point exceeds 14.7 + 1 px
from the image centre (the triangle's apex plus a shift), so the image border (16 px)
never cuts a shape; only the tail of the blur can leave the image.

Rasterisation is exact area sampling on a 4x4 grid of points per pixel (coverage in
steps of 1/16; edges at whole or quarter pixels are therefore hit exactly), and the blur
is the separable matrix product ``G @ image @ G.T`` with the kernel of
``scipy.ndimage.gaussian_filter(..., mode="constant", truncate=4.0)``. Everything is
vectorised over samples and deterministic in ``(seed, shape)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .errors import InvalidDataSpec

#: Recorded with every experiment: a change of geometry or random stream changes it.
GENERATOR_VERSION = "authors-2021.1"
IMAGE_SIZE = 32
CLASS_NAMES = ("triangle", "rectangle", "ellipse")
MAX_ANGLE_DEG = 176.0
SIGMA_RANGE = (0.9, 1.1)
#: Nominal dimensions in px, (x, y) in the shape's own frame.
RECTANGLE_SIZE = (8.0, 16.0)  # width, height
TRIANGLE_SIZE = (20.0, 22.0)  # base, height
ELLIPSE_SEMI_AXES = (6.0, 12.0)
ELLIPSE_JITTER = 1.0  # each semi-axis + uniform [-1, 1] px
SHIFT_JITTER = 1.0  # rectangle and triangle: shift uniform [-1, 1] px in x and in y
TRUNCATE = 4.0  # blur kernel half-width in sigmas, as scipy.ndimage's default
_NOMINAL = {"rectangle": RECTANGLE_SIZE, "triangle": TRIANGLE_SIZE, "ellipse": ELLIPSE_SEMI_AXES}
_SUPERSAMPLE = 4
_CHUNK = 256  # samples rasterised at once: bounds the (n, 128, 128) temporaries to ~30 MB each


@dataclass(frozen=True)
class ShapeParameters:
    """The random draw behind the ``n`` images of one class.

    Attributes
    ----------
    angles_deg : ndarray of shape (n,)
        Rotation in degrees, ``linspace(0, 176, n)``.
    dims : ndarray of shape (n, 2)
        The shape's dimensions in px: rectangle (width, height), triangle (base,
        height), ellipse (semi-axis along x, semi-axis along y), before rotation.
    offsets : ndarray of shape (n, 2)
        Shift (x, y) in px of the shape's centre from the image centre (0 for ellipses).
    sigmas : ndarray of shape (n,)
        Blur standard deviation in px.
    """

    angles_deg: np.ndarray
    dims: np.ndarray
    offsets: np.ndarray
    sigmas: np.ndarray


def sample_parameters(shape: str, count: int, *, seed: int) -> ShapeParameters:
    """Angles, dimensions, shifts and blurs of ``count`` samples of ``shape``.

    The class's own random stream depends only on ``seed`` and the shape's canonical
    index, so a triangle set is the same whatever other classes are requested.
    """
    _check_shape(shape)
    _check_count(count)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidDataSpec(f"seed: must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6E0, CLASS_NAMES.index(shape)]))
    sigmas = rng.uniform(*SIGMA_RANGE, size=count)
    dims = np.broadcast_to(np.asarray(_NOMINAL[shape]), (count, 2)).copy()
    offsets = np.zeros((count, 2))
    if shape == "ellipse":
        dims += rng.uniform(-ELLIPSE_JITTER, ELLIPSE_JITTER, size=(count, 2))
    else:
        offsets = rng.uniform(-SHIFT_JITTER, SHIFT_JITTER, size=(count, 2))
    return ShapeParameters(angles_deg=np.linspace(0.0, MAX_ANGLE_DEG, count), dims=dims, offsets=offsets, sigmas=sigmas)


def rasterise(shape: str, *, angles_deg: np.ndarray, dims: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Fraction of each pixel covered by the rotated, shifted shape (no blur).

    Parameters
    ----------
    shape : one of CLASS_NAMES
    angles_deg : array_like of shape (n,)
    dims, offsets : array_like of shape (n, 2)
        As in :class:`ShapeParameters`.

    Returns
    -------
    coverage : ndarray of shape (n, 32, 32), float64 in [0, 1], multiples of 1/16
    """
    _check_shape(shape)
    angles_deg, dims, offsets = _check_arrays(angles_deg=angles_deg, dims=dims, offsets=offsets)
    n = angles_deg.shape[0]
    coverage = np.empty((n, IMAGE_SIZE, IMAGE_SIZE))
    for start in range(0, n, _CHUNK):
        part = slice(start, min(start + _CHUNK, n))
        coverage[part] = _coverage(shape, angles_deg[part], dims[part], offsets[part])
    return coverage


def gaussian_blur(images: np.ndarray, *, sigmas: np.ndarray) -> np.ndarray:
    """Blur each image with its own isotropic Gaussian, zero outside the image.

    Parameters
    ----------
    images : array_like of shape (n, 32, 32)
    sigmas : array_like of shape (n,), each > 0

    Returns
    -------
    blurred : ndarray of shape (n, 32, 32), float64
    """
    images = np.asarray(images, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise InvalidDataSpec(f"images: expected shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}), got {images.shape}")
    if sigmas.shape != images.shape[:1] or not np.all(sigmas > 0):
        raise InvalidDataSpec(f"sigmas: expected {images.shape[0]} values > 0, got shape {sigmas.shape}")
    blur = _blur_matrices(sigmas)
    return blur @ images @ blur.transpose(0, 2, 1)


def render_shape(shape: str, *, angles_deg: np.ndarray, dims: np.ndarray, offsets: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Draw one shape under many rotations, sizes, shifts and blurs.

    Parameters
    ----------
    shape : one of CLASS_NAMES
    angles_deg, sigmas : array_like of shape (n,)
    dims, offsets : array_like of shape (n, 2)

    Returns
    -------
    images : ndarray of shape (n, 32, 32), float32 in [0, 1]
    """
    coverage = rasterise(shape, angles_deg=angles_deg, dims=dims, offsets=offsets)
    # The kernel weights sum to at most 1 and are >= 0, so only rounding can leave [0, 1].
    return np.clip(gaussian_blur(coverage, sigmas=sigmas), 0.0, 1.0).astype(np.float32)


def generate_geomnist_class(shape: str, count: int, *, seed: int) -> np.ndarray:
    """All ``count`` samples of one class, deterministic in ``(seed, shape)``.

    Returns
    -------
    images : ndarray of shape (count, 1, 32, 32), float32 in [0, 1]
        Sample ``i`` is rotated by ``176 * i / (count - 1)`` degrees.
    """
    params = sample_parameters(shape, count, seed=seed)
    images = render_shape(shape, angles_deg=params.angles_deg, dims=params.dims, offsets=params.offsets, sigmas=params.sigmas)
    return images[:, None]


def _coverage(shape: str, angles_deg: np.ndarray, dims: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    grid = (np.arange(IMAGE_SIZE * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - IMAGE_SIZE / 2
    theta = np.deg2rad(angles_deg)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    dx = grid[None, None, :] - offsets[:, 0, None, None]
    dy = grid[None, :, None] - offsets[:, 1, None, None]
    # q = R(-theta)(p - d): the sample points seen in the shape's own frame.
    u = cos * dx + sin * dy
    v = -sin * dx + cos * dy
    first, second = dims[:, 0, None, None], dims[:, 1, None, None]
    if shape == "rectangle":
        inside = (np.abs(u) <= first / 2) & (np.abs(v) <= second / 2)
    elif shape == "ellipse":
        inside = (u / first) ** 2 + (v / second) ** 2 <= 1.0
    else:
        # Apex (0, -2h/3), base from (-b/2, h/3) to (b/2, h/3): the half-width grows
        # linearly from 0 at the apex to b/2 at the base.
        inside = (v <= second / 3) & (np.abs(u) <= first / 2 * (v + 2 * second / 3) / second)
    n = angles_deg.shape[0]
    s = _SUPERSAMPLE
    return inside.reshape(n, IMAGE_SIZE, s, IMAGE_SIZE, s).mean(axis=(2, 4))


def _blur_matrices(sigmas: np.ndarray) -> np.ndarray:
    """Gaussian blur as (n, 32, 32) matrices G, blurred = G @ image @ G.T.

    Kernel radius ``int(4 sigma + 0.5)`` and normalisation over that window, as
    scipy.ndimage.gaussian_filter; with mode='constant' the outside is 0, so the
    truncated matrix is exact.
    """
    offsets = np.arange(IMAGE_SIZE)[:, None] - np.arange(IMAGE_SIZE)[None, :]
    radius = (TRUNCATE * sigmas + 0.5).astype(np.int64)
    s = sigmas[:, None, None]
    weights = np.exp(-0.5 * (offsets[None] / s) ** 2) * (np.abs(offsets)[None] <= radius[:, None, None])
    window = np.arange(-radius.max(), radius.max() + 1)[None, :]
    norm = (np.exp(-0.5 * (window / sigmas[:, None]) ** 2) * (np.abs(window) <= radius[:, None])).sum(axis=1)
    return weights / norm[:, None, None]


def _check_shape(shape: str) -> None:
    if shape not in CLASS_NAMES:
        raise InvalidDataSpec(f"shape: unknown GEOMNIST shape {shape!r}; allowed: {list(CLASS_NAMES)}")


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise InvalidDataSpec(f"count: must be an integer >= 1, got {count!r}")


def _check_arrays(*, angles_deg: ArrayLike, dims: ArrayLike, offsets: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    angles_deg = np.asarray(angles_deg, dtype=np.float64)
    dims = np.asarray(dims, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.float64)
    if angles_deg.ndim != 1:
        raise InvalidDataSpec(f"angles_deg: expected shape (n,), got {angles_deg.shape}")
    n = angles_deg.shape[0]
    for name, value in (("dims", dims), ("offsets", offsets)):
        if value.shape != (n, 2):
            raise InvalidDataSpec(f"{name}: expected shape ({n}, 2) to match angles_deg, got {value.shape}")
    if not np.all(dims > 0):
        raise InvalidDataSpec("dims: every dimension must be > 0 px")
    return angles_deg, dims, offsets
