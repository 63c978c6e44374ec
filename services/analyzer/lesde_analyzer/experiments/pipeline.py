"""The analysis of one stored experiment: read the streams, compute every typed piece, assemble the result.

:func:`compute_analysis` returns the typed :class:`~lesde_contract.analysis_results.ExperimentAnalysis`
and the series; :func:`analyse_experiment` returns the same encoded as it is stored (the
JSON dict), which :mod:`.job` stores beside the series and the figures and ``lesde.analyze``
returns in process. Experiments still training are analysed up to the manifest's
``iterations_done`` and marked ``partial``.
"""

from __future__ import annotations

import numpy as np
from lesde_contract.analysis_results import EXPERIMENT_FORMAT_VERSION, ExperimentAnalysis, encode
from lesde_contract.analysis_results.experiment import EvalStream, FeaturesStream, ProbeStream, SampledStream, Sampling, StreamCounts
from lesde_contract.analysis_results.geometry import GeometryByStream, RecordGeometry, SeparabilityByStream
from lesde_contract.object_store import ObjectStore
from lesde_contract.specs.analysis import AnalysisOptions, options_key

from lesde_analyzer.experiments.class_means import class_means
from lesde_analyzer.experiments.curves import curves
from lesde_analyzer.experiments.estimates import estimates
from lesde_analyzer.experiments.groupings import grouping_verdicts, labels_used
from lesde_analyzer.experiments.notes import analysis_notes
from lesde_analyzer.experiments.reader import read_manifest
from lesde_analyzer.experiments.record_geometry import geometry, separability
from lesde_analyzer.experiments.streams import ProbeData, SampledData, read_eval, read_probe, read_sampled
from lesde_analyzer.experiments.xbar import analysis_xbar

__all__ = ["FORMAT_VERSION", "compute_analysis", "analyse_experiment"]

FORMAT_VERSION = EXPERIMENT_FORMAT_VERSION
BALANCED = "balanced sampling assumed (1/K per class)"

#: ``(pi, words)`` from :func:`lesde_contract.specs.sampling.class_sampling`
ClassSampling = tuple[list[float] | None, str]


def analyse_experiment(
    store: ObjectStore,
    job_id: str,
    *,
    options: AnalysisOptions,
    class_names: list[str] | None = None,
    sampling: ClassSampling | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """:func:`compute_analysis`, with the result encoded as it is stored: ``(summary, series)``.

    Returns
    -------
    summary : dict
        The stored JSON of :class:`~lesde_contract.analysis_results.ExperimentAnalysis` (figures not yet named).
    series : dict of str to ndarray
        As :func:`compute_analysis`.
    """
    analysis, series = compute_analysis(store, job_id, options=options, class_names=class_names, sampling=sampling)
    return encode(analysis), series


def compute_analysis(
    store: ObjectStore,
    job_id: str,
    *,
    options: AnalysisOptions,
    class_names: list[str] | None = None,
    sampling: ClassSampling | None = None,
) -> tuple[ExperimentAnalysis, dict[str, np.ndarray]]:
    """Compute every number of the analysis of ``job_id``.

    ``sampling`` is ``(pi, words)`` from :func:`lesde_contract.specs.sampling.class_sampling`: the
    drift regression weights the classes by ``pi`` (None: 1/K), and the notes say which.

    Returns
    -------
    analysis : ExperimentAnalysis
        Every number (figures not yet named).
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

    x = analysis_xbar(sampled, probe, options)
    pi, sampling_words = sampling or (None, BALANCED)
    est, est_series = estimates(x.t, x.xbar, options, record_se=x.record_se, replicates=x.replicates, class_weights=pi)
    curve_summary, curve_series = curves(sampled, evals)

    series: dict[str, np.ndarray] = {"estimates/t": x.t}
    series |= {f"estimates/{name}": value for name, value in est_series.items()}
    series |= _stream_series(sampled, probe)
    series |= {f"eval/{name}": value for name, value in curve_series.items()}

    geometries: dict[str, RecordGeometry] = {}
    for name, data in (("probe", probe), ("features", features)):
        if data is not None:
            geometries[name], geo_series = geometry(data, max_records=options.max_separability_records, seed=options.seed)
            series |= {f"{name}/{key}": value for key, value in geo_series.items()}

    analysis = ExperimentAnalysis(
        version=FORMAT_VERSION,
        job_id=job_id,
        partial=not manifest.complete,
        iterations_done=manifest.iterations_done,
        options=AnalysisOptions.model_validate(options.model_dump()),  # every option set: stored with its defaults
        options_key=options_key(options),
        classes=names,
        iterations=int(sampled.t[-1]) + 1,
        trials=sampled.trials,
        streams=StreamCounts(
            sampled=SampledStream(records=len(sampled.t), first=int(sampled.t[0]), last=int(sampled.t[-1])),
            probe=None if probe is None else ProbeStream(records=len(probe.t), per_class=int(probe.grouped.shape[3])),
            features=None if features is None else FeaturesStream(records=len(features.t), dimension=int(features.grouped.shape[4])),
            eval=None if evals is None else EvalStream(records=int(len(evals["iteration"]))),
        ),
        source=x.source,
        labels=labels_used(sampled, options, x.source),
        label_groupings=grouping_verdicts(sampled, probe, options, est, x.source),
        estimates=est,
        figure_4c=est.figure_4c,
        tail_indices=est.tail_indices,
        verdict=est.verdict,
        separability=SeparabilityByStream(**{name: separability(g) for name, g in geometries.items()}),
        neural_collapse=GeometryByStream(**geometries),
        imitation=est.imitation,
        curves=curve_summary,
        class_means=class_means(sampled, probe, labels=options.labels),
        notes=analysis_notes(est, options, sampling=sampling_words),
        sampling=Sampling(class_weights=pi, model="balanced" if pi is None else "imbalanced"),
    )
    if curve_summary.final is not None:
        analysis.final = curve_summary.final
    return analysis, series


def _stream_series(sampled: SampledData, probe: ProbeData | None) -> dict[str, np.ndarray]:
    """The sampled stream's reduced arrays, its thinned samples and the probe set's Xbar, by ``group/name``."""
    series = {
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
    return series
