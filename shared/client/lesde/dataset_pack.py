"""``lesde dataset pack DIR``: a folder of images in torchvision's ImageFolder layout -> an ``.npz``.

``DIR/train/<class>/*.png`` (and .jpg, .jpeg, .bmp, .gif) and ``DIR/val/<class>/...``: the
classes are ``train``'s subfolders in sorted order (as torchvision's ImageFolder has them);
``val`` must have the same ones. Every image must have the same size; they are stored grey
(one channel) when every image is grey, else RGB, as uint8 (N, C, H, W), with the class
names, in the layout ``POST /v1/datasets`` takes (``lesde_contract.dataset_files``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}


class PackError(ValueError):
    """The folder is not in the layout; the message says where."""


def _images_of(folder: Path, classes: list[str]) -> tuple[list, np.ndarray]:
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(path for path in (folder / name).iterdir() if path.suffix.lower() in SUFFIXES)
        if not files:
            raise PackError(f"{folder / name}: no images ({', '.join(sorted(SUFFIXES))})")
        images += files
        labels += [label] * len(files)
    return images, np.array(labels, dtype=np.int64)


def pack_image_folder(root: Path | str) -> dict[str, np.ndarray]:
    """The arrays of ``root`` (see the module docstring): x_train, y_train, x_val, y_val, class_names."""
    from PIL import Image

    root = Path(root)
    train, val = root / "train", root / "val"
    for folder in (train, val):
        if not folder.is_dir():
            raise PackError(f"{folder}: missing; expected {root}/train/<class>/* and {root}/val/<class>/*")
    classes = sorted(path.name for path in train.iterdir() if path.is_dir())
    if len(classes) < 2:
        raise PackError(f"{train}: {len(classes)} class folder(s); at least 2 are needed")
    val_classes = sorted(path.name for path in val.iterdir() if path.is_dir())
    if val_classes != classes:
        raise PackError(f"{val}: classes {val_classes} differ from {train}'s {classes}")
    files = {split: _images_of(folder, classes) for split, folder in (("train", train), ("val", val))}
    opened = {split: [Image.open(path) for path in paths] for split, (paths, _) in files.items()}
    sizes = {image.size for images in opened.values() for image in images}
    if len(sizes) != 1:
        raise PackError(f"images of {len(sizes)} sizes ({sorted(sizes)[:4]}...); resize them to one size first")
    grey = all(image.mode in ("L", "1", "I;16") for images in opened.values() for image in images)
    mode = "L" if grey else "RGB"

    def stack(images: list) -> np.ndarray:
        pixels = np.stack([np.asarray(image.convert(mode), dtype=np.uint8) for image in images])
        return pixels[:, None] if grey else pixels.transpose(0, 3, 1, 2)

    return {
        "x_train": stack(opened["train"]),
        "y_train": files["train"][1],
        "x_val": stack(opened["val"]),
        "y_val": files["val"][1],
        "class_names": np.array(classes),
    }
