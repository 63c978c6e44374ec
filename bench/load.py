"""Benchmark: a bounded load on the gateway over loopback, per request kind.

Requests go out at fixed rates for a fixed time (open loop: each is sent on its schedule,
whether or not earlier ones have answered, so a slow server cannot slow the load down):

- poll: ``GET /v1/experiments/<id>`` of stored jobs (default 200/s);
- list: ``GET /v1/experiments`` newest page of 50, by status, by owner in turn (default 5/s);
- submit: ``POST /v1/experiments`` of a tiny spec, then ``POST .../cancel`` at once, so no
  job is left to run (default 1/s; the cancel is timed as its own kind).

- work (``--work-rate``, default 0): ``POST /v1/experiments`` of a small real experiment
  (``WORK_SPEC``: 10 LeNets x 2,000 iterations) that trains and is analysed beside the load;
  the gateway then runs with its trainer, analyzer and reaper, and after the load the bench
  waits (up to ``--drain`` s) for those jobs and reports how many trained and were analysed.
  The workers run at ``--worker-nice`` 10, as an operator would give the gateway priority
  on a host it shares with them (0 measures them at the gateway's priority).

At most ``--max-in-flight`` requests are open at once; a request due while that many are
open is not sent and is counted as skipped. The server is the gateway started here on
the embedded store (``--stack embedded``: a local folder and the filesystem broker) or on
Redis + S3 (``--stack redis-s3``: Redis and SeaweedFS started as scripts/test_stack.py
does, or those named by ``--redis-url`` / ``--s3-endpoint``), holding ``--stored`` jobs
written beforehand; or a running server (``--url``), whose polls go to jobs submitted
(and cancelled) first. Without work, only the API process is started: cancelled jobs need
no worker.

Prints requests/s achieved and p50 / p95 / p99 per kind, and the jobs left queued or
running afterwards (expected: none). Run:
``.venv/bin/python bench/load.py [--stack embedded|redis-s3] [--seconds 20] [--poll-rate 200] [--work-rate 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesde_contract.object_store import ObjectStore
from lesde_launcher.stack import EmbeddedStack, free_port
from lesde_runtime import job_index
from lesde_runtime.storage.local import LocalStore
from stored_jobs import Servers, add_server_arguments, ms, percentile, s3_bucket, servers, write_records

TINY_SPEC = {
    "name": "load-bench",
    "dataset": {"name": "geomnist", "train_per_class": 8, "val_per_class": 4, "seed": 1},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {
        "iterations": 20,
        "trials": 1,
        "learning_rate": 0.01,
        "eval_every": 10,
        "probe_every": 10,
        "probe_per_class": 2,
        "seed": 1,
    },
}
WORK_SPEC = {
    "name": "load-bench-work",
    "dataset": {"name": "geomnist", "train_per_class": 100, "val_per_class": 100, "seed": 1},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {"iterations": 2_000, "trials": 10, "eval_every": 100, "probe_every": 100, "probe_per_class": 10, "seed": 1},
}
LAG_WARNING_S = 0.010  # a generator later than this at its p99 measures itself as much as the server
LISTINGS = ("/v1/experiments?limit=50", "/v1/experiments?limit=50&status=running", "/v1/experiments?limit=50&owner=bob")


class ApiOnly(EmbeddedStack):
    """The embedded stack's gateway alone: the load cancels what it submits, so no worker runs."""

    def commands(self) -> dict[str, list[str]]:
        return {"api": super().commands()["api"]}


class RawGets:
    """GETs over a pool of keep-alive HTTP/1.1 connections written by hand: a fraction of httpx's
    CPU per request, so that on 2 cores the generator keeps its schedule and the figures
    measure the server. Only what the gateway answers to a GET is parsed (Content-Length bodies)."""

    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> int:
        """The status code of ``GET path`` (raises OSError when the connection fails).

        A kept-alive connection the server closed while it sat idle (uvicorn's keep-alive
        timeout) answers nothing at all; like any HTTP client, the GET is then sent once more
        on a fresh connection. A connection that fails after a response began is a failure."""
        if self.idle:
            reader, writer = self.idle.pop()
            try:
                return await self._exchange(reader, writer, path)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                    raise
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(reader, writer, path)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


