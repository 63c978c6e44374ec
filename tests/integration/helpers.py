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
