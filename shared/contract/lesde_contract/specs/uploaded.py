"""An experiment on an uploaded data set, checked against what the data set holds.

The spec alone cannot know the file's classes, counts or image shape; the gateway reads the
data set's ``info.json`` (written by its validation job) and calls :func:`check_against_dataset`
before anything is recorded. A mismatch is a :class:`DatasetMismatch` naming the field (422).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesde_contract.specs.network import MAX_PARAMETERS, LayerMismatch, check_layers, network_cost

if TYPE_CHECKING:
    from lesde_contract.specs.experiment import ExperimentSpec

BUILT_IN_SIZE = 32  # lenet, alexnet and mlp take 32x32 images


class DatasetMismatch(ValueError):
    """The spec asks the uploaded data set for something it does not hold; ``field`` names the spec field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def check_against_dataset(spec: ExperimentSpec, info: dict) -> None:
    """Fill in the classes (all of the file's when the spec names none), attach the image shape,
    and check classes, counts per class and the network against ``info`` (``DatasetInfo.as_json``)."""
    data = spec.dataset
    names = list(info["class_names"])
    if "classes" not in data.model_fields_set:
        data.classes = names
    unknown = [name for name in data.classes if name not in names]
    if unknown:
        raise DatasetMismatch("dataset.classes", f"the data set has no class(es) {unknown}; allowed: {names}")
    picked = [names.index(name) for name in data.classes]
    if data.train_counts is not None and len(data.train_counts) != len(data.classes):
        raise DatasetMismatch("dataset.train_counts", f"needs one count per class ({len(data.classes)})")
    for name, k, asked in zip(data.classes, picked, data.training_counts):
        if asked > info["train_counts"][k]:
            field = "train_counts" if data.train_counts is not None else "train_per_class"
            raise DatasetMismatch(
                f"dataset.{field}",
                f"the data set holds {info['train_counts'][k]} training samples "
                f"of class {name}; allowed range: 1 to {info['train_counts'][k]}",
            )
    fewest_val = min(info["val_counts"][k] for k in picked)
    if data.val_per_class > fewest_val:
        raise DatasetMismatch(
            "dataset.val_per_class", f"the data set holds {fewest_val} in its smallest chosen class; allowed range: 1 to {fewest_val}"
        )
    if spec.training.probe_per_class > min(data.training_counts):
        raise DatasetMismatch(
            "training.probe_per_class", f"must be <= the fewest training samples of a class ({min(data.training_counts)})"
        )
    shape = tuple(info["shape"])
    spec.attach_uploaded_shape(shape)
    if spec.model.name == "custom":
        try:
            check_layers(spec.model.custom_layers, in_shape=shape, num_classes=len(data.classes))
        except LayerMismatch as mismatch:
            where, problem = str(mismatch).split(": ", 1)
            raise DatasetMismatch(f"model.{where}", problem) from None
        params, _ = network_cost(spec.model.custom_layers, in_shape=shape)
        if params > MAX_PARAMETERS:
            raise DatasetMismatch("model.layers", f"{params:,} parameters per trial; allowed range: 1 to {MAX_PARAMETERS:,}")
    elif shape[1:] != (BUILT_IN_SIZE, BUILT_IN_SIZE):
        raise DatasetMismatch(
            "model.name",
            f"{spec.model.name} takes {BUILT_IN_SIZE}x{BUILT_IN_SIZE} images; this data "
            f"set's are {shape[1]}x{shape[2]}: describe a custom network for them",
        )
