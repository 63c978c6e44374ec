"""Settings every service reads from the environment (prefix ``LESDE_``).

One pydantic-settings class per concern; each service builds the ones it needs.
Secrets (S3 keys) have no defaults: a service that talks to S3 refuses to start
without them, so a forgotten variable never silently means "anonymous".
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lesde_runtime.secret_files import secrets_from_files


class StoreKind(StrEnum):
    s3 = "s3"
    local = "local"


class StoreSettings(BaseSettings):
    """Where objects live: an S3/MinIO bucket or a local directory."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    store: StoreKind = StoreKind.s3
    local_store_dir: Path = Path(".lesde/store")
    s3_endpoint: str = "minio:9000"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "lesde"
    s3_secure: bool = False
    s3_region: str | None = None
    # LESDE_S3_ACCESS_KEY_FILE / LESDE_S3_SECRET_KEY_FILE: read when the key itself is not set (lesde_runtime.secret_files)
    _secret_files = secrets_from_files("s3_access_key", "s3_secret_key")

    @model_validator(mode="after")
    def _secrets_for_s3(self) -> StoreSettings:
        if self.store is StoreKind.s3 and (self.s3_access_key is None or self.s3_secret_key is None):
            raise ValueError("LESDE_S3_ACCESS_KEY and LESDE_S3_SECRET_KEY must be set when LESDE_STORE=s3")
        return self


class BrokerSettings(BaseSettings):
    """The Celery broker. ``filesystem://`` selects the embedded, Redis-free transport."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    broker_url: str = "redis://redis:6379/0"
    broker_dir: Path = Path(".lesde/broker")


class LimitSettings(BaseSettings):
    """Caps that keep one request from monopolising the cluster."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    max_trial_iterations: int = Field(default=100_000_000, ge=1)
    max_import_bytes: int = Field(default=2_000_000_000, ge=1)
    max_sweep_points: int = Field(default=200, ge=1)  # children of one sweep
    max_sweep_trial_iterations: int = Field(default=1_000_000_000, ge=1)  # summed over a sweep's children
    max_simulation_work: int = Field(
        default=2_000_000_000,
        ge=1,
        description="Cap on one simulation's cost in feature-coordinate updates (lesde_contract.specs.simulation_cost): runs x steps x "
        "classes x dim, times samples_per_class for the sde and discrete modes (the ode moves the class means only).",
    )
    max_phase_diagram_work: int = Field(
        default=8_000_000_000, ge=1, description="Cap on a phase diagram's cost: its base simulation's cost times the grid points."
    )


class ApiSettings(BaseSettings):
    """Settings of the HTTP gateway only."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    default_owner: str = "anonymous"
    page_size_max: int = Field(default=500, ge=1)
    max_json_body_bytes: int = Field(
        default=1 << 20,
        ge=1_024,
        le=1 << 30,
        description="Largest request body of every route but the CSV upload (which LESDE_MAX_IMPORT_BYTES caps); a larger one "
        "is answered 413 as soon as its Content-Length, or the bytes streamed so far, say so.",
    )
    max_unfinished_jobs_per_owner: int = Field(
        default=200,
        ge=1,
        description="Queued or running experiments and simulations one owner may have (a sweep counts its children); a "
        "submission over it is answered 429 with Retry-After. At least LESDE_MAX_SWEEP_POINTS lets the largest sweep in.",
    )
    max_event_streams: int = Field(
        default=1_000, ge=1, description="Open event streams (GET .../events) the gateway serves at once; one more is 429 with Retry-After."
    )
    max_event_streams_per_owner: int = Field(
        default=100, ge=1, description="Open event streams one owner may hold; one more is 429 with Retry-After."
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="Seconds a connection may take to send a request's headers in full (uvicorn run with --http "
        "lesde_api.slow_clients:GuardedH11Protocol, as the launcher, Dockerfile and compose do); then it is closed.",
    )
    body_idle_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a request body may go without a byte arriving (an idle limit, so a large upload is not cut); then "
        "the connection is closed.",
    )


class AuthSettings(BaseSettings):
    """Who may call the gateway (:mod:`lesde_api.api_keys`, :mod:`lesde_api.bind_rule`).

    With neither ``api_keys`` nor ``api_keys_file`` set the gateway is open: every caller is
    ``LESDE_DEFAULT_OWNER``, and it starts only on a loopback address unless ``allow_anonymous``.
    """

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    api_keys: SecretStr | None = Field(
        default=None, description="Comma-separated owner=key pairs, for quick set-ups (the keys themselves, so keep it secret)."
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="File of owner:sha256-hex-of-key lines (`lesde keys add OWNER` appends one); re-read when it changes.",
    )
    allow_anonymous: bool = Field(default=False, description="Let a gateway without keys serve a non-loopback address.")
    bind_host: str = Field(
        default="127.0.0.1",
        description="The address the gateway's server listens on (the launcher sets it; set it where uvicorn is started by hand).",
    )


class TrainerSettings(BaseSettings):
    """Settings of the training worker only."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    data_dir: Path = Path(".lesde/data")
    device: str = "auto"
    cpu_threads: int = Field(default=0, ge=0, le=1_024)  # torch threads on CPU; 0: the CPUs we may use
    chunk_iterations: int = Field(default=500, ge=1, le=1_000_000)
    progress_every_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Seconds between progress reports while a chunk trains (one record write each; chunks stay the unit of storage).",
    )


