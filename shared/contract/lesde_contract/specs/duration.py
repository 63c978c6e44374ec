"""How long a training experiment should take on the reference machine: ``estimated_seconds``.

An estimate, and said to be one wherever it is shown: the spec's work (``cost.work_units``:
SGD steps, and the forward passes of evaluations, probes and features) divided by the
rates ``bench/train.py`` printed for the native LeNet kernel on the reference machine
class below. Another CPU, a busy machine, or a GPU runs at other rates; the storage and
analysis after training are not counted.

Only LeNet with batching ``single`` is estimated (the native kernel's configurations, the
paper's protocol): other models and ``per_class`` run on torch kernels whose rates depend
far more on the machine, and get ``None``. Three-channel images (CIFAR-10) triple conv1's
work; the rates are scaled by the multiply-adds of one forward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesde_contract.specs.cost import EVAL_EVERY, FEATURES_EVERY, PROBE_EVERY, TRIALS, Shape, work_units

if TYPE_CHECKING:
    from lesde_contract.specs.experiment import ExperimentSpec

REFERENCE_MACHINE = "2 CPU cores (AMD EPYC with AVX-512), native LeNet kernel; bench/train.py of 2026-12-05"
# Trial-iterations per second of SGD (batch size 1) and forward passes per second of
# shared-input inference, per dtype, on one-channel 32x32 images (bench/train.py).
STEP_RATE = {"float32": 57_700.0, "float64": 33_900.0}
FORWARD_RATE = {"float32": 130_000.0, "float64": 71_000.0}
# Multiply-adds of LeNet's forward pass: conv1 grows with the input channels, the rest does not.
_CONV1_MACS_PER_CHANNEL = 6 * 25 * 28 * 28
_OTHER_MACS = 16 * 150 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 3
_CHANNELS = {"cifar10": 3}


def estimated_seconds(spec: ExperimentSpec) -> float | None:
    """Seconds of training the spec should take on the reference machine, or None where
    there is no reference rate (see the module docstring)."""
    if spec.model.name != "lenet" or spec.training.batching != "single":
        return None
    channels = _CHANNELS.get(spec.dataset.name, 1)
    slowdown = (channels * _CONV1_MACS_PER_CHANNEL + _OTHER_MACS) / (_CONV1_MACS_PER_CHANNEL + _OTHER_MACS)
    # (the chunk size and feature width shape memory, not work)
    work = work_units(Shape.of(spec, chunk_iterations=spec.training.iterations, feature_width=84))
    dtype = spec.model.dtype
    forwards = work[EVAL_EVERY] + work[PROBE_EVERY] + work[FEATURES_EVERY]
    return slowdown * (work[TRIALS] / STEP_RATE[dtype] + forwards / FORWARD_RATE[dtype])
