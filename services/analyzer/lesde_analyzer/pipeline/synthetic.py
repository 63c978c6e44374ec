"""Synthetic experiments in the real stored format (for benchmarks and tests).

Class means follow the L-model LE-ODE with ``alpha(t) = a (1 + t/tau)^-r_a`` and
``beta(t) = b (1 + t/tau)^-r_b`` (forward Euler, step ``h``); each logged logit is its
class mean plus a per-sample offset plus Gaussian noise, like SGD logits of a network
whose classes separate. Chunks, manifest, spec and status are written as the trainer
writes them, so the analysis pipeline cannot tell the difference.
"""

from __future__ import annotations

import numpy as np

from lesde.chunks import ChunkWriter, class_sums
from lesde.jobs import JobRepository
from lesde.records import JobStatus
from lesde.storage import ObjectStore


def l_model_means(iterations: int, classes: int, *, a: float = 0.02, b: float = -0.004, r_a: float = 0.6, r_b: float = 0.6, tau: float = 200.0, h: float = 1.0, seed: int = 0) -> np.ndarray:
    """Xbar(t) of the L-model, shape (iterations, K, K), from a random start of norm ~0.1."""
    K = classes
    rng = np.random.default_rng(seed)
    d = np.eye(K) - 1.0 / K
    H = np.stack([np.outer(d[l], d[l]) / (d[l] @ d[l]) for l in range(K)])
    x = 0.1 * rng.standard_normal((K, K))
    out = np.empty((iterations, K, K))
    t = np.arange(iterations)
    alpha = a * (1 + t / tau) ** -r_a
    beta = b * (1 + t / tau) ** -r_b
    for s in range(iterations):
        out[s] = x
        hx = np.einsum("lpq,lq->lp", H, x) / K  # (K, K): H_l x^l / K
        total = hx.sum(axis=0)
        x = x + h * (alpha[s] * hx + beta[s] * (total[None, :] - hx))
    return out


def write_synthetic_experiment(
    store: ObjectStore,
    *,
    trials: int,
    iterations: int,
    classes: int = 3,
    chunk: int = 5000,
    probe_every: int = 1000,
    probe_per_class: int = 5,
    eval_every: int = 1000,
    noise: float = 0.05,
    dtype: str = "float32",
    seed: int = 0,
    complete: bool = True,
) -> str:
    """Create an experiment record and write its chunks; return the job id."""
    K, R = classes, trials
    repo = JobRepository(store, "experiment")
    spec = {
        "name": "synthetic",
        "dataset": {"name": "geomnist", "classes": [f"c{k}" for k in range(K)], "train_per_class": 100, "val_per_class": 10},
        "model": {"name": "lenet", "dtype": dtype},
        "training": {"iterations": iterations, "trials": R, "probe_every": probe_every, "eval_every": eval_every, "probe_per_class": probe_per_class, "features_every": 0},
        "synthetic": True,
    }
    record = repo.create(spec=spec, owner="synthetic", name="synthetic", total=iterations, unit="iterations")
    means = l_model_means(iterations + 1, K, seed=seed)
    rng = np.random.default_rng(seed + 1)
    offsets = 0.02 * rng.standard_normal((100 * K, K))  # per training sample
    probe_label = np.repeat(np.arange(K), probe_per_class)
    probe_offsets = 0.02 * rng.standard_normal((probe_label.size, K))
    writer = ChunkWriter(store, record.id)
    for first in range(0, iterations, chunk):
        last = min(first + chunk, iterations) - 1
        it = np.arange(first, last + 1)
        n = it.size
        crng = np.random.default_rng([seed, first])
        index = crng.integers(0, 100 * K, size=(n, R))
        label = index // 100
        logits = means[it][:, None].repeat(R, axis=1)[np.arange(n)[:, None], np.arange(R)[None, :], label]
        logits = (logits + offsets[index] + noise * crng.standard_normal((n, R, K))).astype(dtype)
        shifted = logits - logits.max(axis=2, keepdims=True)
        loss = -(np.take_along_axis(shifted, label[..., None], axis=2)[..., 0] - np.log(np.exp(shifted).sum(axis=2)))
        writer.put("sampled", first, last, {
            "iteration": it, "index": index, "label": label, "true_label": label, "logits": logits, "loss": loss.astype(dtype),
        } | class_sums(label, logits, num_classes=K))
        points = [t for t in range(first + 1, last + 2) if t % probe_every == 0 or t == iterations] + ([0] if first == 0 else [])
        points = sorted(points)
        if points:
            pl = means[points][:, None, probe_label] + probe_offsets[None, None] + noise * crng.standard_normal((len(points), R, probe_label.size, K))
            writer.put("probe", first, last, {"iteration": np.array(points), "logits": pl.astype(dtype), "probe_index": np.arange(probe_label.size), "probe_label": probe_label})
            acc = np.clip(0.5 + 0.5 * np.tanh(np.array(points) / max(1, iterations / 4)), 0, 1)[:, None] + 0.01 * crng.standard_normal((len(points), R))
            writer.put("eval", first, last, {"iteration": np.array(points), "val_loss": 1.1 - acc, "val_acc": acc, "train_loss": 1.0 - acc, "train_acc": acc})
        writer.commit(last + 1, complete=complete and last + 1 == iterations)
    if complete:
        repo.mark_running(record.id)
        repo.mark_finished(record.id, JobStatus.succeeded)
    return record.id
