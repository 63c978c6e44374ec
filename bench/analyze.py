"""Benchmark: full analysis (JSON + every figure) of 100 trials x 100,000 iterations, K = 3.

Synthetic chunks in the real stored format (L-model class means + per-sample offsets +
noise, float32 like the trainer's default) are written to a LocalStore in a temporary
folder; then, each in a fresh child process (so its peak memory is its own):

1. our Xbar(t) from the stored chunks (class sums read chunk by chunk);
2. the full analysis of the default option set (JSON, series and all figures). Its
   "LE-ODE nrmse (L)" is the imitation's own error: the class means are an L-model
   LE-ODE, so what is left is the noise of the start state and of the estimated rates;
3. Xbar(t) the authors' way: pandas ``read_csv`` of the long CSV and ``groupby(["itr", "y"])``
   mean, on a subset of trials (the full CSV would be ~10^7 rows / ~1 GB), extrapolated
   linearly in the number of rows (read and groupby are linear in rows).

Prints timings and peak memory (ru_maxrss of the child). Run:
``.venv/bin/python bench/analyze.py [--trials 100 --iterations 100000 --pandas-trials 10]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

# the synthetic experiment is the tests' fixture (tests/fixtures), imported from the repository root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _child(queue: Queue, task: str, root: str, job_id: str, extra: dict[str, str]) -> None:
    from lesde_runtime.storage.local import LocalStore

    store = LocalStore(root)
    began = time.perf_counter()
    if task == "xbar":
        from lesde_analyzer.experiments.reader import class_means_from_sampled

        _t, xbar, _c = class_means_from_sampled(store, job_id)
        info = {"shape": list(xbar.shape)}
    elif task == "analysis":
        from lesde_analyzer.experiments.analysis_job import run_experiment_analysis

        run_experiment_analysis(store, job_id)
        summary = store.get_json(f"experiments/{job_id}/analysis/summary.json")
        info = {"verdict": summary["verdict"]["label"], "figures": len(summary["figures"]), "nrmse_L": summary["imitation"]["L"]["nrmse"]}
    else:
        import pandas as pd

        table = pd.read_csv(extra["csv"])
        logit_cols = [c for c in table.columns if c.startswith("y_logit")]
        means = table.groupby(["itr", "y"])[logit_cols].mean()
        info = {"rows": len(table), "groups": len(means)}
    elapsed = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": elapsed, "peak_mib": peak_kib / 1024, **info})


def run_child(task: str, root: str, job_id: str, **extra: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(queue, task, root, job_id, extra))
    process.start()
    # a child that dies (an exception, the OOM killer) puts nothing: poll instead of
    # waiting on the queue forever, and say how it ended
    while True:
        try:
            result = queue.get(timeout=1.0)
            break
        except Empty:
            if not process.is_alive():
                raise SystemExit(f"benchmark child {task!r} died with exit code {process.exitcode}") from None
    process.join()
    return result


def write_subset_csv(root: str, job_id: str, trials: int, path: Path) -> int:
    """The authors' long CSV (trial-major) for the first ``trials`` trials; return rows written."""
    import numpy as np
    from lesde_contract.chunks import iter_chunks, load_manifest
    from lesde_runtime.storage.local import LocalStore

    store = LocalStore(root)
    manifest = load_manifest(store, job_id)
    evals = {}
    for chunk in iter_chunks(store, manifest, "eval"):
        for i, t in enumerate(chunk["iteration"]):
            evals[int(t)] = (chunk["val_loss"][i], chunk["val_acc"][i])
    parts = []
    for chunk in iter_chunks(store, manifest, "sampled"):
        parts.append(
            {
                name: chunk[name][:, :trials] if chunk[name].ndim > 1 else chunk[name]
                for name in ("iteration", "index", "label", "logits", "loss")
            }
        )
    it = np.concatenate([p["iteration"] for p in parts])
    index = np.concatenate([p["index"] for p in parts])
    label = np.concatenate([p["label"] for p in parts])
    logits = np.concatenate([p["logits"] for p in parts]).astype(np.float64)
    loss = np.concatenate([p["loss"] for p in parts]).astype(np.float64)
    K = logits.shape[2]
    header = ["trial", "itr", "smp", "y", *(f"y_logit{k}" for k in range(K)), "tr_loss", "val_loss", "val_acc"]
    with path.open("w") as handle:
        handle.write(",".join(header) + "\n")
        for r in range(trials):
            val = np.full((len(it), 2), np.nan)
            for i, t in enumerate(it):
                if int(t) in evals:
                    val[i] = evals[int(t)][0][r], evals[int(t)][1][r]
            table = np.column_stack([np.full(len(it), r), it, index[:, r], label[:, r], logits[:, r], loss[:, r], val])
            np.savetxt(handle, table, fmt=",".join(["%d"] * 4 + ["%.9g"] * (K + 3)))
    text = path.read_text().replace("nan", "")
    path.write_text(text)
    return trials * len(it)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--pandas-trials", type=int, default=10)
    args = parser.parse_args()

    from lesde_runtime.storage.local import LocalStore

    from tests.fixtures.synthetic import write_synthetic_experiment

    with tempfile.TemporaryDirectory(prefix="lesde-bench-") as folder:
        root = str(Path(folder) / "store")
        began = time.perf_counter()
        job_id = write_synthetic_experiment(
            LocalStore(root),
            trials=args.trials,
            iterations=args.iterations,
            classes=args.classes,
            chunk=5000,
            probe_every=1000,
            probe_per_class=10,
            eval_every=1000,
        )
        size = sum(p.stat().st_size for p in Path(root).rglob("*.npz"))
        print(
            f"synthetic experiment: {args.trials} trials x {args.iterations:,} iterations, K = {args.classes}; "
            f"{size / 2**20:.0f} MiB of chunks written in {time.perf_counter() - began:.1f} s (not timed below)"
        )

        ours = run_child("xbar", root, job_id)
        print(
            f"[ours]    Xbar(t) from stored chunks:            {ours['seconds']:7.2f} s   peak RSS {ours['peak_mib']:7.0f} MiB   shape {ours['shape']}"
        )
        full = run_child("analysis", root, job_id)
        print(
            f"[ours]    full analysis (JSON + {full['figures']} figures):      {full['seconds']:7.2f} s   peak RSS {full['peak_mib']:7.0f} MiB   "
            f"verdict {full['verdict']!r}, LE-ODE nrmse (L) {full['nrmse_L']:.3g}"
        )

        csv_path = Path(folder) / "authors.csv"
        rows = write_subset_csv(root, job_id, args.pandas_trials, csv_path)
        authors = run_child("pandas", root, job_id, csv=str(csv_path))
        scale = args.trials / args.pandas_trials
        extrapolated = authors["seconds"] * scale
        print(
            f"[authors] pandas read_csv + groupby on {rows:,} rows ({args.pandas_trials} trials, "
            f"{csv_path.stat().st_size / 2**20:.0f} MiB CSV): {authors['seconds']:.2f} s, peak RSS {authors['peak_mib']:.0f} MiB"
        )
        print(f"[authors] extrapolated linearly to {args.trials} trials ({rows * scale:,.0f} rows): {extrapolated:7.2f} s")
        print(
            f"ratio authors' Xbar / our Xbar: {extrapolated / ours['seconds']:.1f}x;  "
            f"authors' Xbar alone / our whole analysis: {extrapolated / full['seconds']:.1f}x"
        )
        ok = full["seconds"] < 30 and full["peak_mib"] < 4096
        print(f"target (full analysis < 30 s, peak < 4 GiB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