class JobIndexSettings(BaseSettings):
    """The job listing index (:mod:`lesde_runtime.job_index`): how listings read and how the index heals."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    index_read_threads: int = Field(default=16, ge=1, le=256, description="Records of a listing page (and index writes) fetched at once.")
    index_heal_grace_s: float = Field(
        default=600.0,
        ge=0,
        description="A heal pass leaves index entries younger than this alone: a writer may be between its "
        "index write and its record write (store retries can stretch that gap).",
    )
    index_count_ttl_s: float = Field(
        default=5.0,
        ge=0,
        le=3_600,
        description="The count of a listing over more than 1,000 matching jobs (S3: one request per 1,000) is kept this "
        "long and refreshed in the background after; it may lag by about as much. 0: counted on every listing.",
    )


class StoreRetrySettings(BaseSettings):
    """How long a store operation retries through an outage (:mod:`lesde_runtime.storage.retry`)."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    store_retry_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3_600,
        description="Workers retry a store operation that meets a connection error or a 5xx answer for at least this long "
        "(exponential backoff with jitter) before the operation fails; then Celery re-sends the task.",
    )
    api_store_retry_seconds: float = Field(
        default=2.0, ge=0, le=60, description="The gateway's budget: a request answers 503 after this long."
    )
    # Pauses double from 0.1 s up to this, each cut by a random share so that workers restarted together do not retry in step.
    store_retry_max_delay_seconds: float = Field(default=5.0, gt=0, le=300, description="Longest pause between two attempts.")
    store_outage_task_retries: int = Field(
        default=10,
        ge=0,
        le=1_000,
        description="Times Celery re-sends a task that still met a store outage after store_retry_seconds (its job is neither "
        "marked done nor failed); the pause before each re-send doubles, up to 10 minutes.",
    )


