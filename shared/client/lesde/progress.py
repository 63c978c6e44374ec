"""What a job's or a sweep's progress reads as: counts, rate, ETA and state, drawn or not.

The client (``wait(..., progress=True)``) and the ``lesde`` command both describe progress
with these functions, so a notebook's bar and a terminal's line say the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

from lesde.terminal import bar, duration

# The order sweep child counts are told in: finished states first.
STATES = ("succeeded", "failed", "cancelled", "running", "queued", "missing")


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` ``unit`` (e.g. trial-iterations), and ``details``: rate, ETA and state as text."""

    done: int
    total: int
    unit: str
    details: str

    def line(self, *, width: int = 30) -> str:
        """``[#####.....]  42% 840/2,000 iterations  1,234 trial-it/s  ETA 12s  running``"""
        counted = f"{bar(self.done, self.total, width=width)} {self.done:,}/{self.total:,} {self.unit}".rstrip()
        return f"{counted}  {self.details}" if self.details else counted


def _rate_and_eta(progress: dict, status: str) -> list[str]:
    """The server's rate (trial-iterations per second) and, while running, its ETA."""
    parts = []
    if progress.get("rate"):
        parts.append(f"{progress['rate']:,.0f} trial-it/s")
    if progress.get("eta_seconds") is not None and status == "running":
        parts.append(f"ETA {duration(progress['eta_seconds'])}")
    return parts


def _evaluation_text(spec: object) -> str | None:
    """``eval 600 images / 100 it``: what each evaluation of a training spec costs, so that a rate
    can be read against it (None for other specs, e.g. an import's or a simulation's)."""
    if not isinstance(spec, dict):
        return None
    training, data = spec.get("training"), spec.get("dataset")
    if not isinstance(training, dict) or not isinstance(data, dict) or "eval_every" not in training:
        return None
    try:
        classes = len(data["classes"])
        images = data["val_per_class"] * classes + min(training["train_eval_samples"], data["train_per_class"] * classes)
        return f"eval {images:,} images / {training['eval_every']:,} it"
    except (KeyError, TypeError):
        return None


def job_progress(record: dict) -> Progress:
    """An experiment's or simulation's record (``GET /v1/{kind}s/{id}``) as :class:`Progress`;
    while an experiment runs, its evaluation's size and spacing too (they weigh on the rate)."""
    progress = record.get("progress") or {}
    state = record["status"]
    # An experiment's analysis follows its training; a simulation's result is its own.
    if state == "succeeded" and record.get("kind", "experiment") == "experiment" and record.get("analysis") not in (None, "none"):
        state = f"trained; analysis {record['analysis']}"
    evaluation = _evaluation_text(record.get("spec")) if record["status"] == "running" else None
    details = [*_rate_and_eta(progress, record["status"]), *([evaluation] if evaluation else []), state]
    return Progress(int(progress.get("done") or 0), int(progress.get("total") or 0), progress.get("unit") or "", "  ".join(details))


def counts_text(counts: dict[str, int]) -> str:
    """``3 succeeded, 2 running, 5 queued``: the non-zero child counts, finished states first."""
    told = [f"{counts[state]} {state}" for state in STATES if counts.get(state)]
    return ", ".join(told) or "no children"


def sweep_progress(sweep: dict) -> Progress:
    """A sweep (``GET /v1/sweeps/{id}``) as :class:`Progress` in trial-iterations over all children.

    The rate sums the running children's; the child counts follow, then, once a child has
    finished, the state of the cross-child analysis.
    """
    progress = sweep["progress"]
    details = [*_rate_and_eta(progress, sweep["status"]), counts_text(sweep["counts"])]
    if sweep.get("analysis") not in (None, "none"):
        details.append(f"analysis {sweep['analysis']}")
    return Progress(int(progress["done"]), int(progress["total"]), progress.get("unit") or "trial-iterations", "  ".join(details))


def job_change(record: dict) -> tuple:
    """What of a job's record is worth telling again when it differs: status, counts and analysis state."""
    progress = record.get("progress") or {}
    return record.get("status"), progress.get("done"), progress.get("total"), record.get("analysis")


def sweep_change(sweep: dict) -> tuple:
    """As :func:`job_change`, for a sweep: its child counts too (a child may fail with no iteration done)."""
    counts = tuple(sorted((sweep.get("counts") or {}).items()))
    return (*job_change(sweep), counts)
