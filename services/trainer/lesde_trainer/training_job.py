"""Run one training job: dataset, ensemble engine, chunk streams, checkpoints, progress.

This is the pure function behind ``train_experiment_task``. It is idempotent: a task
redelivered after a crash resumes from the last checkpoint, and the chunks it writes
are byte-identical to those of an undisturbed run (the engine is deterministic in
``(seed, trial, iteration)`` and chunk boundaries are fixed by the spec, not by timing).

Iteration convention: update ``t`` (0-based) trains on the sample drawn at ``t``; the
``sampled`` stream logs the logits of that forward pass, before the update. ``probe``
and ``eval`` records at ``t`` describe the models after ``t`` updates (``t = 0`` is the
initialisation), at multiples of ``probe_every`` / ``eval_every`` and at the end.

The job runs under a lease (:mod:`lesde_runtime.leases`): a second delivery of the task while
the first runs is refused, and a job whose lease passed to another worker stops before
its next write. Every write of its record (device, progress, outcome) is made only
while it still runs under that lease (:meth:`lesde_runtime.job_repository.JobRepository.update_under_lease`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from lesde_contract.chunks import class_sums
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import AnalysisState, JobRecord, JobStatus
from lesde_contract.specs import ExperimentSpec
from lesde_runtime import celery_app, worker_metrics
from lesde_runtime.chunk_writer import ChunkWriter
from lesde_runtime.job_repository import JobRepository, LeaseLost
from lesde_runtime.leases import LeaseKeeper, hold_lease
from lesde_runtime.settings import LeaseSettings, TrainerSettings
from lesde_runtime.tombstones import JobDeleted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """Which iterations get probe and eval records, and where chunks end."""

    total: int
    chunk: int
    probe_every: int
    eval_every: int
    features_every: int

    def chunk_ranges(self, start: int) -> list[tuple[int, int]]:
        """Update ranges ``(first, last)`` inclusive; boundaries are multiples of ``chunk``."""
        return [(first, min(first + self.chunk, self.total) - 1) for first in range(start, self.total, self.chunk)]

    def record_points(self, first: int, last: int, every: int) -> list[int]:
        """States ``t`` in ``(first, last + 1]`` to record (plus 0 in the first chunk); none if ``every`` is 0."""
        if every <= 0:
            return []
        points = [t for t in range(first + 1, last + 2) if self.due(t, every)]
        return ([0] if first == 0 else []) + points

    def due(self, t: int, every: int) -> bool:
        """Is state ``t`` recorded on a schedule of ``every`` (the final state always is)?"""
        return every > 0 and (t % every == 0 or t == self.total)


class TrainingCancelled(Exception):
    pass


def run_training_job(
    store: ObjectStore, job_id: str, *, settings: TrainerSettings | None = None, leases: LeaseSettings | None = None
) -> None:
    """Train experiment ``job_id`` to completion (or cancellation), then enqueue its analysis."""
    settings = settings or TrainerSettings()
    leases = leases or LeaseSettings()
    repo = JobRepository(store, "experiment")
    with hold_lease(repo, job_id, leases) as lease:
        if lease is None:
            return
        spec = ExperimentSpec.model_validate(repo.get_spec(job_id))
        try:
            _train(store, repo, job_id, spec, settings, lease)
        except LeaseLost as error:
            log.warning("experiment %s stops without writing more: %s", job_id, error)
            return
        except JobDeleted as error:  # deleted while it ran: nothing of it is to be written
            log.info("%s", error)
            return
        except StoreUnavailable:  # an outage past the store's own retries: Celery sends the task again
            raise
        except TrainingCancelled:
            _tell_sweep(_record_outcome(repo, job_id, lease.holder, JobStatus.cancelled))
            return
        except celery_app.SoftTimeLimitExceeded:
            limit = f"{leases.train_time_limit_seconds:.0f} s (LESDE_TRAIN_TIME_LIMIT_SECONDS)"
            _tell_sweep(
                _record_outcome(repo, job_id, lease.holder, JobStatus.failed, error=f"training ran longer than the time limit of {limit}")
            )
            return
        except Exception as error:
            log.exception("experiment %s failed", job_id)
            _tell_sweep(_record_outcome(repo, job_id, lease.holder, JobStatus.failed, error=f"{type(error).__name__}: {error}"))
            return
        if _record_outcome(repo, job_id, lease.holder, JobStatus.succeeded, analysis=AnalysisState.queued) is None:
            return  # the job is another worker's now (or deleted): that one sends the analysis
    celery_app.send_with_retry(celery_app.ANALYZE_EXPERIMENT, job_id)  # past a minute of broker outage the reaper sends it


def _record_outcome(
    repo: JobRepository, job_id: str, holder: str, status: JobStatus, *, error: str | None = None, analysis: AnalysisState | None = None
) -> JobRecord | None:
    """Mark the job ``status`` while it still runs under this worker's lease; ``None``, nothing
    written, when it does not (the reaper requeued it and another worker resumes it, or it was
    deleted): the outcome of the run that holds it is the one recorded."""
    try:
        return repo.mark_finished(job_id, status, error=error, analysis=analysis, holder=holder)
    except (LeaseLost, JobDeleted) as lost:
        log.warning("experiment %s: its outcome (%s) is not recorded: %s", job_id, status.value, lost)
        return None


def _tell_sweep(record: JobRecord | None) -> None:
    """A sweep's child that ends without an analysis of its own still changes the sweep's
    table: ask for the cross-child analysis again (a succeeded child asks from its own
    analysis). Best effort: the job's outcome is recorded already, and the next child to
    finish asks again. Nothing for an outcome that was not recorded (``None``)."""
    if record is None or record.sweep_id is None:
        return
    try:
        celery_app.send_with_retry(celery_app.ANALYZE_SWEEP, record.sweep_id)
    except Exception as error:  # noqa: BLE001 - best effort, and kombu raises many types for a dead broker
        log.warning(
            "sweep %s: analysis not re-queued after experiment %s ended %s: %s", record.sweep_id, record.id, record.status.value, error
        )


def _train(
    store: ObjectStore, repo: JobRepository, job_id: str, spec: ExperimentSpec, settings: TrainerSettings, lease: LeaseKeeper
) -> None:
    from lesde_trainer.device import describe_device
    from lesde_trainer.setup import build_engine  # torch is imported only by the worker

    setup = build_engine(spec, settings, store)
    engine, data = setup.engine, setup.data
    schedule = Schedule(
        total=spec.training.iterations,
        chunk=settings.chunk_iterations,
        probe_every=spec.training.probe_every,
        eval_every=spec.training.eval_every,
        features_every=spec.training.features_every,
    )
    if not lease.confirm():  # before the first write: a worker handed the job at the same moment may hold it
        raise LeaseLost(f"experiment {job_id} is run by another worker")
    device = describe_device(engine.device)
    repo.update_under_lease(
        job_id, lease.holder, lambda record: setattr(record, "device", device)
    )  # once per start: a resume may run elsewhere
    writer = ChunkWriter(store, job_id)
    start = _restore(writer, job_id, engine)
    writer.resume(start)
    # Provenance: the same spec on another generator version trains on other images.
    writer.manifest.dataset = {"name": spec.dataset.name, "generator_version": data.generator_version}
    trials = spec.training.trials
    progress = _ProgressReporter(repo, job_id, lease.holder, total=schedule.total, trials=trials, every_s=settings.progress_every_s)
    for first, last in schedule.chunk_ranges(start):
        began = time.perf_counter()
        sampled, probe, evals, features = [], [], [], []
        t = first
        stops = sorted(
            set().union(
                *(
                    schedule.record_points(first, last, every)
                    for every in (schedule.probe_every, schedule.eval_every, schedule.features_every)
                )
            )
        )
        for stop in stops:
            if stop > t:
                sampled += progress.train(engine, t, stop - t)
                t = stop
            if schedule.due(stop, schedule.probe_every):
                probe.append(_probe_record(engine, setup, stop))
            if schedule.due(stop, schedule.eval_every):
                evals.append(_eval_record(engine, setup, stop))
            if schedule.due(stop, schedule.features_every):
                features.append(_features_record(engine, setup, stop))
        if t < last + 1:
            sampled += progress.train(engine, t, last + 1 - t)
        if lease.lost:
            raise LeaseLost(f"experiment {job_id} passed to another worker while chunk {first}-{last} was computed")
        writer.put("sampled", first, last, _sampled_arrays(sampled, num_classes=len(data.class_names)))
        if probe:
            writer.put("probe", first, last, _stack(probe) | {"probe_index": setup.probe_index, "probe_label": setup.probe_label})
        if evals:
            writer.put("eval", first, last, _stack(evals))
        if features:
            writer.put("features", first, last, _stack(features) | {"probe_index": setup.probe_index, "probe_label": setup.probe_label})
        writer.commit(last + 1, complete=last + 1 == schedule.total, checkpoint=engine.state_dict())
        elapsed = max(time.perf_counter() - began, 1e-9)
        worker_metrics.chunk_written(trial_iterations=(last + 1 - first) * trials, seconds=elapsed)
        _report_progress(
            repo, job_id, lease.holder, done=last + 1, total=schedule.total, rate=(last + 1 - first) * trials / elapsed, trials=trials
        )
        progress.chunk_stored(last + 1)
        if last + 1 < schedule.total and repo.cancel_requested(job_id):
            raise TrainingCancelled


class _ProgressReporter:
    """Progress and rate while a chunk trains, at most every ``every_s`` seconds (one record write each).

    Training is cut into pieces sized to last about a quarter of ``every_s`` (the engine's
    step sequence is the same however ``train`` is split: its state and sampling depend on
    the iteration only, and chunks stay byte-identical); after a piece, a report is written
    once ``every_s`` has passed since the last, with the rate measured over that span.
    """

    def __init__(self, repo: JobRepository, job_id: str, holder: str, *, total: int, trials: int, every_s: float) -> None:
        self.repo, self.job_id, self.holder = repo, job_id, holder
        self.total, self.trials, self.every_s = total, trials, every_s
        self.piece = 10  # iterations per piece, adapted to the measured speed
        self.last_at = time.perf_counter()
        self.last_done: int | None = None

    def train(self, engine, first: int, n: int) -> list:  # noqa: ANN001
        """``engine.train`` of ``n`` iterations from iteration ``first``, in pieces; the blocks, in order."""
        if self.last_done is None:
            self.last_done, self.last_at = first, time.perf_counter()
        blocks, done = [], 0
        while done < n:
            step = min(self.piece, n - done)
            began = time.perf_counter()
            blocks.append(engine.train(step))
            done += step
            took = max(time.perf_counter() - began, 1e-6)
            self.piece = max(1, min(10_000, int(step * 0.25 * self.every_s / took)))
            now = time.perf_counter()
            if now - self.last_at >= self.every_s:
                at = first + done
                rate = (at - self.last_done) * self.trials / (now - self.last_at)
                _report_progress(self.repo, self.job_id, self.holder, done=at, total=self.total, rate=rate, trials=self.trials)
                self.last_done, self.last_at = at, now
        return blocks

    def chunk_stored(self, done: int) -> None:
        """The chunk's own report was just written: the next one counts from here."""
        self.last_done, self.last_at = done, time.perf_counter()


