"""The fault lab: a private Redis and S3 (SeaweedFS) and the services, each of which a test
may kill, stop or restart on its own.

The servers of ``scripts/test_stack.py`` are shared by every test, so the fault tests
start their own (with that script's functions: its binaries, ports, readiness checks and
stop): a Redis that writes an append-only file (so it can be restarted with its data or
without it) and a SeaweedFS that can be stopped and started again on the same ports and
data directory. The API and the reaper run as :class:`~lesde_launcher.stack.EmbeddedStack`
processes pointed at them; trainers are started one by one by the tests (a test kills
them, restarts them, or runs two), as :mod:`tests.integration.fault_worker`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import redis
from celery import Celery
from lesde_contract import object_keys
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import JobRecord, JobStatus, utcnow
from lesde_launcher.stack import EmbeddedStack, free_port
from lesde_runtime import celery_app, job_index
from lesde_runtime.broker_census import task_and_first_argument
from lesde_runtime.job_repository import JobRepository, new_job_id
from lesde_runtime.settings import BrokerSettings, StoreRetrySettings
from lesde_runtime.storage.retry import gateway_policy
from lesde_runtime.storage.s3 import S3Store

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# The name of an experiment that kills the process training it (see tests.integration.fault_worker).
POISON_NAME = "poison: kills the process that trains it"


def load_test_stack() -> ModuleType:
    """``scripts/test_stack.py`` as a module (it is a script, not a package)."""
    name = "lesde_test_stack"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "test_stack.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before it runs: its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


test_stack = load_test_stack()


def wait_for(condition: Callable[[], T], *, timeout: float, what: str, every: float = 0.1) -> T:
    """Poll ``condition`` until it returns something truthy (returned); AssertionError naming
    ``what`` after ``timeout`` seconds. A store outage while polling counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except StoreUnavailable as error:
            last = error
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last seen: {last!r})")


