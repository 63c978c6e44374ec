"""What an experiment costs, counted before it runs: its work and the memory of one chunk.

Work is counted in units of one sample through one trial's network:

- SGD: trials x iterations (one unit per step, as ``LESDE_MAX_TRIAL_ITERATIONS`` counts);
- evaluation: per eval record, trials x (validation samples + training samples evaluated);
- probe logits and features: per record, trials x probe samples.

A forward pass counts as much as an SGD step (forward and backward): this overstates the
batched passes, so the cap errs on the side of refusing. A custom network larger than LeNet
counts its multiply-adds per sample over LeNet's (``network_scale``) per unit.

Memory is what one chunk's records take before the trainer writes them (it keeps every
stream's records of ``LESDE_CHUNK_ITERATIONS`` iterations in memory, then stacks them):
features are trials x probes x the network's feature width x 4 bytes per record, probe
logits trials x probes x K values, sampled rows trials x (K logits + loss + three integer
columns) per iteration, evaluation records four numbers per trial.

Every figure is keyed by the spec field that drives it, so a refusal can name the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesde_contract.specs.experiment import ExperimentSpec

INT_BYTES = 8
FEATURE_BYTES = 4  # features are stored as float32 whatever the model's dtype
EVAL_VALUES = 4  # val_loss, val_acc, train_loss, train_acc per trial

TRIALS, EVAL_EVERY, PROBE_EVERY, FEATURES_EVERY = (
    "training.trials",
    "training.eval_every",
    "training.probe_every",
    "training.features_every",
)
# The attribute of Shape each driving field sets.
FIELD_ATTRIBUTE = {TRIALS: "trials", EVAL_EVERY: "eval_every", PROBE_EVERY: "probe_every", FEATURES_EVERY: "features_every"}


@dataclass(frozen=True)
class Shape:
    """The numbers of a spec that its cost depends on."""

    trials: int
    iterations: int
    classes: int
    samples_per_step: int  # 1, or K with per_class batching
    evaluated_samples: int  # validation samples + training samples evaluated, per trial and eval record
    probes: int
    eval_every: int
    probe_every: int
    features_every: int  # 0: never
    itemsize: int  # bytes of one logit (the model's dtype)
    feature_width: int
    chunk_iterations: int
    network_scale: float = 1.0  # units per sample: a custom network's multiply-adds over LeNet's, at least 1

    @classmethod
    def of(cls, spec: ExperimentSpec, *, chunk_iterations: int, feature_width: int) -> Shape:
        data, training = spec.dataset, spec.training
        K = len(data.classes)
        return cls(
            trials=training.trials,
            iterations=training.iterations,
            classes=K,
            samples_per_step=K if training.batching == "per_class" else training.batch_size,
            evaluated_samples=data.val_per_class * K + min(training.train_eval_samples, sum(data.training_counts)),
            probes=training.probe_per_class * K,
            eval_every=training.eval_every,
            probe_every=training.probe_every,
            features_every=training.features_every,
            itemsize=8 if spec.model.dtype == "float64" else 4,
            feature_width=feature_width,
            chunk_iterations=min(chunk_iterations, training.iterations),
            network_scale=_network_scale(spec),
        )


LENET_MACS = 6 * 25 * 28 * 28 + 16 * 150 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 3  # one grey 32x32 sample, K = 3


def _network_scale(spec: ExperimentSpec) -> float:
    if spec.model.name != "custom":
        return 1.0
    from lesde_contract.specs.network import network_cost

    _, macs = network_cost(spec.model.custom_layers, in_shape=spec.input_shape)
    return max(1.0, macs / LENET_MACS)


def records_in_run(iterations: int, every: int) -> int:
    """States recorded on a schedule of ``every``: t = 0, each multiple, and the final state."""
    if every <= 0:
        return 0
    return iterations // every + 1 + (1 if iterations % every else 0)


def records_in_chunk(chunk: int, every: int) -> int:
    """Most states one chunk of ``chunk`` iterations records (the first chunk adds t = 0, the last the final state)."""
    if every <= 0:
        return 0
    return min(chunk // every + 2, chunk + 1)


def work_units(shape: Shape) -> dict[str, int]:
    """Units of work by the field that drives them (see the module docstring)."""
    run, scale = shape.iterations, shape.network_scale
    return {
        TRIALS: round(scale * shape.trials * run),
        EVAL_EVERY: round(scale * records_in_run(run, shape.eval_every) * shape.trials * shape.evaluated_samples),
        PROBE_EVERY: round(scale * records_in_run(run, shape.probe_every) * shape.trials * shape.probes),
        FEATURES_EVERY: round(scale * records_in_run(run, shape.features_every) * shape.trials * shape.probes),
    }


def chunk_bytes(shape: Shape) -> dict[str, int]:
    """Bytes of one chunk's records, per stream, by the field that drives them."""
    chunk, K, item = shape.chunk_iterations, shape.classes, shape.itemsize
    per_row = shape.samples_per_step * ((K + 1) * item + 3 * INT_BYTES)  # logits, loss; index, label, true label
    class_sums = (K * K + K + 1) * INT_BYTES  # per iteration, whatever the trials
    return {
        TRIALS: chunk * (shape.trials * per_row + class_sums),
        EVAL_EVERY: records_in_chunk(chunk, shape.eval_every) * shape.trials * EVAL_VALUES * INT_BYTES,
        PROBE_EVERY: records_in_chunk(chunk, shape.probe_every) * shape.trials * shape.probes * K * item,
        FEATURES_EVERY: records_in_chunk(chunk, shape.features_every) * shape.trials * shape.probes * shape.feature_width * FEATURE_BYTES,
    }


def fitting_range(shape: Shape, field: str, measure: Callable[[Shape], dict[str, int]], limit: int) -> str:
    """The values of ``field`` alone (the others as given) for which ``sum(measure(shape)) <= limit``, in words."""
    attribute = FIELD_ATTRIBUTE[field]

    def fits(value: int) -> bool:
        return sum(measure(replace(shape, **{attribute: value})).values()) <= limit

    if field == TRIALS:  # more trials cost more: the largest count that fits
        if not fits(1):
            return f"no value of {field} fits with the other fields as given"
        low, high = 1, shape.trials
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        return f"{field} from 1 to {low:,} (with the other fields as given)"
    # a sparser schedule costs less: the smallest spacing that fits
    never = " or 0 (never)" if field == FEATURES_EVERY else ""
    longest = max(shape.iterations, getattr(shape, attribute))
    if not fits(longest):
        return f"{field}{never}; no spacing alone is enough: lower training.trials or the samples per record"
    low, high = getattr(shape, attribute), longest
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return f"{field} from {low:,} up{never} (with the other fields as given)"
