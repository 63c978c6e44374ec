"""The typed simulation results store exactly the JSON the hand-built dicts stored (references from before issue #23)."""

from __future__ import annotations

import json

import pytest
from lesde_analyzer.simulations import run_phase_diagram, run_simulation
from lesde_contract.analysis_results import PhaseDiagramAnalysis, SimulationAnalysis, encode

from tests.fixtures.analysis_reference.capture import SIMULATION_REFERENCE, SIMULATIONS
from tests.fixtures.analysis_reference.compare import json_differences

REFERENCES = json.loads(SIMULATION_REFERENCE.read_text())


@pytest.mark.parametrize("case", sorted(SIMULATIONS))
def test_the_typed_result_stores_the_reference_summary(case: str) -> None:
    spec = SIMULATIONS[case]
    assert REFERENCES[case]["spec"] == spec
    result = run_phase_diagram(spec) if "grid" in spec else run_simulation(spec)
    assert isinstance(result.analysis, PhaseDiagramAnalysis if "grid" in spec else SimulationAnalysis)
    stored = json.loads(json.dumps(result.summary | {"figures": list(result.figures)}))  # as the job stores it
    assert json_differences(stored, REFERENCES[case]["summary"]) == []


@pytest.mark.parametrize("case", sorted(SIMULATIONS))
def test_every_reference_parses_into_the_contract_and_encodes_back_unchanged(case: str) -> None:
    stored = REFERENCES[case]["summary"]
    model = PhaseDiagramAnalysis if "grid" in stored else SimulationAnalysis
    assert json_differences(encode(model.model_validate(stored)), stored) == []