@dataclass
class Tally:
    """Latencies (seconds) of answered requests, failures and skips, per kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # "poll 503", "poll TimeoutError", ...
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lags: list[float] = field(default_factory=list)
    in_flight: int = 0


class Load:
    def __init__(self, client: httpx.AsyncClient, poll_ids: list[str], max_in_flight: int) -> None:
        self.client = client
        self.poll_ids = itertools.cycle(poll_ids)
        self.listings = itertools.cycle(LISTINGS)
        self.max_in_flight = max_in_flight
        self.tally = Tally()
        self.submitted: list[str] = []
        self.working: list[str] = []  # real experiments, left to train and be analysed
        self.elapsed = 0.0
        self.left_over: list[str] = []
        self.gets = RawGets(str(client.base_url).rstrip("/"))
        self.drained: tuple[int, float] = (0, 0.0)

    async def timed(self, kind: str, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        began = time.perf_counter()
        try:
            response = await send()
        except httpx.HTTPError as error:
            self.fail(kind, type(error).__name__)
            return None
        if response.status_code >= 400:
            self.fail(kind, str(response.status_code))
            return None
        self.tally.latencies[kind].append(time.perf_counter() - began)
        return response

    async def raw(self, kind: str, path: str) -> None:
        began = time.perf_counter()
        try:
            status = await self.gets.get(path)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.fail(kind, type(error).__name__)
            return
        if status >= 400:
            self.fail(kind, str(status))
            return
        self.tally.latencies[kind].append(time.perf_counter() - began)

    def fail(self, kind: str, reason: str) -> None:
        self.tally.failures[kind] += 1
        self.tally.reasons[f"{kind} {reason}"] += 1

    async def poll(self) -> None:
        await self.raw("poll", f"/v1/experiments/{next(self.poll_ids)}")

    async def listing(self) -> None:
        await self.raw("list", next(self.listings))

    async def submit(self) -> None:
        response = await self.timed("submit", lambda: self.client.post("/v1/experiments", json=TINY_SPEC))
        if response is not None:
            job_id = response.json()["id"]
            self.submitted.append(job_id)
            await self.timed("cancel", lambda: self.client.post(f"/v1/experiments/{job_id}/cancel"))

    async def work(self) -> None:
        response = await self.timed("work", lambda: self.client.post("/v1/experiments", json=WORK_SPEC))
        if response is not None:
            self.working.append(response.json()["id"])

    async def at_rate(self, kind: str, rate: float, seconds: float, send: Callable[[], Awaitable[None]]) -> None:
        """Start ``send`` ``rate`` times a second on a fixed schedule, skipping when too many are open."""
        if rate <= 0:
            return
        tasks: set[asyncio.Task] = set()
        start = time.perf_counter()
        for number in itertools.count():
            due = start + number / rate
            if due - start >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            self.tally.lags.append(time.perf_counter() - due)
            if self.tally.in_flight >= self.max_in_flight:
                self.tally.skipped[kind] += 1
                continue
            task = asyncio.create_task(self._counted(send))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)

    async def _counted(self, send: Callable[[], Awaitable[None]]) -> None:
        self.tally.in_flight += 1
        try:
            await send()
        finally:
            self.tally.in_flight -= 1


async def run_load(url: str, poll_ids: list[str], args: argparse.Namespace) -> Load:
    limits = httpx.Limits(max_connections=args.max_in_flight, max_keepalive_connections=args.max_in_flight)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=args.timeout) as client:
        if not poll_ids:  # a server of someone else's: poll jobs of our own, cancelled at once
            warm = Load(client, [], args.max_in_flight)
            for _ in range(args.poll_jobs):
                await warm.submit()
            poll_ids = warm.submitted
        load = Load(client, poll_ids, args.max_in_flight)
        began = time.perf_counter()
        await asyncio.gather(
            load.at_rate("poll", args.poll_rate, args.seconds, load.poll),
            load.at_rate("list", args.list_rate, args.seconds, load.listing),
            load.at_rate("submit", args.submit_rate, args.seconds, load.submit),
            load.at_rate("work", args.work_rate, args.seconds, load.work),
        )
        load.elapsed = time.perf_counter() - began
        load.gets.close()
        load.drained = await drain(client, load.working, args.drain)
        ours = set(load.submitted)
        for status in ("queued", "running"):
            answer = await client.get("/v1/experiments", params={"limit": 500, "status": status})
            load.left_over += [record["id"] for record in answer.json()["data"] if record["id"] in ours]
        return load


async def drain(client: httpx.AsyncClient, job_ids: list[str], seconds: float) -> tuple[int, float]:
    """Wait up to ``seconds`` for the real experiments to be trained and analysed: how many
    were, and when the last of them was (seconds after the load ended)."""
    began, done = time.perf_counter(), 0
    waiting = set(job_ids)
    while waiting and time.perf_counter() - began < seconds:
        for job_id in list(waiting):
            record = (await client.get(f"/v1/experiments/{job_id}")).json()
            if record["status"] in ("failed", "cancelled") or record.get("analysis") in ("succeeded", "failed"):
                waiting.discard(job_id)
                done += record["status"] == "succeeded" and record.get("analysis") == "succeeded"
        await asyncio.sleep(1.0)
    return done, time.perf_counter() - began


def report(load: Load, args: argparse.Namespace, where: str) -> None:
    tally = load.tally
    print(
        f"load on {where}: {args.seconds:g} s, target poll {args.poll_rate:g}/s, list {args.list_rate:g}/s, "
        f"submit {args.submit_rate:g}/s (+ its cancel), real experiments {args.work_rate:g}/s; "
        f"at most {args.max_in_flight} in flight"
    )
    print(f"{'kind':7} {'answered':>8} {'failed':>6} {'skipped':>7} {'req/s':>7} {'p50':>9} {'p95':>9} {'p99':>9}")
    for kind in ("poll", "list", "submit", "cancel", "work"):
        samples = tally.latencies.get(kind, [])
        if not samples and not tally.failures.get(kind):
            continue
        quantiles = [ms(percentile(samples, q)) if samples else "-" for q in (50, 95, 99)]
        print(
            f"{kind:7} {len(samples):>8,} {tally.failures.get(kind, 0):>6} {tally.skipped.get(kind, 0):>7} "
            f"{len(samples) / load.elapsed:>7.1f} {quantiles[0]:>9} {quantiles[1]:>9} {quantiles[2]:>9}"
        )
    if tally.reasons:
        print("failures by kind and answer: " + ", ".join(f"{name} x{count}" for name, count in sorted(tally.reasons.items())))
    lag = percentile(tally.lags, 99)
    print(f"schedule lag of the generator p99 {ms(lag)}; submitted jobs left queued or running: {len(load.left_over)}")
    if load.working:
        done, waited = load.drained
        print(
            f"real experiments beside the load ({WORK_SPEC['training']['trials']} LeNets x "
            f"{WORK_SPEC['training']['iterations']:,} iterations each): {len(load.working)} submitted, {done} trained and "
            f"analysed, the last {waited:.0f} s after the load ended"
        )
    if lag > LAG_WARNING_S:
        print(
            f"WARNING: the load generator fell behind its schedule (lag p99 {ms(lag)} > {ms(LAG_WARNING_S)}): its own CPU, "
            "not the server, bounds these figures; lower the rates or run it on another machine"
        )


@contextlib.contextmanager
def started_gateway(args: argparse.Namespace) -> Iterator[tuple[str, list[str], str]]:
    """``(url, ids to poll, description)`` of the gateway the load goes to."""
    if args.url:
        yield args.url, [], args.url
        return
    with tempfile.TemporaryDirectory(prefix="lesde-bench-load-") as state:
        state_dir = Path(state)
        if args.stack == "embedded":
            store: ObjectStore = LocalStore(state_dir / "store")
            with gateway(state_dir, store, {}, args) as (url, ids):
                yield url, ids, f"the embedded stack (local store), {args.stored:,} stored jobs"
            return
        with servers(args) as found, s3_bucket(found) as (bucket, store):
            with gateway(state_dir, store, redis_s3_overrides(found, bucket), args) as (url, ids):
                yield url, ids, f"Redis + S3 (SeaweedFS), {args.stored:,} stored jobs"


def redis_s3_overrides(found: Servers, bucket: str) -> dict[str, str]:
    if found.redis_url is None:
        raise SystemExit("--stack redis-s3 with --s3-endpoint needs --redis-url too")
    return {
        "LESDE_STORE": "s3",
        "LESDE_BROKER_URL": found.redis_url,
        "LESDE_S3_ENDPOINT": found.s3_endpoint,
        "LESDE_S3_ACCESS_KEY": found.s3_access_key,
        "LESDE_S3_SECRET_KEY": found.s3_secret_key,
        "LESDE_S3_BUCKET": bucket,
    }


@contextlib.contextmanager
def gateway(state_dir: Path, store: ObjectStore, overrides: dict[str, str], args: argparse.Namespace) -> Iterator[tuple[str, list[str]]]:
    ids = write_records(store, args.stored)
    job_index.rebuild(store, ("experiment",))
    # with real experiments beside the load: the whole stack (trainer, analyzer, reaper)
    stack = (EmbeddedStack if args.work_rate > 0 else ApiOnly)(state_dir=state_dir, port=free_port(), overrides=overrides)
    stack.start(timeout=120)
    if args.work_rate > 0 and args.worker_nice:
        # What an operator does on a shared host: the workers yield the CPU to the gateway. Each
        # service leads its own process group; the pool children it forks later inherit this.
        for name, process in zip(stack.commands(), stack.processes):
            if name != "api":
                os.setpriority(os.PRIO_PGRP, process.pid, args.worker_nice)
    try:
        yield stack.url, ids
    finally:
        stack.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", choices=["embedded", "redis-s3"], default="embedded")
    parser.add_argument("--url", help="load a running server instead of starting one")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--poll-rate", type=float, default=200.0, help="status polls per second")
    parser.add_argument("--list-rate", type=float, default=5.0, help="listings per second")
    parser.add_argument("--submit-rate", type=float, default=1.0, help="submissions per second (each cancelled at once)")
    parser.add_argument(
        "--work-rate", type=float, default=0.0, help="real experiments per second that train and are analysed beside the load (0: none)"
    )
    parser.add_argument(
        "--worker-nice", type=int, default=10, help="with --work-rate: niceness of the trainer, analyzer and reaper (0: as the gateway)"
    )
    parser.add_argument("--drain", type=float, default=180.0, help="seconds to wait after the load for the real experiments")
    parser.add_argument("--stored", type=int, default=1_000, help="jobs written to a started server's store first")
    parser.add_argument("--poll-jobs", type=int, default=20, help="with --url: jobs submitted (and cancelled) to poll")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed")
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    with started_gateway(args) as (url, poll_ids, where):
        load = asyncio.run(run_load(url, poll_ids, args))
    report(load, args, where)
    return 1 if load.left_over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
