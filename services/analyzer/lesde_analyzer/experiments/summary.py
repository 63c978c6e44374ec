"""The analysis of one stored experiment: read the streams, compute, assemble the JSON.

``analyse_experiment`` returns ``(summary, series)``; :mod:`.job` stores them and the
figures. Experiments still training are analysed up to the manifest's
``iterations_done`` and marked ``"partial": true``.
"""

from __future__ import annotations

import numpy as np

from lesde.specs.analysis import AnalysisOptions, options_key
from lesde.storage import ObjectStore
from lesde_analyzer.experiments import compute
from lesde_analyzer.experiments.groupings import grouping_verdicts, labels_json
from lesde_analyzer.experiments.notes import analysis_notes
from lesde_analyzer.experiments.reader import read_manifest
from lesde_analyzer.experiments.streams import read_eval, read_probe, read_sampled

FORMAT_VERSION = 2


def analyse_experiment(
    store: ObjectStore, job_id: str, *, options: AnalysisOptions, class_names: list[str] | None = None,
    sampling: tuple[list[float] | None, str] | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Compute every number of the analysis of ``job_id``.

    ``sampling`` is ``(pi, words)`` from :func:`lesde.specs.sampling.class_sampling`: the
    drift regression weights the classes by ``pi`` (None: 1/K), and the notes say which.

    Returns
    -------
    summary : dict
        JSON-ready numbers (outline in the README / the report).
    series : dict of str to ndarray
        ``"group/name"`` -> full-length arrays; groups ``estimates`` (time axis of the chosen
        source), ``sampled``, ``probe``, ``features``, ``eval``, ``samples``.
    """
    manifest = read_manifest(store, job_id)
    sampled = read_sampled(store, job_id, manifest=manifest, groups=max(options.jackknife_groups, 1))
    K = sampled.xbar.shape[1]
    names = list(class_names) if class_names and len(class_names) == K else [str(k) for k in range(K)]
    probe = read_probe(store, job_id, "probe", manifest=manifest, classes=K)
    features = read_probe(store, job_id, "features", manifest=manifest, classes=K)
    evals = read_eval(store, job_id, manifest=manifest)

    t, xbar, source, record_se, replicates = compute.analysis_xbar(sampled, probe, options)
    pi, sampling_words = sampling or (None, "balanced sampling assumed (1/K per class)")
    est_summary, est_series = compute.estimates(t, xbar, options, record_se=record_se, replicates=replicates,
                                                class_weights=pi)
    curve_summary, curve_series = compute.curves(sampled, evals)

    series: dict[str, np.ndarray] = {"estimates/t": t}
    series |= {f"estimates/{name}": value for name, value in est_series.items()}
    series |= {
        "sampled/t": sampled.t,
        "sampled/xbar": sampled.xbar,
        "sampled/counts": sampled.counts,
        "sampled/loss": sampled.loss,
        "samples/t": sampled.sample_t,
        "samples/label": sampled.sample_label,
        "samples/logits": sampled.sample_logits,
    }
    if probe is not None:
        series |= {"probe/t": probe.t, "probe/xbar": probe.grouped.mean(axis=(1, 3))}
    series |= {f"eval/{name}": value for name, value in curve_series.items()}

    geometry = {}
    for name, data in (("probe", probe), ("features", features)):
        if data is not None:
            geo_summary, geo_series = compute.geometry(data, max_records=options.max_separability_records, seed=options.seed)
            geometry[name] = geo_summary
            series |= {f"{name}/{key}": value for key, value in geo_series.items()}

    done = manifest.iterations_done
    summary = {
        "version": FORMAT_VERSION,
        "job_id": job_id,
        "partial": not manifest.complete,
        "iterations_done": done,
        "options": options.model_dump(mode="json"),
        "options_key": options_key(options),
        "classes": names,
        "iterations": int(sampled.t[-1]) + 1,
        "trials": sampled.trials,
        "streams": {
            "sampled": {"records": len(sampled.t), "first": int(sampled.t[0]), "last": int(sampled.t[-1])},
            "probe": None if probe is None else {"records": len(probe.t), "per_class": int(probe.grouped.shape[3])},
            "features": None if features is None else {"records": len(features.t), "dimension": int(features.grouped.shape[4])},
            "eval": None if evals is None else {"records": int(len(evals["iteration"]))},
        },
        "source": source,
        "labels": labels_json(sampled, options, source),
        "label_groupings": grouping_verdicts(sampled, probe, options, est_summary, source),
        "estimates": est_summary,
        "figure_4c": est_summary["figure_4c"],
        "tail_indices": est_summary["tail_indices"],
        "verdict": est_summary["verdict"],
        "separability": {
            name: {
                "initial": g["initial"]["separable_fraction"],
                "final": g["final"]["separable_fraction"],
                "initial_baseline": g["initial"]["separable_fraction_baseline"],
                "final_baseline": g["final"]["separable_fraction_baseline"],
                "test": g["separability_test"],
                "records_checked": g["separability_records_checked"],
            }
            for name, g in geometry.items()
        },
        "neural_collapse": geometry,
        "imitation": est_summary["imitation"],
        "curves": curve_summary,
        "class_means": compute.class_means_json(sampled, probe, labels=options.labels),
        "notes": analysis_notes(est_summary, options) | {"sampling": sampling_words},
        "sampling": {"class_weights": pi, "model": "balanced" if pi is None else "imbalanced"},
    }
    if "final" in curve_summary:
        summary["final"] = curve_summary["final"]
    return summary, series
