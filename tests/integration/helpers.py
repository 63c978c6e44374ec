"""Helpers of the integration tests."""

from __future__ import annotations

import time

from lesde.client import LesdeClient


def watch(client: LesdeClient, job_id: str, timeout: float = 240) -> tuple[dict, list[str], list[int]]:
    """Poll until training and analysis end; return the record, statuses seen, progress seen."""
    statuses: list[str] = []
    progress: list[int] = []
    deadline = time.monotonic() + timeout
    record: dict = {}
    while time.monotonic() < deadline:
        record = client.get(job_id)
        if not statuses or statuses[-1] != record["status"]:
            statuses.append(record["status"])
        progress.append(record["progress"]["done"])
        if record["status"] in ("failed", "cancelled") or record["analysis"] in ("succeeded", "failed"):
            return record, statuses, progress
        time.sleep(0.2)
    raise AssertionError(f"experiment {job_id} did not finish in {timeout} s: {record}")


def stack_overrides(redis_url: str, s3_settings, *, bucket: str, chunk: int) -> dict[str, str]:
    """The environment that points an embedded stack's processes at the test Redis and a bucket of the test S3."""
    return {
        "LESDE_STORE": "s3",
        "LESDE_BROKER_URL": redis_url,
        "LESDE_S3_ENDPOINT": s3_settings.endpoint,
        "LESDE_S3_ACCESS_KEY": s3_settings.access_key,
        "LESDE_S3_SECRET_KEY": s3_settings.secret_key,
        "LESDE_S3_BUCKET": bucket,
        "LESDE_CHUNK_ITERATIONS": str(chunk),
    }
