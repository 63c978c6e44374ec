"""The experiment spec: dataset, model and SGD settings of a multi-trial training run.

Every numeric field is bounded so a typo cannot ask for a month of GPU time; the bounds
that depend on deployment are checked separately by :func:`check_work_cap`: total
trial-iterations against ``LESDE_MAX_TRIAL_ITERATIONS``, all work (evaluation, probe and
features passes too) against ``LESDE_MAX_WORK_UNITS`` and the memory of one chunk's
records against ``LESDE_MAX_CHUNK_BYTES`` (:mod:`lesde_contract.specs.cost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic.config import JsonDict

from lesde_contract.specs.base import StrictSpec
from lesde_contract.specs.cost import TRIALS, Shape, chunk_bytes, fitting_range, work_units
from lesde_contract.specs.network import MAX_PARAMETERS, Layer, LayerMismatch, check_layers, network_cost

GEOMNIST_CLASSES = ("triangle", "rectangle", "ellipse")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DIGITS_CLASSES = tuple(str(digit) for digit in range(10))
#: Class names each dataset knows (the trainer's loaders agree: a test checks it).
DATASET_CLASSES = {"geomnist": GEOMNIST_CLASSES, "cifar10": CIFAR10_CLASSES, "digits": DIGITS_CLASSES}
#: Samples per class a finite dataset holds, so a too-large request is refused at submission.
CIFAR10_PER_CLASS = {"train_per_class": 5_000, "val_per_class": 1_000}  # training batches / test batch
DIGITS_PER_CLASS = 174  # the smallest class of scikit-learn's digits; train + val share it
MAX_SEED = 2**31 - 1
MAX_ITERATIONS = 1_000_000  # of one experiment (imports are held to it too)
MAX_TRIALS = 10_000
#: Width of each network's penultimate layer (the features records; the trainer's models agree: a test checks it).
#: A custom network's is the input width of its classifier (``ExperimentSpec.feature_width``).
FEATURE_WIDTHS = {"lenet": 84, "alexnet": 128, "mlp": 128}
#: Input channels of each dataset's images (all are 32x32).
DATASET_CHANNELS = {"geomnist": 1, "cifar10": 3, "digits": 1}
IMAGE_SIZE = 32


#: A small GEOMNIST experiment (examples/geomnist-small.json): the API's request example.
EXAMPLE_EXPERIMENT: JsonDict = {
    "name": "geomnist-small",
    "dataset": {"name": "geomnist", "classes": ["triangle", "rectangle", "ellipse"], "train_per_class": 100, "val_per_class": 100,
                "label_noise": 0.0, "seed": 0},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {"iterations": 2000, "learning_rate": 0.02, "trials": 10, "batch_size": 1, "seed": 0, "eval_every": 100,
                 "probe_every": 100, "probe_per_class": 10},
}  # fmt: skip


class _Strict(StrictSpec):
    pass


class DatasetSpec(_Strict):
    """Which samples the trials train on."""

    name: Literal["geomnist", "cifar10", "digits", "uploaded"] = Field(
        default="geomnist",
        description="geomnist (generated), cifar10 (local files), digits (scikit-learn), or uploaded (yours: POST "
        "/v1/datasets, then name its id here)",
    )
    id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="With name uploaded: the data set's id. Its classes default to all of the file's class names.",
    )
    classes: list[str] = Field(
        default_factory=lambda: list(GEOMNIST_CLASSES),
        min_length=2,
        max_length=10,
        description="Class names in label order: the label of a class is its position here.",
    )
    train_per_class: int = Field(default=100, ge=1, le=10_000, description="Training samples per class.")
    train_counts: list[Annotated[int, Field(ge=1, le=10_000)]] | None = Field(
        default=None,
        description="Training samples of each class, in the order of classes, instead of train_per_class: an "
        "imbalanced training set (classes are then sampled in proportion to their counts).",
    )
    val_per_class: int = Field(default=100, ge=1, le=10_000, description="Validation samples per class.")
    label_noise: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Fraction p of each class's training labels moved to the other classes in equal shares.",
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of data generation and corruption.")

    @field_validator("classes")
    @classmethod
    def _unique(cls, classes: list[str]) -> list[str]:
        if len(set(classes)) != len(classes):
            raise ValueError("class names must be unique")
        return classes

    @property
    def training_counts(self) -> list[int]:
        """Training samples of each class: ``train_counts``, else ``train_per_class`` each."""
        return list(self.train_counts) if self.train_counts is not None else [self.train_per_class] * len(self.classes)

    @model_validator(mode="after")
    def _counts_per_class(self) -> DatasetSpec:
        if self.train_counts is not None and len(self.train_counts) != len(self.classes):
            raise ValueError(f"train_counts: needs one count per class ({len(self.classes)}); got {len(self.train_counts)}")
        return self

    @model_validator(mode="after")
    def _id_for_uploaded_only(self) -> DatasetSpec:
        if self.name == "uploaded" and self.id is None:
            raise ValueError("id: dataset uploaded needs the id of a data set (POST /v1/datasets)")
        if self.name != "uploaded" and self.id is not None:
            raise ValueError(f"id: only dataset uploaded takes an id; {self.name} is built in")
        return self


class ModelSpec(_Strict):
    """The network every trial trains (independently initialised)."""

    name: Literal["lenet", "alexnet", "mlp", "custom"] = Field(
        default="lenet",
        description="The network: lenet (LeNet-5), alexnet (a small AlexNet for 32x32 inputs), mlp, or custom (described by `layers`).",
    )
    dtype: Literal["float32", "float64"] = Field(
        default="float32", description="Floating-point precision of training (the paper used float64; float32 is several times faster)."
    )
    head: Literal["none", "random_orthogonal"] = Field(
        default="none", description="Optional fixed random orthogonal KxK head on the logits."
    )
    layers: list[Layer] | None = Field(
        default=None,
        max_length=32,
        description="With name custom: the network, layer by layer, named as torch names them (conv2d, maxpool2d, "
        "avgpool2d, relu, tanh, gelu, flatten, linear). The last layer is the classifier (linear, one output per "
        "class); its input is the penultimate feature vector. Checked against the data's shape at submission.",
    )

    @model_validator(mode="after")
    def _layers_for_custom_only(self) -> ModelSpec:
        if self.name == "custom" and not self.layers:
            raise ValueError("layers: model custom needs its layers (e.g. conv2d, relu, maxpool2d, flatten, linear)")
        if self.name != "custom" and self.layers is not None:
            raise ValueError(f"layers: only model custom is described by layers; {self.name} is built in")
        return self

    @property
    def custom_layers(self) -> list[Layer]:
        """The layers of model custom (its validator requires them; other models have none)."""
        if self.layers is None:
            raise ValueError(f"layers: model {self.name} is not described by layers")
        return self.layers


class TrainingSpec(_Strict):
    """SGD settings shared by all trials of the experiment."""

    iterations: int = Field(
        default=2_000, ge=1, le=MAX_ITERATIONS, description="SGD steps of each trial (batch size 1: one sample per step)."
    )
    learning_rate: float = Field(default=0.005, gt=0.0, le=10.0, description="SGD learning rate (the paper: 0.005).")
    trials: int = Field(default=10, ge=1, le=MAX_TRIALS, description="Independent trials (own init and sample stream).")
    batch_size: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Samples per SGD step with batching single, each drawn uniformly by every trial on its own "
        "(mean loss); the paper's SGD uses 1. With per_class the batch is one sample of each class.",
    )
    batching: Literal["single", "per_class"] = Field(
        default="single", description="single: one sample per step; per_class: one sample of each class per step."
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of initialisation and sampling.")
    eval_every: int = Field(default=100, ge=1, le=1_000_000, description="Validation every this many iterations.")
    train_eval_samples: int = Field(
        default=300,
        ge=1,
        le=100_000,
        description="Fixed, evenly spaced training samples on which training loss and accuracy are measured at "
        "each evaluation (all of them when there are fewer). Each evaluation costs a forward pass of every trial "
        "over these and the validation set, so this bounds its cost on large training sets.",
    )
    probe_every: int = Field(default=100, ge=1, le=1_000_000, description="Probe-set logits every this many iterations.")
    probe_per_class: int = Field(default=10, ge=1, le=1_000, description="Probe samples per class (m).")
    features_every: int = Field(
        default=1_000,
        ge=0,
        le=1_000_000,
        description="Penultimate-layer features of the probe set every this many iterations (0: never). "
        "They are large (trials x probe x 84 floats), hence a coarser schedule than the probe logits.",
    )


class ExperimentSpec(_Strict):
    """What a researcher POSTs to ``/v1/experiments``."""

    # The OpenAPI example (the README's quick-start spec, examples/geomnist-small.json).
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_EXPERIMENT]})

    name: str | None = Field(default=None, max_length=200, description="Free-form label for listings.")
    dataset: DatasetSpec = Field(default_factory=DatasetSpec, description="What the trials train on.")
    model: ModelSpec = Field(default_factory=ModelSpec, description="The network each trial trains.")
    training: TrainingSpec = Field(default_factory=TrainingSpec, description="SGD and recording settings shared by all trials.")

    # (C, H, W) of an uploaded data set's images, set by the gateway from the data set's info
    # (``lesde_contract.specs.uploaded.check_against_dataset``) and by the trainer from the file.
    _uploaded_shape: tuple[int, int, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _batch(self) -> ExperimentSpec:
        if self.training.batching == "per_class" and self.training.batch_size != 1:
            raise ValueError("training.batch_size: with batching per_class the batch is one sample of each class; leave batch_size at 1")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        if self.dataset.name == "uploaded":  # classes, sizes and network are checked against the file's info
            return self
        known = DATASET_CLASSES[self.dataset.name]
        unknown = [c for c in self.dataset.classes if c not in known]
        if unknown:
            raise ValueError(f"dataset.classes: unknown {self.dataset.name} class(es) {unknown}; allowed: {list(known)}")
        self._check_dataset_size()
        self._check_network()
        fewest = min(self.dataset.training_counts)
        if self.training.probe_per_class > fewest:
            where = "the smallest of dataset.train_counts" if self.dataset.train_counts else "dataset.train_per_class"
            raise ValueError(f"training.probe_per_class ({self.training.probe_per_class}) must be <= {where} ({fewest})")
        return self

    def _check_network(self) -> None:
        """A custom network must fit the data's images and classes, and stay under the parameter cap."""
        if self.model.name != "custom":
            return
        in_shape = self.input_shape
        try:
            check_layers(self.model.custom_layers, in_shape=in_shape, num_classes=len(self.dataset.classes))
        except LayerMismatch as mismatch:
            raise ValueError(f"model.{mismatch}") from None
        params, _ = network_cost(self.model.custom_layers, in_shape=in_shape)
        if params > MAX_PARAMETERS:
            raise ValueError(f"model.layers: {params:,} parameters per trial; allowed range: 1 to {MAX_PARAMETERS:,}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image of the dataset (an uploaded one's once its info is attached)."""
        if self.dataset.name == "uploaded":
            if self._uploaded_shape is None:
                raise ValueError("dataset.id: the uploaded data set's shape is not attached to this spec")
            return self._uploaded_shape
        return (DATASET_CHANNELS[self.dataset.name], IMAGE_SIZE, IMAGE_SIZE)

    def attach_uploaded_shape(self, shape: tuple[int, int, int] | list[int]) -> None:
        """Record the (C, H, W) of the uploaded data set this spec names."""
        channels, height, width = (int(v) for v in shape)
        self._uploaded_shape = (channels, height, width)

    @property
    def feature_width(self) -> int:
        """Width of the penultimate features (the classifier's input)."""
        if self.model.name != "custom":
            return FEATURE_WIDTHS[self.model.name]
        shapes = check_layers(self.model.custom_layers, in_shape=self.input_shape, num_classes=len(self.dataset.classes))
        return shapes[-2][0]  # a checked description has a flatten before its classifier

    def _check_dataset_size(self) -> None:
        data = self.dataset
        if data.name == "cifar10":
            for field, limit in CIFAR10_PER_CLASS.items():
                asked = max(data.training_counts) if field == "train_per_class" else data.val_per_class
                if asked > limit:
                    raise ValueError(f"dataset.{field}: CIFAR-10 has {limit} per class; allowed range: 1 to {limit}")
        if data.name == "digits" and max(data.training_counts) + data.val_per_class > DIGITS_PER_CLASS:
            raise ValueError(
                f"dataset.train_per_class: digits has {DIGITS_PER_CLASS} samples in its smallest class; "
                f"train_per_class + val_per_class must be <= {DIGITS_PER_CLASS}, got "
                f"{data.train_per_class} + {data.val_per_class}"
            )

    @property
    def trial_iterations(self) -> int:
        """Total work: trials x iterations."""
        return self.training.trials * self.training.iterations


class WorkCapExceeded(ValueError):
    """The spec asks for more than this deployment allows; ``field`` is the spec field that
    drives the cost, ``cap`` the limit it exceeds."""

    def __init__(self, field: str, message: str, *, requested: int, cap: int) -> None:
        self.field = tuple(field.split("."))
        self.requested = requested
        self.cap = cap
        super().__init__(message)


class WorkLimits(Protocol):
    """What one experiment may cost besides its trial-iterations (the runtime's ``WorkCapSettings``)."""

    @property
    def max_work_units(self) -> int: ...

    @property
    def max_chunk_bytes(self) -> int: ...


@dataclass(frozen=True)
class DefaultWorkLimits:
    """The defaults of ``LESDE_MAX_WORK_UNITS`` and ``LESDE_MAX_CHUNK_BYTES``; a deployment passes its own."""

    max_work_units: int = 1_000_000_000
    max_chunk_bytes: int = 1 << 30


DEFAULT_CHUNK_ITERATIONS = 500  # LESDE_CHUNK_ITERATIONS's default


def check_work_cap(spec: ExperimentSpec, cap: int, *, limits: WorkLimits | None = None, chunk_iterations: int | None = None) -> None:
    """Raise :class:`WorkCapExceeded` when ``trials * iterations > cap``, when all its work
    exceeds ``chosen.max_work_units`` or one chunk's records ``chosen.max_chunk_bytes``.

    ``limits`` and ``chunk_iterations``: the deployment's (``LESDE_MAX_WORK_UNITS``,
    ``LESDE_MAX_CHUNK_BYTES``, ``LESDE_CHUNK_ITERATIONS``, which the gateway passes); without
    them, their defaults (the contract reads no settings)."""
    if spec.trial_iterations > cap:
        raise WorkCapExceeded(
            TRIALS,
            (
                f"training.trials x training.iterations = {spec.trial_iterations:,} exceeds this deployment's cap; "
                f"allowed range: 1 to {cap:,} trial-iterations (LESDE_MAX_TRIAL_ITERATIONS)"
            ),
            requested=spec.trial_iterations,
            cap=cap,
        )
    chosen: WorkLimits = limits if limits is not None else DefaultWorkLimits()
    chunk = chunk_iterations or DEFAULT_CHUNK_ITERATIONS
    shape = Shape.of(spec, chunk_iterations=chunk, feature_width=spec.feature_width)
    work = work_units(shape)
    if sum(work.values()) > chosen.max_work_units:
        field = max(work, key=work.__getitem__)
        parts = ", ".join(f"{name} {units:,}" for name, units in work.items() if units)
        raise WorkCapExceeded(
            field,
            (
                f"this spec costs {sum(work.values()):,} units of work (one sample through one trial's network; by the "
                f"field that drives them: {parts}), over this deployment's cap of {chosen.max_work_units:,} "
                f"(LESDE_MAX_WORK_UNITS); allowed range: {fitting_range(shape, field, work_units, chosen.max_work_units)}"
            ),
            requested=sum(work.values()),
            cap=chosen.max_work_units,
        )
    memory = chunk_bytes(shape)
    if sum(memory.values()) > chosen.max_chunk_bytes:
        field = max(memory, key=memory.__getitem__)
        raise WorkCapExceeded(
            field,
            (
                f"one chunk of {shape.chunk_iterations:,} iterations would hold {_size(sum(memory.values()))} of records "
                f"in the trainer's memory ({_size(memory[field])} driven by {field}), over this deployment's cap of "
                f"{_size(chosen.max_chunk_bytes)} per chunk (LESDE_MAX_CHUNK_BYTES); allowed range: "
                f"{fitting_range(shape, field, chunk_bytes, chosen.max_chunk_bytes)}"
            ),
            requested=sum(memory.values()),
            cap=chosen.max_chunk_bytes,
        )


def _size(count: int) -> str:
    return f"{count / (1 << 30):,.1f} GiB" if count >= 1 << 30 else f"{count / (1 << 20):,.1f} MiB"