# -- servers -----------------------------------------------------------------------------
@dataclass
class RedisServer:
    """A Redis on ``port`` that logs every write to an append-only file in ``data_dir``
    (fsync at each write), so a restart keeps its data unless the test removes it."""

    binary: str
    port: int
    data_dir: Path
    log: Path
    server: object = None  # test_stack.Server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--daemonize",
            "no",
            "--logfile",
            "",
            "--protected-mode",
            "yes",
        ]
        self.server = test_stack.Server(name="fault-redis", argv=argv, log=self.log, cwd=self.data_dir)
        self.server.start()
        test_stack.wait_redis(self.server, self.url, time.monotonic() + test_stack.READY_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL: no shutdown save, no goodbye to clients (a crashed or evicted host)."""
        self.server.signal_group(signal.SIGKILL)
        self.server.proc.wait(timeout=30)

    def restart(self, *, keep_data: bool) -> None:
        """Kill, then start again on the same port: with its append-only file, or empty."""
        self.kill()
        if not keep_data:
            shutil.rmtree(self.data_dir)
            self.data_dir.mkdir()
        self.start()

    def stop(self) -> None:
        if self.server is not None:
            test_stack.stop_servers([self.server])


@dataclass
class SeaweedServer:
    """``weed server -s3`` on fixed ports and one data directory, so that it can be stopped
    and started again with its objects (an S3 outage, not a loss)."""

    binary: str
    root: Path
    ports: dict[str, int]  # s3, master, volume, filer: each also uses port + GRPC_OFFSET
    server: object = None  # test_stack.Server

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3']}"

    def _argv(self) -> list[str]:
        grpc = test_stack.GRPC_OFFSET
        argv = [
            self.binary,
            "-logtostderr",
            f"-config_dir={self.root}",
            "server",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-volume.max=100",
            "-master.volumeSizeLimitMB=64",
            "-volume.preStopSeconds=0",
        ]
        for role, port in self.ports.items():
            argv += [f"-{role}.port={port}", f"-{role}.port.grpc={port + grpc}"]
        return argv

    def _unix_sockets(self) -> list[Path]:
        """The unix sockets weed leaves in /tmp whatever TMPDIR says (a killed weed leaves them
        behind): one per gRPC port, and the S3 gateway's own."""
        grpc = [Path("/tmp") / f"seaweedfs-{role}-grpc-{port + test_stack.GRPC_OFFSET}.sock" for role, port in self.ports.items()]
        return grpc + [Path("/tmp") / f"seaweedfs-s3-{self.ports['s3']}.sock"]

    def start(self) -> None:
        for path in self._unix_sockets():
            path.unlink(missing_ok=True)
        env = dict(os.environ, TMPDIR=str(self.root / "tmp"), HOME=str(self.root), WEED_MASTER_VOLUME_GROWTH_COPY_1="1")
        self.server = test_stack.Server(name="fault-seaweedfs", argv=self._argv(), log=self.root / "weed.log", cwd=self.root, env=env)
        self.server.start()
        test_stack.wait_s3(self.server, self.endpoint, time.monotonic() + test_stack.READY_TIMEOUT_S)

    def kill(self) -> None:
        self.server.signal_group(signal.SIGKILL)
        self.server.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.server is not None:
            test_stack.stop_servers([self.server])
        for path in self._unix_sockets():
            path.unlink(missing_ok=True)


def start_servers(root: Path) -> tuple[RedisServer, SeaweedServer]:
    picker = test_stack.PortPicker()
    redis_port = picker.port()
    weed_ports = {role: picker.port(with_grpc=True) for role in ("s3", "master", "volume", "filer")}
    picker.release()
    redis_binary, _how = test_stack.find_redis_server()
    for folder in ("redis", "weed/data", "weed/tmp"):
        (root / folder).mkdir(parents=True)
    redis_server = RedisServer(redis_binary, redis_port, root / "redis", root / "redis.log")
    weed = SeaweedServer(test_stack.find_weed(), root / "weed", weed_ports)
    try:
        redis_server.start()
        weed.start()
    except BaseException:
        redis_server.stop()
        weed.stop()
        raise
    return redis_server, weed


# -- services ----------------------------------------------------------------------------
class ServicesWithoutWorkers(EmbeddedStack):
    """The API and the reaper only. Trainers are the tests' own (:meth:`FaultLab.start_trainer`);
    no analyzer runs: analyses are not what these tests check, and on 2 cores one would
    take CPU from the training they time (analysis messages simply wait in Redis)."""

    def commands(self) -> dict[str, list[str]]:
        return {name: command for name, command in super().commands().items() if name in ("api", "reaper")}


@dataclass
class Trainer:
    name: str
    process: subprocess.Popen
    log: Path

    @property
    def node(self) -> str:
        return f"{self.name}@fault-tests"

    def kill_group(self) -> None:
        """SIGKILL to the worker's whole process group: the parent and its pool children."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class FaultLab:
    """Private Redis + SeaweedFS, the API and the reaper, and the trainers tests start."""

    root: Path
    redis: RedisServer
    s3: SeaweedServer
    services: ServicesWithoutWorkers
    store: ObjectStore
    trainers: list[Trainer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.services.url

    @property
    def experiments(self) -> JobRepository:
        return JobRepository(self.store, "experiment")

    def record(self, job_id: str) -> JobRecord:
        return self.experiments.get(job_id)

    def broker(self) -> Celery:
        """A Celery app on the lab's Redis (the test process's own app uses the filesystem transport)."""
        return celery_app.make_celery(BrokerSettings(broker_url=self.redis.url))

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis.url, socket_timeout=5)

    def deliveries(self, task: str, job_id: str) -> tuple[int, int]:
        """``(waiting, unacknowledged)``: the messages of ``task`` for ``job_id`` in its queue
        and among those delivered to a worker and not yet acknowledged (kombu's layout)."""
        client = self.redis_client()
        try:
            waiting = [json.loads(raw) for raw in client.lrange(celery_app.TASK_QUEUES[task], 0, -1)]
            delivered = [json.loads(raw)[0] for raw in client.hvals("unacked")]
        finally:
            client.close()
        mine = (task, job_id)
        return sum(task_and_first_argument(m) == mine for m in waiting), sum(task_and_first_argument(m) == mine for m in delivered)

    def start_trainer(self, name: str = "trainer", **env: str) -> Trainer:
        """A prefork trainer (one child) of :mod:`tests.integration.fault_worker`; ``env``
        overrides the lab's settings for this trainer only."""
        return self._start_worker("tests.integration.fault_worker", celery_app.TRAIN_QUEUE, name, env)

    def start_analyzer(self, name: str = "analyzer", **env: str) -> Trainer:
        """A prefork analyzer (one child) of :mod:`tests.integration.fault_analyzer`; stopped with the trainers."""
        return self._start_worker("tests.integration.fault_analyzer", celery_app.ANALYZE_QUEUE, name, env)

    def _start_worker(self, module: str, queue: str, name: str, env: dict[str, str]) -> Trainer:
        log = self.root / "logs" / f"{name}-{len(self.trainers)}.log"
        environment = self.services.environment() | {"PYTHONPATH": str(REPO)} | env
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            module,
            "worker",
            "-Q",
            queue,
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "-n",
            f"{name}@fault-tests",
        ]
        with log.open("ab") as out:
            process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        worker = Trainer(name, process, log)
        self.trainers.append(worker)
        return worker

    def wait_consuming(self, trainer: Trainer, timeout: float = 120) -> None:
        """Until ``trainer`` answers a broker ping (it is connected and consuming)."""
        app = self.broker()
        try:

            def answered() -> bool:
                assert trainer.process.poll() is None, f"trainer {trainer.name} exited; see {trainer.log}"
                return bool(app.control.ping(destination=[trainer.node], timeout=1.0))

            wait_for(answered, timeout=timeout, what=f"trainer {trainer.name} answers a ping", every=0.5)
        finally:
            app.close()

    def stop_trainers(self) -> None:
        for trainer in self.trainers:
            if trainer.process.poll() is None:
                trainer.kill_group()
        self.trainers.clear()

    def chunks(self, job_id: str) -> dict[str, bytes]:
        """Chunk name (``<stream>/<first>-<last>...``) -> stored bytes of the job."""
        prefix = object_keys.job_prefix("experiment", job_id) + "chunks/"
        return {info.key[len(prefix) :]: self.store.get_bytes(info.key) for info in self.store.list(prefix)}

    def manifest(self, job_id: str) -> dict | None:
        key = object_keys.manifest_key(job_id)
        return self.store.get_json(key) if self.store.exists(key) else None

    def iterations_done(self, job_id: str) -> int:
        manifest = self.manifest(job_id)
        return manifest["iterations_done"] if manifest else 0

    def store_finished_jobs(self, spec: dict, owners: list[str]) -> None:
        """One succeeded experiment per owner in ``owners``, written straight to the store as
        :meth:`~lesde_runtime.job_repository.JobRepository.create` writes a job (spec, index entries, record).
        Finished, so that the reaper has nothing to re-send for them."""

        def store_one(owner: str) -> None:
            record = JobRecord(id=new_job_id(), owner=owner, status=JobStatus.succeeded, finished_at=utcnow())
            record.progress.total = record.progress.done = 1
            self.store.put_json(object_keys.spec_key("experiment", record.id), spec)
            job_index.add(self.store, "experiment", record)
            self.store.put_json(object_keys.status_key("experiment", record.id), record.model_dump(mode="json"))

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(store_one, owners))

    def stop(self) -> None:
        self.stop_trainers()
        self.services.stop()
        self.s3.stop()
        self.redis.stop()
        if not os.environ.get("LESDE_KEEP_FAULT_LOGS"):  # set it to read the services' logs after a run
            shutil.rmtree(self.root, ignore_errors=True)


