"""Benchmark: ``Recorder.log`` per call, on CPU torch logits (1, K), against a naive list.

The Recorder (``lesde.Recorder``, batch size 1, K = 10, float32) records R = 4 trials x
5,000 steps of logits that carry grad (the output of a ``Linear``, as a model's would), in
two orders: the trials side by side (every trial at each step) and one after the other (a
loop over models around the loop over steps), with the label as a Python int and as a
tensor of shape (1,) (what a DataLoader yields). The naive baseline is what a researcher
would write: append ``(step, trial, logits.detach().cpu().numpy().copy(), int(y))`` to a
list, and ``np.save`` the stacked steps, trials, logits and labels at the end. Both are
timed including the end (``close()``: chunks and manifest; the naive ``np.save``), per
``log`` call, best of 5 (all cases interleaved). Torch runs on one thread.

For scale: a tiny LeNet (two 5x5 convolutions, three linear layers) on one 28x28 image,
per forward and per SGD step (forward, cross-entropy, backward, step), and what share of a
step the recording is. The target is the issue's: under 5 us per ``log`` call. Prints only.

Run: ``python bench/recorder.py``
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from lesde import Recorder
from lesde_contract.chunks.format import decode_chunk
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

K, TRIALS, STEPS = 10, 4, 5_000
REPEATS = 5
POOL = 64  # distinct logits tensors, cycled (each with its own grad_fn)
TARGET_US = 5.0


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, K),
    )


def order(side_by_side: bool) -> list[tuple[int, int]]:
    """``(step, trial)`` in the order the loop logs them."""
    if side_by_side:
        return [(step, trial) for step in range(STEPS) for trial in range(TRIALS)]
    return [(step, trial) for trial in range(TRIALS) for step in range(STEPS)]


def run_recorder(folder: Path, calls: list[tuple[int, int]], pool: list[torch.Tensor], labels: list) -> tuple[float, float]:
    """Seconds in ``log`` calls, seconds in ``close``."""
    rec = Recorder(K, trials=TRIALS, store=folder)
    log = rec.log
    t0 = time.perf_counter()
    for step, trial in calls:
        j = (step + 7 * trial) % POOL
        log(step, pool[j], labels[j], trial=trial)
    t1 = time.perf_counter()
    rec.close()
    return t1 - t0, time.perf_counter() - t1


def run_naive(folder: Path, calls: list[tuple[int, int]], pool: list[torch.Tensor], labels: list) -> tuple[float, float]:
    rows = []
    append = rows.append
    t0 = time.perf_counter()
    for step, trial in calls:
        j = (step + 7 * trial) % POOL
        append((step, trial, pool[j].detach().cpu().numpy().copy(), int(labels[j])))
    t1 = time.perf_counter()
    folder.mkdir(parents=True)
    np.save(folder / "step.npy", np.array([row[0] for row in rows], np.int64))
    np.save(folder / "trial.npy", np.array([row[1] for row in rows], np.int64))
    np.save(folder / "logits.npy", np.stack([row[2] for row in rows]))
    np.save(folder / "label.npy", np.array([row[3] for row in rows], np.int64))
    return t1 - t0, time.perf_counter() - t1


def check(folder: Path, naive: Path) -> float:
    """Max |difference| between the recorded sampled logits and the naive ones (same order)."""
    chunks = sorted((folder / "chunks" / "sampled").glob("*.npz"), key=lambda p: int(p.stem.split("-")[0]))
    recorded = np.concatenate([decode_chunk(p.read_bytes(), fields=["logits"])["logits"] for p in chunks])  # (T, R, K)
    steps, trials = np.load(naive / "step.npy"), np.load(naive / "trial.npy")
    logits = np.load(naive / "logits.npy")[:, 0]
    return float(np.abs(recorded[steps, trials] - logits).max())


def per_call(fn: Callable[[], object], seconds: float = 1.0, inner: int = 10) -> float:
    """Best seconds per call of ``fn()`` over batches of ``inner`` calls, for about ``seconds``."""
    best, end = np.inf, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


def main() -> None:
    torch.set_num_threads(1)  # a batch-1 model is fastest on one thread (and two thrash on a busy 2-core host)
    torch.manual_seed(0)
    head = nn.Linear(16, K)
    pool = [head(torch.randn(1, 16)) for _ in range(POOL)]  # (1, K) with grad, as a model's output
    int_labels = [int(v) for v in torch.randint(0, K, (POOL,))]
    tensor_labels = [torch.tensor([v]) for v in int_labels]
    cases = [
        ("side by side, y int", True, int_labels),
        ("side by side, y tensor (1,)", True, tensor_labels),
        ("one after the other, y int", False, int_labels),
        ("one after the other, y tensor (1,)", False, tensor_labels),
    ]
    n = STEPS * TRIALS
    best = {(c, kind): (np.inf, np.inf, -1) for c in range(len(cases)) for kind in ("rec", "naive")}
    with tempfile.TemporaryDirectory(prefix="lesde-bench-recorder-") as tmp:
        root = Path(tmp)
        for rep in range(REPEATS):  # cases and kinds interleaved, so a busy moment hits all of them alike
            for c, (_name, side_by_side, labels) in enumerate(cases):
                calls = order(side_by_side)
                for kind, fn in (("rec", run_recorder), ("naive", run_naive)):
                    log_s, close_s = fn(root / f"{kind}-{c}-{rep}", calls, pool, labels)
                    if log_s + close_s < sum(best[c, kind][:2]):
                        best[c, kind] = (log_s, close_s, rep)
        results = []
        for c, (name, _side_by_side, _labels) in enumerate(cases):
            error = check(root / f"rec-{c}-{best[c, 'rec'][2]}", root / f"naive-{c}-{best[c, 'naive'][2]}")
            results.append((name, best[c, "rec"][:2], best[c, "naive"][:2], error))

    model = lenet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    image, target = torch.randn(1, 1, 28, 28), torch.tensor([3])

    def sgd_step() -> None:
        loss = F.cross_entropy(model(image), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    sgd_step()  # the first call of a layer sets it up
    forward = per_call(lambda: model(image))
    step = per_call(sgd_step)

    print(
        f"Recorder.log on CPU torch logits (1, {K}) with grad, batch size 1: {TRIALS} trials x {STEPS:,} steps = {n:,} calls, "
        f"float32, best of {REPEATS} (torch {torch.__version__}, {torch.get_num_threads()} thread(s))"
    )
    print(f"  {'':<36s} {'Recorder':>24s}   {'naive list + np.save':>24s}")
    print(f"  {'per log call, us':<36s} {'log':>8s} {'+close':>7s} {'total':>7s}   {'append':>8s} {'+save':>7s} {'total':>7s}   ratio")
    worst = 0.0
    for name, (rlog, rclose), (nlog, nsave), error in results:
        r = [v / n * 1e6 for v in (rlog, rclose, rlog + rclose)]
        b = [v / n * 1e6 for v in (nlog, nsave, nlog + nsave)]
        worst = max(worst, r[2])
        print(
            f"  {name:<36s} {r[0]:8.2f} {r[1]:7.2f} {r[2]:7.2f}   {b[0]:8.2f} {b[1]:7.2f} {b[2]:7.2f}   {r[2] / b[2]:5.2f}x"
            f"   (max |diff| {error:.0e})"
        )
    print("For scale, tiny LeNet on one 28x28 image (best batch of 10 calls in 1 s):")
    print(f"  {'forward':<36s} {forward * 1e6:8.1f} us")
    print(f"  {'SGD step (forward, loss, backward)':<36s} {step * 1e6:8.1f} us")
    share = worst / (step * 1e6 + worst)
    print(f"  recording (worst case above, {worst:.2f} us) is {share:.1%} of a step with it, {worst / (forward * 1e6):.1%} of a forward")
    verdict = "met" if worst < TARGET_US else "NOT met"
    print(f"Target: under {TARGET_US:g} us per log call (close included, worst case above): {verdict} ({worst:.2f} us)")


if __name__ == "__main__":
    main()
