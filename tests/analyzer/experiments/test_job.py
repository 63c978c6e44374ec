"""The analysis of stored experiments: a real trained one, synthetic partial ones, failures."""

from __future__ import annotations

import numpy as np
import pytest
from lesde_analyzer.experiments.analysis_job import render_figure_variant, run_experiment_analysis
from lesde_contract import object_keys
from lesde_contract.chunks import decode_chunk
from lesde_contract.specs.analysis import (
    FIGURE_NAMES,
    AnalysisOptions,
    options_key,
    run_figure_key,
    run_series_key,
    run_state_key,
    run_summary_key,
)
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.analysis_checks import assert_every_number, assert_valid_png
from tests.fixtures.synthetic import write_synthetic_experiment


def test_trained_experiment_gets_every_number_and_figure(trained):
    store, job_id = trained
    run_experiment_analysis(store, job_id)
    record = JobRepository(store, "experiment").get(job_id)
    assert record.analysis == "succeeded", record.analysis_error
    summary = store.get_json(object_keys.analysis_key("experiment", job_id, "summary"))
    assert_every_number(summary)
    assert summary["partial"] is False and summary["trials"] == 4 and summary["iterations"] == 300
    assert "features" in summary["neural_collapse"]  # the penultimate stream
    assert 0.0 <= summary["final"]["validation_accuracy"]["mean"] <= 1.0
    for name in FIGURE_NAMES:
        assert_valid_png(store.get_bytes(object_keys.figure_key("experiment", job_id, name)))
    series = decode_chunk(store.get_bytes(run_series_key(job_id, "default")))
    assert series["estimates/A_L"].shape == (300,) and series["sampled/xbar"].shape == (300, 3, 3)


def test_partial_experiment_is_cut_at_iterations_done_and_marked(local_store):
    job_id = write_synthetic_experiment(local_store, trials=6, iterations=900, chunk=300, probe_every=100, eval_every=100, complete=False)
    manifest = local_store.get_json(object_keys.manifest_key(job_id))
    manifest["iterations_done"] = 600  # a third chunk written but not yet committed
    manifest["chunks"]["sampled"] = manifest["chunks"]["sampled"][:2]
    local_store.put_json(object_keys.manifest_key(job_id), manifest)
    run_experiment_analysis(local_store, job_id)
    summary = local_store.get_json(run_summary_key(job_id, "default"))
    assert summary["partial"] is True and summary["iterations_done"] == 600 and summary["iterations"] == 600
    assert summary["streams"]["probe"]["records"] == 7  # t = 0, 100, ..., 600


def test_synthetic_l_model_is_recognised(local_store):
    job_id = write_synthetic_experiment(local_store, trials=30, iterations=3000, chunk=1000, probe_every=250, eval_every=250)
    run_experiment_analysis(local_store, job_id)
    summary = local_store.get_json(run_summary_key(job_id, "default"))
    assert_every_number(summary)
    assert summary["verdict"]["label"] == "separable"  # alpha > beta with r < 1
    assert summary["imitation"]["L"]["all_orders_agree"]
    assert summary["separability"]["probe"]["final"] == 1.0


def test_option_sets_are_cached_apart_and_a_failed_rerun_keeps_the_good_result(local_store):
    job_id = write_synthetic_experiment(local_store, trials=5, iterations=400, chunk=200, probe_every=100, eval_every=100)
    options = AnalysisOptions(estimator="I", savgol_window=31, tail_window=100)
    key = options_key(options)
    assert key != "default" and len(key) == 16
    run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
    good = local_store.get_json(run_summary_key(job_id, key))
    assert good["options"]["estimator"] == "I" and good["estimates"]["estimator"] == "I"
    assert not local_store.exists(run_summary_key(job_id, "default"))
    # damage a chunk: the re-run fails, records why, and the earlier result stays
    manifest = local_store.get_json(object_keys.manifest_key(job_id))
    local_store.put_bytes(manifest["chunks"]["sampled"][0]["key"], b"broken")
    run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
    state = local_store.get_json(run_state_key(job_id, key))
    assert state["state"] == "failed" and "checksum" in state["error"]
    assert local_store.get_json(run_summary_key(job_id, key)) == good


def test_figure_variant_renders_at_the_asked_size(local_store):
    job_id = write_synthetic_experiment(local_store, trials=4, iterations=300, chunk=300, probe_every=100, eval_every=100)
    run_experiment_analysis(local_store, job_id)
    render_figure_variant(local_store, job_id, "default", "AB", 6.0, 3.0, 50)
    png = local_store.get_bytes(run_figure_key(job_id, "default", "AB", variant="w6-h3-d50"))
    assert_valid_png(png, min_size=100)


