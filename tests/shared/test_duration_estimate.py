"""The 202's estimated_seconds: the spec's work at the reference rates, checked by hand."""

import pytest
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.duration import FORWARD_RATE, STEP_RATE, estimated_seconds


def spec(**training):
    base = {
        "iterations": 1_000,
        "trials": 10,
        "eval_every": 100,
        "probe_every": 100,
        "probe_per_class": 10,
        "features_every": 0,
        "train_eval_samples": 30,
    }
    return ExperimentSpec.model_validate(
        {
            "dataset": {"name": "geomnist", "classes": ["triangle", "rectangle", "ellipse"], "train_per_class": 10, "val_per_class": 20},
            "training": base | training,
        }
    )


def test_the_estimate_counts_steps_and_forward_passes_at_the_reference_rates():
    # 10 trials x 1,000 steps; 11 evaluations (t = 0, 100, ..., 1000) of 60 validation + 30 training
    # images and 11 probe records of 30 images, per trial
    steps, forwards = 10 * 1_000, 11 * 10 * (60 + 30) + 11 * 10 * 30
    assert estimated_seconds(spec()) == pytest.approx(steps / STEP_RATE["float32"] + forwards / FORWARD_RATE["float32"])


def test_float64_costs_more_and_the_estimate_scales_with_the_trials():
    assert estimated_seconds(spec()) < estimated_seconds(
        ExperimentSpec.model_validate(spec().model_dump() | {"model": {"name": "lenet", "dtype": "float64"}})
    )
    assert estimated_seconds(spec(trials=20)) == pytest.approx(2 * estimated_seconds(spec()))


def test_three_channels_cost_more_and_other_kernels_are_not_estimated():
    def two_classes(name, classes):
        return ExperimentSpec.model_validate(
            {
                "dataset": {"name": name, "classes": classes, "train_per_class": 10, "val_per_class": 10},
                "training": {"iterations": 100, "trials": 2},
            }
        )

    # conv1's multiply-adds triple: (3 x 117,600 + 298,332) / (117,600 + 298,332) = 1.5655
    ratio = estimated_seconds(two_classes("cifar10", ["cat", "dog"])) / estimated_seconds(two_classes("geomnist", ["triangle", "ellipse"]))
    assert ratio == pytest.approx(1.5655, abs=1e-4)
    assert estimated_seconds(spec(batching="per_class")) is None
    assert estimated_seconds(ExperimentSpec.model_validate({"model": {"name": "mlp"}})) is None
