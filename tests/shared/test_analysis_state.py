"""The state of an analysis run: written and read in one place, mirrored on the record only
for the default option set of a finished job."""

from lesde_contract.records import AnalysisState, JobStatus
from lesde_contract.specs.analysis import DEFAULT_KEY
from lesde_runtime.analysis_state import mirrored_on_record, read_run_state, set_record_analysis, write_run_state
from lesde_runtime.job_repository import JobRepository


def test_state_is_none_until_written_then_read_back(local_store):
    assert read_run_state(local_store, "abcdef0123", DEFAULT_KEY) is None
    write_run_state(local_store, "abcdef0123", "0123456789abcdef", AnalysisState.failed, {"estimator": "I"}, error="boom")
    state = read_run_state(local_store, "abcdef0123", "0123456789abcdef")
    assert state["state"] == "failed" and state["error"] == "boom" and state["options"] == {"estimator": "I"}
    assert state["options_key"] == "0123456789abcdef" and state["updated_at"]
    assert read_run_state(local_store, "abcdef0123", DEFAULT_KEY) is None


def test_only_the_default_set_of_a_finished_job_is_mirrored_on_the_record(local_store):
    repo = JobRepository(local_store, "experiment")
    record = repo.create(spec={}, owner="test", name=None, total=10, unit="iterations")
    assert not mirrored_on_record(record, DEFAULT_KEY)  # still training: the record is the trainer's
    repo.mark_running(record.id)
    record = repo.mark_finished(record.id, JobStatus.succeeded)
    assert mirrored_on_record(record, DEFAULT_KEY) and not mirrored_on_record(record, "0123456789abcdef")
    set_record_analysis(repo, record.id, AnalysisState.failed, error="boom")
    record = repo.get(record.id)
    assert record.analysis == AnalysisState.failed and record.analysis_error == "boom"