def test_probe_and_sampled_streams_give_the_same_rates_per_iteration(local_store):
    """One time unit: probe records every 50 iterations give the rates of the per-iteration stream."""
    job_id = write_synthetic_experiment(
        local_store, trials=20, iterations=4000, chunk=2000, probe_every=50, probe_per_class=10, eval_every=1000
    )
    rates = {}
    for source in ("sampled", "probe"):
        options = AnalysisOptions(source=source)
        run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
        estimates = local_store.get_json(run_summary_key(job_id, options_key(options)))["estimates"]
        assert estimates["unit"] == "per iteration"
        assert estimates["record_spacing"] == (1.0 if source == "sampled" else 50.0)
        rates[source] = {m: (estimates["models"][m]["alpha_tail_mean"], estimates["models"][m]["beta_tail_mean"]) for m in ("I", "L")}
        rates[source]["drift"] = (estimates["drift_regression"]["alpha"], estimates["drift_regression"]["beta"])
    for key in ("I", "L", "drift"):
        for sampled, probe in zip(rates["sampled"][key], rates["probe"][key]):
            assert abs(probe - sampled) <= 0.05 * abs(sampled), (key, sampled, probe)
    # the synthetic run's true rates over its last 1000 iterations (alpha ~ 0.0035, beta ~ -0.0007)
    alpha, beta = rates["sampled"]["L"]
    assert 0.0030 < alpha < 0.0040 and -0.0008 < beta < -0.0006


def test_notes_say_how_each_number_was_made_and_the_authors_imitation_is_labelled(local_store):
    job_id = write_synthetic_experiment(local_store, trials=10, iterations=2000, chunk=1000, probe_every=100, eval_every=500)
    run_experiment_analysis(local_store, job_id)
    summary = local_store.get_json(run_summary_key(job_id, "default"))
    notes = summary["notes"]
    for key in ("unit", "rates", "tail_indices", "verdict", "drift_regression", "separability", "imitation"):
        assert key in notes, key
    assert "per iteration" in notes["unit"] and "t0" in notes["imitation"] and "no rescaling" in notes["imitation"]
    fit = summary["imitation"]["L"]
    assert fit["procedure"] == "exact" and fit["scale"] == 1.0 and fit["step_kind"] == "exact"
    assert fit["t0"] > 0 and len(fit["orthogonal_share"]) == 3 and len(fit["nrmse_per_class"]) == 3
    assert summary["verdict"]["why"] and summary["tail_indices"]["gamma_definition"].startswith("Gamma = min(")

    options = AnalysisOptions(imitation="authors")
    run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
    authors = local_store.get_json(run_summary_key(job_id, options_key(options)))
    assert authors["imitation"]["L"]["procedure"] == "authors"
    assert "AUTHORS' PROCEDURE" in authors["notes"]["imitation"]


def test_label_noise_run_under_both_groupings(local_store):
    """Trained labels (the authors') by default; 'true' regroups Xbar, says so, and moves the Xbar-based numbers."""
    job_id = write_synthetic_experiment(
        local_store, trials=12, iterations=2000, chunk=1000, probe_every=100, eval_every=500, label_noise=0.3
    )
    run_experiment_analysis(local_store, job_id)
    trained = local_store.get_json(run_summary_key(job_id, "default"))
    options = AnalysisOptions(labels="true")
    run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
    true = local_store.get_json(run_summary_key(job_id, options_key(options)))
    assert trained["labels"]["option"] == "trained" and true["labels"]["option"] == "true"
    assert trained["labels"]["groupings_differ"] and "true" in true["labels"]["separability"]
    for model in ("I", "L"):
        assert true["estimates"]["models"][model]["A_end"] != trained["estimates"]["models"][model]["A_end"]

    def margin(summary: dict) -> float:  # own logit minus the others' mean, averaged over classes, at the end
        x = np.array(summary["class_means"]["sampled"]["end"])
        return float(np.mean([x[k, k] - np.delete(x[k], k).mean() for k in range(3)]))

    # grouping by the corrupted label dilutes the class difference by about 1 - 3p/2 = 0.55 at p = 0.3
    assert true["class_means"]["sampled"]["labels"] == "true"
    assert margin(trained) / margin(true) == pytest.approx(0.55, abs=0.08)
    # each summary carries the other grouping's verdict and Figure 4c number, and they agree across the two runs
    groupings = trained["label_groupings"]
    assert groupings["trained"]["computed"] and groupings["true"]["computed"]
    assert groupings["true"]["verdict"]["L"] == true["verdict"]
    assert groupings["true"]["figure_4c"]["r_hat_min"] == true["figure_4c"]["r_hat_min"]
    assert true["label_groupings"]["trained"]["figure_4c"]["r_hat_min"] == trained["figure_4c"]["r_hat_min"]
    assert trained["figure_4c"]["model"] == "I" and "Figure 4c" in trained["figure_4c"]["label"]
    # the jackknife over groups of trials made every standard error, and says so
    assert "jackknife over 10 groups" in trained["verdict"]["se_method"]
    assert len(trained["verdict"]["windows"]) == 3


def test_an_onset_never_reached_fails_the_imitation_with_its_reason(local_store):
    # logits buried in noise 100 times the class means' size: never 100 times clear of it
    job_id = write_synthetic_experiment(local_store, trials=6, iterations=1000, chunk=1000, probe_every=100, eval_every=500, noise=10.0)
    options = AnalysisOptions(imitation_onset_snr=100.0)
    run_experiment_analysis(local_store, job_id, options.model_dump(mode="json"))
    summary = local_store.get_json(run_summary_key(job_id, options_key(options)))
    for model in ("I", "L"):
        fit = summary["imitation"][model]
        assert "never stand 100 times clear" in fit["failed"] and fit["onset"]["reached"] is False
        assert "nrmse" not in fit
