"""Uploaded data sets: what an ``.npz`` must hold, checked without unpickling or over-allocating.

The file holds ``x_train``, ``y_train``, ``x_val``, ``y_val`` and optionally ``class_names``:

- images (N, C, H, W) or (N, H, W) (then C = 1), C in {1, 3}, H and W from 8 to
  ``MAX_SIDE``, uint8 (0..255, scaled to [0, 1]) or floating point (finite values);
- labels (N,) integers in [0, K), every class present in the training labels;
- ``class_names`` (K,) strings, else the classes are "0" .. "K-1".

:func:`inspect_npz` reads each array's header first (shape and dtype, from the ``.npy``
member of the zip) and refuses a declared size over the caps before any data is read;
``allow_pickle=False`` refuses object arrays, so no pickle is ever loaded. A problem is a
:class:`DatasetRejected` naming the array.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import asdict, dataclass
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

IMAGES = ("x_train", "x_val")
LABELS = ("y_train", "y_val")
REQUIRED = (*IMAGES, *LABELS)
OPTIONAL = ("class_names",)
MAX_SIDE = 64
MIN_SIDE = 8
MAX_IMAGES = 200_000  # training + validation
MAX_CLASSES = 100
MAX_ARRAY_BYTES = 2**30  # one array, as declared by its header


class DatasetRejected(ValueError):
    """The file cannot be a data set; ``array`` names the array (or ``file``)."""

    def __init__(self, array: str, problem: str) -> None:
        self.array, self.problem = array, problem
        super().__init__(f"{array}: {problem}")


@dataclass(frozen=True)
class DatasetInfo:
    """What a validated data set holds (stored as ``info.json`` beside the upload)."""

    shape: tuple[int, int, int]  # (C, H, W) of one image
    class_names: list[str]
    train_counts: list[int]  # per class
    val_counts: list[int]
    sha256: str
    bytes: int

    def as_json(self) -> dict:
        return {**asdict(self), "shape": list(self.shape)}


def _headers(archive: zipfile.ZipFile) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of every array, from the ``.npy`` headers alone."""
    found = {}
    for member in archive.namelist():
        name = member.removesuffix(".npy")
        with archive.open(member) as stream:
            try:
                version = npy_format.read_magic(stream)
                read_header = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f".npy format version {version}")
                shape, _, dtype = read_header(stream)
            except (ValueError, OSError) as error:
                raise DatasetRejected(name, f"not a .npy array ({error})") from None
        found[name] = (tuple(shape), np.dtype(dtype))
    return found


def _check_headers(headers: dict) -> None:
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        raise DatasetRejected(missing[0], f"missing; the file must hold {', '.join(REQUIRED)} (and optionally class_names)")
    extra = sorted(set(headers) - set(REQUIRED) - set(OPTIONAL))
    if extra:
        raise DatasetRejected(extra[0], f"not an array this layout knows; allowed: {', '.join(REQUIRED + OPTIONAL)}")
    for name, (shape, dtype) in headers.items():
        if dtype.hasobject:
            raise DatasetRejected(name, "object arrays are refused (they would need unpickling)")
        declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if declared > MAX_ARRAY_BYTES:
            raise DatasetRejected(name, f"declares {declared:,} bytes (shape {shape}); allowed range: up to {MAX_ARRAY_BYTES:,}")
    images = sum(headers[name][0][0] if headers[name][0] else 0 for name in IMAGES)
    if images > MAX_IMAGES:
        raise DatasetRejected("x_train", f"{images:,} images in x_train and x_val; allowed range: up to {MAX_IMAGES:,}")


def _image_shape(name: str, x: np.ndarray) -> tuple[int, int, int]:
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise DatasetRejected(name, f"images must be (N, C, H, W) or (N, H, W), got shape {x.shape}")
    n, c, h, w = x.shape
    if n < 1:
        raise DatasetRejected(name, "holds no images")
    if c not in (1, 3):
        raise DatasetRejected(name, f"{c} channels; allowed: 1 or 3 (shape (N, C, H, W))")
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise DatasetRejected(name, f"images of {h}x{w}; allowed range: {MIN_SIDE} to {MAX_SIDE} pixels a side")
    if x.dtype != np.uint8 and not np.issubdtype(x.dtype, np.floating):
        raise DatasetRejected(name, f"dtype {x.dtype}; allowed: uint8 or floating point")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise DatasetRejected(name, f"{bad:,} values are not finite (NaN or infinite)")
    return (c, h, w)


def images_as_float(x: np.ndarray) -> np.ndarray:
    """Images of a validated file as float32 (N, C, H, W); uint8 scaled to [0, 1]."""
    x = x[:, None] if x.ndim == 3 else x
    return (x.astype(np.float32) / 255.0) if x.dtype == np.uint8 else x.astype(np.float32)


def inspect_npz(upload: BinaryIO) -> tuple[DatasetInfo, dict[str, np.ndarray]]:
    """Validate an uploaded ``.npz`` (a seekable binary stream); its info and its arrays."""
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for block in iter(lambda: upload.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            _check_headers(_headers(archive))
    except zipfile.BadZipFile as error:
        raise DatasetRejected("file", f"not an .npz (zip) file ({error})") from None
    upload.seek(0)
    with np.load(upload, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    shapes = {name: _image_shape(name, arrays[name]) for name in IMAGES}
    if shapes["x_train"] != shapes["x_val"]:
        raise DatasetRejected("x_val", f"images of shape {shapes['x_val']}, but x_train's are {shapes['x_train']}")
    for labels, images in zip(LABELS, IMAGES):
        y = arrays[labels]
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DatasetRejected(labels, f"labels must be a 1-D integer array, got shape {y.shape} dtype {y.dtype}")
        if len(y) != len(arrays[images]):
            raise DatasetRejected(labels, f"{len(y):,} labels for {len(arrays[images]):,} images in {images}")
    names = arrays.get("class_names")
    k = len(names) if names is not None else int(max(arrays["y_train"].max(), arrays["y_val"].max())) + 1
    if names is not None and (names.ndim != 1 or names.dtype.kind not in "US" or len(set(names.tolist())) != k):
        raise DatasetRejected("class_names", "must be a 1-D array of distinct strings")
    if not 2 <= k <= MAX_CLASSES:
        raise DatasetRejected("class_names" if names is not None else "y_train", f"{k} classes; allowed range: 2 to {MAX_CLASSES}")
    for labels in LABELS:
        y = arrays[labels]
        outside = (y < 0) | (y >= k)
        if outside.any():
            raise DatasetRejected(labels, f"label {int(y[outside][0])} is outside [0, {k - 1}] ({int(outside.sum()):,} such)")
    train_counts = np.bincount(arrays["y_train"], minlength=k)
    if (train_counts == 0).any():
        raise DatasetRejected("y_train", f"class {int(np.flatnonzero(train_counts == 0)[0])} has no training samples")
    class_names = [str(n) for n in names.tolist()] if names is not None else [str(c) for c in range(k)]
    info = DatasetInfo(
        shape=shapes["x_train"],
        class_names=class_names,
        train_counts=train_counts.tolist(),
        val_counts=np.bincount(arrays["y_val"], minlength=k).tolist(),
        sha256=digest.hexdigest(),
        bytes=size,
    )
    return info, arrays
