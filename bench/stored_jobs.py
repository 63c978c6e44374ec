"""What the listing and load benchmarks share: stores full of job records, an S3 server, percentiles.

Not a benchmark itself. ``bench/listing.py`` and ``bench/load.py`` import it from the
repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobRecord, JobStatus, utcnow
from lesde_runtime.job_repository import new_job_id

REPO = Path(__file__).resolve().parents[1]
OWNERS = ("ada", "bob", "cy")
# A store some months old: mostly finished jobs, a few queued or running.
STATUS_MIX = (
    [JobStatus.succeeded] * 80 + [JobStatus.failed] * 10 + [JobStatus.cancelled] * 5 + [JobStatus.queued] * 3 + [JobStatus.running] * 2
)
SPEC = {"name": "bench", "dataset": {"name": "geomnist"}, "model": {"name": "lenet"}, "training": {"iterations": 10}}


def write_records(store: ObjectStore, count: int, *, first: int = 0, threads: int = 16) -> list[str]:
    """Write ``count`` spec + record pairs straight to the store (no index entries), the
    ``first + i``-th created ``first + i`` minutes before now; return their ids."""
    now = utcnow()

    def one(number: int) -> str:
        record = JobRecord(
            id=new_job_id(),
            owner=OWNERS[number % len(OWNERS)],
            status=STATUS_MIX[number % len(STATUS_MIX)],
            created_at=now - timedelta(minutes=number),
        )
        record.progress.total = record.progress.done = 1_000
        store.put_json(object_keys.spec_key("experiment", record.id), SPEC)
        store.put_json(object_keys.status_key("experiment", record.id), record.model_dump(mode="json"))
        return record.id

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(first, first + count)))


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


# -- an S3 server (and Redis): the test stack's, or one named on the command line ------
@dataclass(frozen=True)
class Servers:
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    redis_url: str | None


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("servers (default: start Redis and SeaweedFS as scripts/test_stack.py does)")
    group.add_argument("--s3-endpoint", help="host:port of an S3 server to use instead")
    group.add_argument("--s3-access-key", default="")
    group.add_argument("--s3-secret-key", default="")
    group.add_argument("--redis-url", help="Redis to use instead (load.py on Redis + S3)")


@contextlib.contextmanager
def servers(args: argparse.Namespace) -> Iterator[Servers]:
    """The servers named by ``args``, or throwaway ones stopped on exit."""
    if args.s3_endpoint:
        yield Servers(args.s3_endpoint, args.s3_access_key, args.s3_secret_key, args.redis_url)
        return
    sys.path.insert(0, str(REPO / "scripts"))
    import test_stack  # lazy: a script, importable only from its folder

    with test_stack.running_stack() as stack:
        env = stack.env
        yield Servers(
            env["LESDE_TEST_S3_ENDPOINT"], env["LESDE_TEST_S3_ACCESS_KEY"], env["LESDE_TEST_S3_SECRET_KEY"], env["LESDE_TEST_REDIS_URL"]
        )


@contextlib.contextmanager
def s3_bucket(found: Servers) -> Iterator[tuple[str, ObjectStore]]:
    """A fresh bucket on the S3 server and a store on it; emptied (in parallel) and removed on exit."""
    from lesde_runtime.storage.s3 import S3Store

    bucket = f"lesde-bench-{uuid.uuid4().hex[:8]}"
    store = S3Store(endpoint=found.s3_endpoint, access_key=found.s3_access_key, secret_key=found.s3_secret_key, bucket=bucket)
    try:
        yield bucket, store
    finally:
        with contextlib.suppress(Exception), ThreadPoolExecutor(16) as pool:
            list(pool.map(store.delete, [info.key for info in store.list("")]))
            store.client.remove_bucket(bucket)
