"""``AnalysisResult.typed``: the summary as the contract's typed result, in process or fetched from a server."""

from __future__ import annotations

import json

import pytest
from lesde.results import AnalysisResult
from lesde_contract.analysis_results import ExperimentAnalysis, encode

from tests.fixtures.analysis_reference.capture import REFERENCE

STORED = json.loads(REFERENCE.read_text())["label_noise"]["summary"]


def test_typed_parses_the_stored_summary() -> None:
    result = AnalysisResult(summary=STORED, series={})
    typed = result.typed
    assert isinstance(typed, ExperimentAnalysis)
    assert typed.verdict.label == result.verdict["label"] and typed.verdict.band == result.verdict["band"]
    assert typed.label_groupings is not None and typed.label_groupings.true.computed is True
    assert encode(typed) == STORED and result.summary is STORED  # the dict summary is left as it is


def test_typed_leaves_out_what_the_gateway_adds_to_a_served_summary() -> None:
    served = STORED | {
        "figures": {name: f"/v1/experiments/x/figures/{name}.png" for name in STORED["figures"]},
        "series_url": "/v1/experiments/x/analysis/series.npz",
        "latest_request": {
            "state": "queued",
            "error": None,
            "options": {},
            "options_key": "default",
            "updated_at": "2026-12-06T00:00:00+00:00",
        },
    }
    assert encode(AnalysisResult(summary=served, series={}).typed) == STORED


def test_typed_refuses_a_summary_that_is_not_an_analysis() -> None:
    with pytest.raises(ValueError, match="estimates"):
        AnalysisResult(summary={k: v for k, v in STORED.items() if k != "estimates"}, series={}).typed  # noqa: B018 - the property raises