def start_lab(root: Path, settings: dict[str, str]) -> FaultLab:
    """Servers, then the API and the reaper with ``settings`` (``LESDE_*`` variables)."""
    redis_server, weed = start_servers(root)
    bucket = "lesde-faults"
    credentials = {"access_key": test_stack.S3_ACCESS_KEY, "secret_key": test_stack.S3_SECRET_KEY}
    overrides = {
        "LESDE_STORE": "s3",
        "LESDE_BROKER_URL": redis_server.url,
        "LESDE_S3_ENDPOINT": weed.endpoint,
        "LESDE_S3_ACCESS_KEY": credentials["access_key"],
        "LESDE_S3_SECRET_KEY": credentials["secret_key"],
        "LESDE_S3_BUCKET": bucket,
        "LESDE_DATA_DIR": str(root / "data"),
    } | settings
    services = ServicesWithoutWorkers(state_dir=root / "services", port=free_port(), log_dir=root / "logs", overrides=overrides)
    try:
        services.start(timeout=120)
    except BaseException:
        weed.stop()
        redis_server.stop()
        raise
    # The test's own reads answer (or fail) within seconds, also during an S3 outage.
    store = S3Store(
        endpoint=weed.endpoint, bucket=bucket, retry=gateway_policy(StoreRetrySettings(api_store_retry_seconds=2)), **credentials
    )
    return FaultLab(root=root, redis=redis_server, s3=weed, services=services, store=store)


def new_root() -> Path:
    """A short temporary folder (weed's unix socket paths are limited to ~107 bytes)."""
    return Path(tempfile.mkdtemp(prefix="lesde-faults-"))