class WorkCapSettings(BaseSettings):
    """What one experiment may cost besides its trial-iterations (:mod:`lesde_contract.specs.cost`)."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    max_work_units: int = Field(
        default=1_000_000_000,
        ge=1,
        description="Cap on an experiment's work: its trial-iterations of SGD plus every forward pass of one sample that its "
        "evaluation, probe and features records take.",
    )
    max_chunk_bytes: int = Field(
        default=1 << 30,
        ge=1 << 20,
        description="Cap on the records one chunk holds in the trainer's memory before it is written (all streams of "
        "LESDE_CHUNK_ITERATIONS iterations); keep it well under a trainer's memory.",
    )


class LeaseSettings(BaseSettings):
    """Leases, the reaper and the time limits of long jobs (read by workers, the reaper and the Celery app).

    A worker holds a lease on the job it runs and renews it every ``heartbeat_seconds``; a
    ``running`` job whose lease is older than ``lease_seconds`` has lost its worker, and the
    reaper (``python -m lesde_runtime.reaper``) requeues it, up to ``max_attempts`` starts without
    progress. Leases compare timestamps written by different hosts: their clocks must agree
    to well within ``lease_seconds`` (NTP).
    """

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    lease_seconds: float = Field(
        default=90.0,
        gt=0,
        description="A running job whose worker has not renewed its lease for this long is taken as lost and requeued by the reaper.",
    )
    heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="How often a worker renews the lease of the job it runs (at most a third of lease_seconds)."
    )
    lease_settle_seconds: float = Field(
        default=0.5,
        ge=0,
        description="Two workers handed the same job at once both claim it; each re-reads the lease this long after its claim, "
        "before writing anything, and the one that no longer holds it steps back.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        description="Starts in a row without progress (the worker died each time: killed, out of memory) before the job is failed.",
    )
    reap_interval_seconds: float = Field(default=15.0, gt=0, description="How often the reaper looks for lost jobs and messages.")
    full_scan_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How often the reaper also reads every succeeded experiment (for analyses never sent, e.g. while the "
        "broker was down) and repairs the listing index: O(stored jobs), hence less often than the pass over running and "
        "queued jobs; also the longest an analysis waits to be sent after the broker returns.",
    )
    lost_message_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A queued job (or analysis) whose message the broker no longer holds is re-sent once it has waited this long "
        "(a message being taken by a worker is briefly in no list the reaper reads).",
    )
    requeue_after_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="Where the broker's messages cannot be counted, a job queued this long is re-sent (a duplicate is refused by the lease).",
    )
    analysis_stale_seconds: float = Field(
        default=7 * 3600.0,
        gt=0,
        description="An experiment's automatic analysis shown running with no news for this long lost its worker and is re-sent "
        "(longer than analysis_time_limit_seconds, after which no analysis still runs).",
    )
    train_time_limit_seconds: float = Field(
        default=48 * 3600.0,
        gt=0,
        description="The longest a training task may run (Celery's soft time limit; the hard one is 5 min later): the longest "
        "allowed job. Redis's visibility timeout is this (or the analysis limit, if longer) plus 5 min plus 1 h.",
    )
    analysis_time_limit_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="The longest an analyzer task (analysis, import, simulation, figure) may run (soft limit; the hard one is 5 min later). "
        "The broker's visibility timeout is derived from the longer of the two limits, so no running task is ever handed out twice.",
    )

    @model_validator(mode="after")
    def _coherent(self) -> LeaseSettings:
        if self.heartbeat_seconds * 3 > self.lease_seconds:
            raise ValueError(
                "LESDE_HEARTBEAT_SECONDS must be at most a third of LESDE_LEASE_SECONDS (a missed beat must not lose the lease)"
            )
        if self.analysis_stale_seconds <= self.analysis_time_limit_seconds:
            raise ValueError("LESDE_ANALYSIS_STALE_SECONDS must exceed LESDE_ANALYSIS_TIME_LIMIT_SECONDS")
        return self


class LogFormat(StrEnum):
    text = "text"  # one readable line per record: a terminal, the embedded stack's log files
    json = "json"  # one JSON object per line: what a log shipper reads (compose sets it)


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"

    @classmethod
    def _missing_(cls, value: object) -> LogLevel | None:
        return cls.__members__.get(str(value).upper())  # "info" is INFO


class ObservabilitySettings(BaseSettings):
    """Logs of every process (:mod:`lesde_runtime.logs`) and the workers' metrics (:mod:`lesde_runtime.worker_metrics`).

    The gateway serves its metrics at ``/metrics`` on its own port; a worker serves its own
    only when ``metrics_port`` is set (docs/operations.md, "Metrics").
    """

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    log_level: LogLevel = Field(
        default=LogLevel.INFO, description="Least severe level logged, by every process and into each job's stored log lines."
    )
    log_format: LogFormat = Field(
        default=LogFormat.text, description="`text` (a line a human reads) or `json` (one object per line, for a log shipper)."
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65_535,
        description="A Celery worker serves Prometheus metrics on this port (all its pool processes together); 0: none.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Folder where a worker's pool processes keep their metric values for the port above (emptied at start); "
        "none: a fresh temporary folder.",
    )
