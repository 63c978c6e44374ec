"""Which class an SGD step samples: the weights ``pi`` of the LE drift's blocks.

The paper's drift divides every block by K because balanced data are sampled class by class
with probability 1/K (Section 3; its Discussion (ii) generalises the drift to other sampling
effects). With ``dataset.train_counts`` the samples of class k make up ``n_k / N`` of the
training set, and label corruption moves a fraction p of each class's labels to the other
classes in equal shares, so a step trains on label k with probability

    pi_k = (1 - p) n_k / N + p (1 - n_k / N) / (K - 1),

the weight of the class-k block column of the drift (``M_t``'s (k, l) block is
``E_kl H_l pi_l``); balanced sets keep ``1/K``. Mini-batches (mean loss) leave the expected
drift per step unchanged, and per-class batches train every class each step (``1/K``).
"""

from __future__ import annotations


def class_sampling(spec: dict) -> tuple[list[float] | None, str]:
    """``(pi, words)`` for a stored experiment spec: ``pi`` None when every class has 1/K."""
    data, training = spec.get("dataset") or {}, spec.get("training") or {}
    classes = data.get("classes") or []
    K = len(classes)
    if spec.get("kind") == "import" or K < 2:
        return None, "balanced sampling assumed (1/K per class): an imported run does not say how it sampled"
    if training.get("batching") == "per_class":
        return None, "balanced: every step trains one sample of each class (per_class batches), weight 1/K each"
    counts = data.get("train_counts") or [data.get("train_per_class", 1)] * K
    total = float(sum(counts))
    noise = float(data.get("label_noise") or 0.0)
    pi = [(1 - noise) * n / total + noise * (1 - n / total) / (K - 1) for n in counts]
    batch = int(training.get("batch_size") or 1)
    per_step = f"mini-batches of {batch} (mean loss: the same expected drift per step)" if batch > 1 else "batch size 1"
    if max(abs(p - 1.0 / K) for p in pi) < 1e-12:
        return None, f"balanced: each class sampled with probability 1/K (the paper's drift); {per_step}"
    shown = ", ".join(f"{name} {p:.3f}" for name, p in zip(classes, pi))
    return pi, (
        f"imbalanced: a step trains on each label with probability pi = ({shown}) from the training counts "
        f"{list(counts)}" + (f" and label noise {noise:g}" if noise else "") + f"; {per_step}. The drift "
        "regression weights each class's block by pi (M_t = E_t o H pi, the paper's Discussion (ii)); the "
        "integral estimators A, B and the tail index assume 1/K"
    )
