"""One pass over each stored stream, reduced to what the analysis needs.

The sampled stream is the bulky one (trials x iterations logits); it is read once, chunk
by chunk, into per-iteration class sums (Xbar(t)) under both label groupings (the trained,
possibly corrupted, label and the true one), the same sums per group of trials (the
jackknife's replicates), the mean training loss and a bounded, evenly spread subset of
per-sample logits for the separation figures. Memory is O(T G K^2 + sample budget),
independent of the number of trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from lesde_contract.chunks import Manifest, class_means, iter_chunks
from lesde_contract.object_store import ObjectStore

from lesde_analyzer.estimation.jackknife import DEFAULT_GROUPS, group_class_sums, trial_groups
from lesde_analyzer.experiments.reader import ExperimentDataMissing, read_stream

SAMPLE_BUDGET = 20_000  # per-sample logits kept for the separation figures
LABELINGS = ("trained", "true")


@dataclass(frozen=True)
class LabelGrouping:
    """Class sums of the sampled logits under one label grouping, in total and per group of trials.

    Attributes
    ----------
    xbar : ndarray of shape (T, K, K)
        Mean over trials of the logits grouped by this label (NaN where no trial had it).
    counts : ndarray of shape (T, K)
    group_sums : ndarray of shape (T, G, K, K)
        The same sums per group of trials (:func:`~lesde_analyzer.estimation.jackknife.trial_groups`).
    group_counts : ndarray of shape (T, G, K)
    """

    xbar: np.ndarray
    counts: np.ndarray
    group_sums: np.ndarray
    group_counts: np.ndarray


@dataclass(frozen=True)
class SampledData:
    """The sampled stream, reduced.

    Attributes
    ----------
    t : ndarray of shape (T,)
        Iterations.
    xbar : ndarray of shape (T, K, K)
        Mean over trials of the logits grouped by trained label (NaN where no trial had the label).
    counts : ndarray of shape (T, K)
        Trials per label and iteration.
    loss : ndarray of shape (T,)
        Mean training loss over trials.
    sample_t : ndarray of shape (N,)
    sample_label : ndarray of shape (N,)
    sample_logits : ndarray of shape (N, K)
        Per-sample logits at evenly spread iterations (all trials), N <= about SAMPLE_BUDGET.
    trials : int
    groupings : dict of str to LabelGrouping
        ``"trained"`` (the label each trial trained on, as the authors group) and ``"true"``
        (the sample's class before label noise; equal to trained where nothing was corrupted).
    true_labels_stored : bool
        Whether the stream stores true labels (older and imported streams may not).
    """

    t: np.ndarray
    xbar: np.ndarray
    counts: np.ndarray
    loss: np.ndarray
    sample_t: np.ndarray
    sample_label: np.ndarray
    sample_logits: np.ndarray
    trials: int
    groupings: dict[str, LabelGrouping]
    true_labels_stored: bool


def read_sampled(
    store: ObjectStore, job_id: str, *, manifest: Manifest, budget: int = SAMPLE_BUDGET, groups: int = DEFAULT_GROUPS
) -> SampledData:
    """Reduce the sampled stream of ``job_id`` (up to the manifest's ``iterations_done``);
    ``groups`` groups of trials for the jackknife (fewer when there are fewer trials)."""
    if not manifest.chunks["sampled"]:
        raise ExperimentDataMissing(f"experiment {job_id} has no sampled chunks yet")
    done = manifest.iterations_done
    trials: int | None = None
    losses: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    sample_t: list[np.ndarray] = []
    sample_label: list[np.ndarray] = []
    sample_logits: list[np.ndarray] = []
    stride = 1
    group = np.zeros(0, np.int64)
    per_labels: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {name: ([], []) for name in LABELINGS}
    true_stored = True
    fields = ("iteration", "loss", "label", "true_label", "logits")
    for chunk in iter_chunks(store, manifest, "sampled", fields=fields):
        if trials is None:
            trials = int(chunk["label"].shape[1])
            # iterations whose per-sample logits are kept: every stride-th, all trials
            stride = max(1, int(np.ceil(done * trials / budget)))
            group = trial_groups(trials, groups)
        it = chunk["iteration"]
        ts.append(it)
        classes = int(chunk["logits"].shape[-1])
        true_stored = true_stored and "true_label" in chunk
        trained_sums = group_class_sums(chunk["label"], chunk["logits"], group, num_classes=classes)
        # without label noise both groupings are one: the second pass over the logits is skipped
        same = "true_label" not in chunk or np.array_equal(chunk["true_label"], chunk["label"])
        true_sums = trained_sums if same else group_class_sums(chunk["true_label"], chunk["logits"], group, num_classes=classes)
        for name, (group_sums, group_counts) in (("trained", trained_sums), ("true", true_sums)):
            per_labels[name][0].append(group_sums)
            per_labels[name][1].append(group_counts)
        losses.append(chunk["loss"].astype(np.float64).mean(axis=1))
        keep = np.flatnonzero(it % stride == 0)
        if keep.size:
            # rows per iteration: trials x batch slots (1 at batch size 1; B, or K per_class)
            rows = int(np.prod(chunk["label"].shape[1:]))
            sample_t.append(np.repeat(it[keep], rows))
            sample_label.append(chunk["label"][keep].reshape(-1))
            sample_logits.append(chunk["logits"][keep].reshape(keep.size * rows, classes).astype(np.float64))
    if trials is None or not ts:
        raise ExperimentDataMissing(f"experiment {job_id} has no sampled records yet")
    groupings: dict[str, LabelGrouping] = {}
    for name, (sums_list, counts_list) in per_labels.items():
        gs, gc = np.concatenate(sums_list), np.concatenate(counts_list)
        count = gc.sum(axis=1)
        groupings[name] = LabelGrouping(xbar=class_means(gs.sum(axis=1), count), counts=count, group_sums=gs, group_counts=gc)
    trained = groupings["trained"]
    classes = trained.xbar.shape[1]
    return SampledData(
        t=np.concatenate(ts),
        xbar=trained.xbar,
        counts=trained.counts,
        loss=np.concatenate(losses),
        sample_t=np.concatenate(sample_t) if sample_t else np.zeros(0, np.int64),
        sample_label=np.concatenate(sample_label) if sample_label else np.zeros(0, np.int64),
        sample_logits=np.concatenate(sample_logits) if sample_logits else np.zeros((0, classes)),
        trials=trials,
        groupings=groupings,
        true_labels_stored=true_stored,
    )


@dataclass(frozen=True)
class ProbeData:
    """Probe-set (or penultimate-feature) records grouped by class.

    Attributes
    ----------
    t : ndarray of shape (S,)
    grouped : ndarray of shape (S, R, K, m, p)
        Features of the first ``m`` probe samples of each class (m = the smallest class count).
    """

    t: np.ndarray
    grouped: np.ndarray


def read_probe(store: ObjectStore, job_id: str, stream: str, *, manifest: Manifest, classes: int) -> ProbeData | None:  # noqa: ARG001 - same signature as read_sampled
    """``probe`` (logits, p = K) or ``features`` (penultimate, p = F) records; None when absent."""
    value = "logits" if stream == "probe" else "features"
    data = read_stream(store, manifest, stream, fields=("iteration", value, "probe_label"))
    if data is None or value not in data or "probe_label" not in data:
        return None
    labels = data["probe_label"]
    members = [np.flatnonzero(labels == k) for k in range(classes)]
    m = min(len(idx) for idx in members)
    if m == 0:
        return None
    order = np.concatenate([idx[:m] for idx in members])
    x = data[value][:, :, order, :].astype(np.float64)  # (S, R, K*m, p)
    S, R, _, p = x.shape
    return ProbeData(t=data["iteration"], grouped=x.reshape(S, R, classes, m, p))


def read_eval(store: ObjectStore, job_id: str, *, manifest: Manifest) -> dict[str, np.ndarray] | None:  # noqa: ARG001 - same signature as read_sampled
    """``iteration`` (E,) and ``val_loss``, ``val_acc``, ``train_loss``, ``train_acc`` (E, R); None when absent."""
    return read_stream(store, manifest, "eval", fields=("iteration", "val_loss", "val_acc", "train_loss", "train_acc"))