def _sampled_arrays(blocks: list, *, num_classes: int) -> dict[str, np.ndarray]:
    """Concatenate engine blocks; add per-class logit sums so Xbar(t) is cheap to read back.

    With ``batching="single"`` the engine logs ``label`` (n, R) and ``logits`` (n, R, K);
    with ``per_class`` it logs one sample of each class per step: ``label`` (n, R, K) and
    ``logits`` (n, R, K, K). Either way:
    ``class_sum`` : (n, K, K) sum over trials (and batch slots) of logits whose trained label is k;
    ``class_count`` : (n, K) how many logged rows had label k at that iteration.
    """
    logits = np.concatenate([block.logits for block in blocks])
    label = np.concatenate([block.label for block in blocks])
    return {
        "iteration": np.concatenate([block.iterations for block in blocks]),
        "index": np.concatenate([block.index for block in blocks]),
        "label": label,
        "true_label": np.concatenate([block.true_label for block in blocks]),
        "logits": logits,
        "loss": np.concatenate([block.loss for block in blocks]),
    } | class_sums(label, logits, num_classes=num_classes)


def _probe_record(engine, setup, t: int) -> dict[str, np.ndarray]:  # noqa: ANN001
    return {"iteration": np.int64(t), "logits": engine.logits(setup.probe_x)}  # logits: (R, P, K)


