"""Benchmark: one listing page with the job index, beside the old read-everything listing.

For each store (a local folder; S3 on SeaweedFS started as scripts/test_stack.py does, or
the server named by ``--s3-endpoint``) and each size (1,000 and 10,000 stored jobs, a mix
of owners and mostly finished statuses), it writes the records straight to the store as a
store from before the index would hold them, times :func:`lesde_runtime.job_index.rebuild` (the
migration), then times ``JobRepository.list`` (what ``GET /v1/experiments`` calls; the
route adds only the JSON of one page):

- indexed: the newest page of 50, a status filter, an owner filter, and owner + status
  at offset 100; p50 / p95 over ``--calls`` calls each (a folder over 1,000 names is
  counted by the first call and then kept for ``LESDE_INDEX_COUNT_TTL_S``, as in a
  gateway serving listings);
- read-everything: the listing as it was before the index (read every record, filter,
  sort), repeated while under ``--baseline-seconds`` (at least once).

Run: ``.venv/bin/python bench/listing.py [--stores local s3] [--sizes 1000 10000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobRecord, JobStatus
from lesde_runtime import job_index
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore
from stored_jobs import add_server_arguments, ms, percentile, s3_bucket, servers, write_records

CASES: list[tuple[str, dict]] = [
    ("newest 50", {}),
    ("status=running", {"status": JobStatus.running}),
    ("owner=bob", {"owner": "bob"}),
    ("owner+status, offset 100", {"owner": "bob", "status": JobStatus.succeeded, "offset": 100}),
]


def read_everything(repo: JobRepository, limit: int = 50) -> tuple[list[JobRecord], int]:
    """The listing before the index: every record read one after the other, then sorted."""
    records = []
    for prefix in repo.store.list_children("experiments/"):
        records.append(repo.get(prefix.rstrip("/").rsplit("/", 1)[-1]))
    records.sort(key=lambda record: record.created_at, reverse=True)
    return records[:limit], len(records)


def timed(call: Callable[[], object], calls: int, *, budget_s: float | None = None) -> list[float]:
    samples: list[float] = []
    began = time.perf_counter()
    while len(samples) < calls and (budget_s is None or not samples or time.perf_counter() - began < budget_s):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def bench_store(name: str, store: ObjectStore, sizes: list[int], args: argparse.Namespace) -> None:
    repo = JobRepository(store, "experiment")
    stored = 0
    for size in sizes:
        began = time.perf_counter()
        write_records(store, size - stored, first=stored)
        stored = size
        filled = time.perf_counter() - began
        began = time.perf_counter()
        job_index.rebuild(store, ("experiment",))
        print(f"{name:5} {size:>7,}  records written in {filled:.1f} s; index rebuilt (migration) in {time.perf_counter() - began:.1f} s")
        repo.list()  # the first call checks the index is complete
        for label, filters in CASES:
            page, count = repo.list(**filters)
            samples = timed(lambda filters=filters: repo.list(**filters), args.calls)
            print(
                f"{name:5} {size:>7,}  indexed {label:26} p50 {ms(percentile(samples, 50)):>9}  p95 {ms(percentile(samples, 95)):>9}"
                f"  ({len(page)} rows of {count:,})"
            )
        samples = timed(lambda: read_everything(repo), args.calls, budget_s=args.baseline_seconds)
        print(
            f"{name:5} {size:>7,}  read-everything {'newest 50':18} p50 {ms(percentile(samples, 50)):>9}  p95 {ms(percentile(samples, 95)):>9}"
            f"  ({len(samples)} calls)"
        )


@contextlib.contextmanager
def local_store() -> Iterator[ObjectStore]:
    with tempfile.TemporaryDirectory(prefix="lesde-bench-listing-") as root:
        yield LocalStore(Path(root) / "store")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", nargs="+", choices=["local", "s3"], default=["local", "s3"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000], help="stored jobs, ascending")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per indexed listing")
    parser.add_argument("--baseline-seconds", type=float, default=20.0, help="time given to the read-everything listing")
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    print(f"JobRepository.list, one page of 50; {args.calls} calls per indexed listing")
    if "local" in args.stores:
        with local_store() as store:
            bench_store("local", store, sizes, args)
    if "s3" in args.stores:
        with servers(args) as found, s3_bucket(found) as (_bucket, store):
            bench_store("s3", store, sizes, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
