"""A worker's metrics (lesde_runtime.worker_metrics): one port answers for every pool process.

Real processes: a Python process with ``LESDE_METRICS_PORT`` set forks a child that counts
training chunks, as a prefork pool's child does, and then serves; the scrape must show the
child's counts. Nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import httpx
from lesde_launcher.stack import free_port
from prometheus_client.parser import text_string_to_metric_families

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from lesde_runtime import worker_metrics  # first: it picks the multiprocess folder before prometheus_client loads
    child = os.fork()
    if child == 0:  # a pool process
        worker_metrics.chunk_written(trial_iterations=300, seconds=0.5)
        worker_metrics.chunk_written(trial_iterations=200, seconds=0.5)
        os._exit(0)
    os.waitpid(child, 0)
    worker_metrics.TASKS_DONE.labels("lesde.train_experiment", "success").inc()  # the main process counts too
    worker_metrics.serve(int(os.environ["LESDE_METRICS_PORT"]))
    print("serving", os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), flush=True)
    time.sleep(120)
    """
)


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_one_port_serves_the_counts_of_every_pool_process(tmp_path):
    port = free_port()
    env = {**os.environ, "LESDE_METRICS_PORT": str(port), "LESDE_METRICS_DIR": str(tmp_path / "metrics")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_999.db").write_bytes(b"stale")  # a previous run's: emptied at start
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == f"serving {tmp_path / 'metrics'}"
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline:  # the server thread starts listening at once; allow a busy machine
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                break
            except httpx.TransportError:
                time.sleep(0.2)
        samples = _samples(text)
        assert samples[("lesde_trainer_chunks_written_total", frozenset())] == 2
        assert samples[("lesde_trainer_trial_iterations_total", frozenset())] == 500
        done = frozenset({"task": "lesde.train_experiment", "outcome": "success"}.items())
        assert samples[("lesde_worker_tasks_total", done)] == 1
        assert not (tmp_path / "metrics" / "counter_999.db").exists()
    finally:
        worker.kill()
        worker.wait()