def _features_record(engine, setup, t: int) -> dict[str, np.ndarray]:  # noqa: ANN001
    # Penultimate features (R, P, F), stored as float32: they are the bulkiest record.
    return {"iteration": np.int64(t), "features": engine.features(setup.probe_x).astype(np.float32)}


def _eval_record(engine, setup, t: int) -> dict[str, np.ndarray]:  # noqa: ANN001
    val_loss, val_acc = engine.evaluate(setup.data.x_val, setup.data.y_val)
    train_loss, train_acc = engine.evaluate(setup.train_eval_x, setup.train_eval_y)
    return {"iteration": np.int64(t), "val_loss": val_loss, "val_acc": val_acc, "train_loss": train_loss, "train_acc": train_acc}


def _stack(records: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.stack([np.asarray(record[name]) for record in records]) for name in records[0]}


def _restore(writer: ChunkWriter, job_id: str, engine) -> int:  # noqa: ANN001
    """Load the last checkpoint into ``engine``; return the iteration to continue from."""
    state = writer.load_checkpoint()
    if state is None:
        return 0
    engine.load_state_dict(state)
    log.info("experiment %s resumes at iteration %d", job_id, engine.iteration)
    return int(engine.iteration)


def _report_progress(repo: JobRepository, job_id: str, holder: str, *, done: int, total: int, rate: float, trials: int) -> None:
    """Write progress, only while the job still runs under this worker's lease (else
    :class:`~lesde_runtime.job_repository.LeaseLost`): a worker the reaper gave up on must not write its stale
    record back over the requeue (:meth:`lesde_runtime.job_repository.JobRepository.record_progress`)."""
    eta = round((total - done) * trials / rate, 1) if rate > 0 else None
    repo.record_progress(job_id, holder, done=done, total=total, rate=round(rate, 1), eta_seconds=eta)
