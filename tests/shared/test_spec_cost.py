"""The work cap counts what a spec costs: evaluation, probe and features passes, and the
memory of one chunk's records, not only trials x iterations."""

from __future__ import annotations

import pytest
from lesde_contract.specs import ExperimentSpec, WorkCapExceeded, check_work_cap
from lesde_contract.specs.cost import Shape, chunk_bytes, records_in_chunk, records_in_run, work_units
from lesde_runtime.settings import WorkCapSettings

CAP = 100_000_000
LIMITS = WorkCapSettings(max_work_units=1_000_000_000, max_chunk_bytes=1 << 30)
# The measured case: 0.1 % of the trial-iteration cap, about 5 GB of features per chunk.
DENSE = {"training": {"trials": 100, "iterations": 1_000, "probe_every": 1, "features_every": 1, "probe_per_class": 100}}


def _spec(body: dict) -> ExperimentSpec:
    return ExperimentSpec.model_validate(body)


def test_records_count_the_initial_and_final_states():
    assert records_in_run(1000, 100) == 11 and records_in_run(1001, 100) == 12 and records_in_run(10, 0) == 0
    assert records_in_chunk(500, 1) == 501 and records_in_chunk(500, 100) == 7 and records_in_chunk(500, 0) == 0


def test_work_and_memory_are_counted_by_the_field_that_drives_them():
    shape = Shape.of(_spec(DENSE), chunk_iterations=500, feature_width=84)
    work = work_units(shape)
    assert work["training.trials"] == 100_000
    assert work["training.eval_every"] == 11 * 100 * (3 * 100 + 300)  # val + train_eval samples per record
    assert work["training.probe_every"] == work["training.features_every"] == 1001 * 100 * 300
    memory = chunk_bytes(shape)
    assert memory["training.features_every"] == 501 * 100 * 300 * 84 * 4  # about 5 GB
    assert memory["training.probe_every"] == 501 * 100 * 300 * 3 * 4


def test_the_measured_spec_is_refused_naming_features_every_and_the_memory_cap():
    with pytest.raises(WorkCapExceeded) as refused:
        check_work_cap(_spec(DENSE), CAP, limits=LIMITS, chunk_iterations=500)
    assert refused.value.field == ("training", "features_every") and refused.value.cap == 1 << 30
    message = str(refused.value)
    assert "4.9 GiB" in message and "(LESDE_MAX_CHUNK_BYTES)" in message
    spacing = int(message.split("training.features_every from ")[1].split(" ")[0])
    fixed = _spec({**DENSE, "training": {**DENSE["training"], "features_every": spacing}})
    check_work_cap(fixed, CAP, limits=LIMITS, chunk_iterations=500)  # the range it names does fit
    with pytest.raises(WorkCapExceeded):
        check_work_cap(
            _spec({**DENSE, "training": {**DENSE["training"], "features_every": spacing - 1}}), CAP, limits=LIMITS, chunk_iterations=500
        )


def test_forward_passes_count_against_the_work_cap():
    spec = _spec({"training": {"trials": 100, "iterations": 100_000, "probe_every": 1, "features_every": 0, "probe_per_class": 100}})
    with pytest.raises(WorkCapExceeded, match=r"training.probe_every from \d+ up") as refused:
        check_work_cap(spec, CAP, limits=LIMITS, chunk_iterations=500)
    assert refused.value.field == ("training", "probe_every") and "(LESDE_MAX_WORK_UNITS)" in str(refused.value)


def test_defaults_at_the_largest_trial_iterations_still_fit():
    check_work_cap(_spec({"training": {"trials": 10_000, "iterations": 10_000}}), CAP, limits=LIMITS, chunk_iterations=500)
    check_work_cap(ExperimentSpec(), CAP, limits=LIMITS, chunk_iterations=500)


@pytest.mark.parametrize(
    ("model", "body", "loc"),
    [
        ("simulation", {"seed": False}, ("seed",)),
        ("simulation", {"sigma": True}, ("sigma",)),
        ("simulation", {"class_weights": [1.0, True]}, ("class_weights",)),
        ("simulation", {"alpha": {"kind": "array", "values": [1.0, False]}}, ("alpha", "array", "values")),
        ("experiment", {"training": {"learning_rate": True}}, ("training", "learning_rate")),
        ("analysis", {"savgol_window": True}, ("savgol_window",)),
    ],
)
def test_a_boolean_is_never_taken_for_a_number(model, body, loc):
    """Pydantic's lax mode reads true as 1; a spec refuses it, naming the field."""
    from lesde_contract.specs.analysis import AnalysisOptions
    from lesde_contract.specs.experiment import ExperimentSpec
    from lesde_contract.specs.simulation import SimulationSpec
    from pydantic import ValidationError

    spec_class = {"simulation": SimulationSpec, "experiment": ExperimentSpec, "analysis": AnalysisOptions}[model]
    with pytest.raises(ValidationError) as raised:
        spec_class.model_validate(body)
    assert [error["loc"] for error in raised.value.errors()] == [loc]
    assert "not true or false" in raised.value.errors()[0]["msg"]
