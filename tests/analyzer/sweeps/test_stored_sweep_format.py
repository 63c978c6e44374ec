"""The typed sweep analysis stores exactly the JSON the hand-built dicts stored (references from before issue #23)."""

from __future__ import annotations

import json

import pytest
from lesde_analyzer.sweeps.reader import read_sweep
from lesde_analyzer.sweeps.summary import sweep_analysis, sweep_summary
from lesde_contract.analysis_results import SweepAnalysis, encode
from lesde_runtime.storage.local import LocalStore

from tests.fixtures.analysis_reference.capture import SWEEP_REFERENCE, sweep_cases
from tests.fixtures.analysis_reference.compare import json_differences
from tests.fixtures.sweeps import FixtureChild, child_summary, write_sweep

REFERENCES = json.loads(SWEEP_REFERENCE.read_text())


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every reference sweep analysed again by the real job (the child's own analysis asks for none: no broker here)."""
    patch = pytest.MonkeyPatch()
    patch.setattr("lesde_runtime.celery_app.send", lambda *args: None)
    try:
        return sweep_cases(LocalStore(tmp_path_factory.mktemp("sweeps") / "store"))
    finally:
        patch.undo()


@pytest.mark.parametrize("case", sorted(REFERENCES))
def test_the_typed_analysis_stores_the_reference_summary(analysed: dict[str, dict], case: str) -> None:
    assert json_differences(analysed[case], REFERENCES[case]) == []


@pytest.mark.parametrize("case", sorted(REFERENCES))
def test_every_reference_parses_into_the_contract_and_encodes_back_unchanged(case: str) -> None:
    assert json_differences(encode(SweepAnalysis.model_validate(REFERENCES[case])), REFERENCES[case]) == []


def test_sweep_summary_is_the_stored_json_of_sweep_analysis(local_store: LocalStore) -> None:
    sweep_id, _ = write_sweep(
        local_store,
        [FixtureChild({"dataset.label_noise": p}, child_summary(r_gamma=0.5 + p)) for p in (0.0, 0.5)],
        axes=["dataset.label_noise"],
    )
    data = read_sweep(local_store, sweep_id)
    typed, stored = sweep_analysis(data), sweep_summary(data)
    assert isinstance(typed, SweepAnalysis) and typed.flip is not None and typed.flip.lines[0].label == "all children"
    assert stored == encode(typed) | {"computed_at": stored["computed_at"]}
