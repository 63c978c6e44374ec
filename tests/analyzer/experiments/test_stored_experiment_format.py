"""The typed analysis stores exactly the JSON the hand-built dicts stored, and the contract describes all of it.

The references (``tests/fixtures/analysis_reference``) were captured before the analysis
result was typed (issue #23); here the same data are analysed again and compared key by
key, with JSON types compared strictly and floats to 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.experiments.pipeline import analyse_experiment, compute_analysis
from lesde_analyzer.experiments.verdicts import TailFit, model_tail_indices, tail_result
from lesde_analyzer.figures.experiments import FIGURES
from lesde_contract.analysis_results import ExperimentAnalysis, encode
from lesde_contract.analysis_results.tail import TailIndices
from lesde_contract.specs.analysis import AnalysisOptions, options_key, run_summary_key
from lesde_contract.specs.sampling import class_sampling
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore
from pydantic import ValidationError

from tests.fixtures.analysis_reference.capture import CASES, JOB_ID, REFERENCE, TRAINED_REFERENCE, chunks_digest
from tests.fixtures.analysis_reference.compare import json_differences, shape_differences
from tests.fixtures.synthetic import write_synthetic_experiment

REFERENCES = json.loads(REFERENCE.read_text())
TRAINED = json.loads(TRAINED_REFERENCE.read_text())


def _as_stored(store: LocalStore, job_id: str, options: AnalysisOptions) -> dict:
    """What the job stores for ``job_id`` (the summary with its figure names, through JSON), without rendering figures."""
    spec = JobRepository(store, "experiment").get_spec(job_id)
    classes = (spec.get("dataset") or {}).get("classes")
    summary, _ = analyse_experiment(store, job_id, options=options, class_names=classes, sampling=class_sampling(spec))
    summary["figures"] = list(FIGURES)  # as the job names them
    return json.loads(json.dumps(summary).replace(job_id, JOB_ID))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_typed_pipeline_stores_the_reference_summary(tmp_path: Path, case: str) -> None:
    experiment, options = CASES[case]
    assert REFERENCES[case]["experiment"] == experiment and REFERENCES[case]["options"] == options
    store = LocalStore(tmp_path / "store")
    job_id = write_synthetic_experiment(store, **experiment)
    assert json_differences(_as_stored(store, job_id, AnalysisOptions.model_validate(options)), REFERENCES[case]["summary"]) == []


def test_the_job_stores_the_reference_summary_byte_for_byte(tmp_path: Path) -> None:
    """The default case through the real job: the stored text is the reference's (keys in the same order)."""
    experiment, options = CASES["default"]
    store = LocalStore(tmp_path / "store")
    job_id = write_synthetic_experiment(store, **experiment)
    run_experiment_analysis(store, job_id)
    stored = store.get_bytes(run_summary_key(job_id, options_key(AnalysisOptions.model_validate(options)))).decode()
    assert stored.replace(job_id, JOB_ID) == json.dumps(REFERENCES["default"]["summary"], separators=(",", ":"))


def test_a_trained_run_has_the_reference_structure(trained: tuple[LocalStore, str]) -> None:
    """Keys and JSON types of a real trained run's analysis (features stream included) as before."""
    store, job_id = trained
    actual = _as_stored(store, job_id, AnalysisOptions())
    assert "features" in actual["neural_collapse"]
    assert shape_differences(actual, TRAINED["summary"]) == []


def test_a_trained_run_stores_the_reference_numbers(trained: tuple[LocalStore, str]) -> None:
    """Every number as before, where training reproduced the reference's chunks (torch kernels may differ between machines)."""
    store, job_id = trained
    if chunks_digest(store, job_id) != TRAINED["chunks_sha256"]:
        pytest.skip("training on this machine logged other numbers than the reference's (the structure is checked apart)")
    assert json_differences(_as_stored(store, job_id, AnalysisOptions()), TRAINED["summary"]) == []


@pytest.mark.parametrize("case", [*sorted(REFERENCES), "trained"])
def test_every_reference_parses_into_the_contract_and_encodes_back_unchanged(case: str) -> None:
    stored = TRAINED["summary"] if case == "trained" else REFERENCES[case]["summary"]
    assert json_differences(encode(ExperimentAnalysis.model_validate(stored)), stored) == []


def test_the_contract_refuses_a_key_it_does_not_name() -> None:
    """So a field the analyzer adds without the contract fails (here and in the analyzer), instead of drifting."""
    stored = REFERENCES["default"]["summary"]
    drifted = stored | {"verdict": stored["verdict"] | {"new_number": 1.0}}
    with pytest.raises(ValidationError, match="new_number"):
        ExperimentAnalysis.model_validate(drifted)


def test_compute_analysis_returns_the_typed_result_that_analyse_experiment_stores(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    job_id = write_synthetic_experiment(store, trials=3, iterations=300, chunk=300, probe_every=100, eval_every=100)
    analysis, series = compute_analysis(store, job_id, options=AnalysisOptions())
    summary, _ = analyse_experiment(store, job_id, options=AnalysisOptions())
    assert isinstance(analysis, ExperimentAnalysis) and encode(analysis) == summary
    assert analysis.verdict is analysis.estimates.verdict and analysis.verdict.band is not None
    assert "final" in summary and "figures" not in summary  # set where it applies; the job names the figures
    assert set(series) >= {"estimates/t", "estimates/A_L", "sampled/xbar", "probe/nc1", "eval/val_acc_mean"}


def test_a_run_too_short_for_any_fit_has_unknown_indices_and_says_why() -> None:
    t = np.arange(3.0)
    fit = model_tail_indices(np.array([0.0, 0.1, 0.2]), np.array([0.0, -0.1, -0.2]), t, model="L", K=3, options=AnalysisOptions())
    assert fit.indices is None and fit.unavailable
    tails = tail_result(fit)
    assert tails == TailIndices.unavailable(fit.unavailable)
    assert tails.Gamma.r_slope is None and tails.Gamma.records == 0 and tails.gamma_definition == "not computed"
    assert tails.verdict.label == "inconclusive" and tails.verdict.why.startswith("too few records for a tail-index fit: ")
    assert tail_result(TailFit(unavailable="why")).verdict.why.endswith(": why")
