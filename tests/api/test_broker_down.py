"""A broker that is down: every request that enqueues answers 503 and leaves nothing
``queued`` (the job, or the analysis option set, is marked failed instead).

A real (closed) Redis address, in a fresh process since the Celery app reads its broker
once at import; the store is a local directory both processes share.
"""

import json
import os
import socket
import subprocess
import sys

from lesde_contract.specs.analysis import DEFAULT_KEY, run_state_key, run_summary_key
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore

from tests.api.test_imports import authors_csv
from tests.fixtures.synthetic import write_synthetic_experiment

REQUESTS = """
import json, sys
from fastapi.testclient import TestClient
from lesde_api.main import app
client = TestClient(app)
experiment, csv_path = sys.argv[1:]
with open(csv_path, 'rb') as handle:
    imported = client.post('/v1/imports', files={'file': ('run.csv', handle.read(), 'text/csv')})
answers = {
    'experiment': client.post('/v1/experiments', json={}).status_code,
    'simulation': client.post('/v1/simulations', json={}).status_code,
    'analysis': client.post(f'/v1/experiments/{experiment}/analysis', json={}).status_code,
    'import': imported.status_code,
    'figure': client.get(f'/v1/experiments/{experiment}/figures/AB.png', params={'dpi': 60}).status_code,
    'readyz': client.get('/readyz').json()['broker'].split(':')[0],
}
print(json.dumps(answers))
"""


class SocketClosedPort:
    """A local port that refuses connections (bound, never listening)."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *_exc: object) -> None:
        self.sock.close()


socket_closed_port = SocketClosedPort  # the name tests/api/test_dependency_down.py and tests/integration import


def test_unreachable_broker_is_503_and_leaves_nothing_queued(tmp_path):
    store = LocalStore(tmp_path)
    experiment = write_synthetic_experiment(store, trials=2, iterations=40, chunk=20, probe_every=20, eval_every=20)
    store.put_json(
        run_summary_key(experiment, DEFAULT_KEY), {"partial": True}
    )  # a figure size may be asked for, a full run may not be cached
    csv_path = tmp_path / "run.csv"
    csv_path.write_text(authors_csv(trials=2, iterations=10))
    with SocketClosedPort() as port:
        env = {
            **os.environ,
            "LESDE_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "LESDE_STORE": "local",
            "LESDE_LOCAL_STORE_DIR": str(tmp_path),
        }
        result = subprocess.run(
            [sys.executable, "-c", REQUESTS, experiment, str(csv_path)], capture_output=True, text=True, env=env, timeout=180
        )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers == {"experiment": 503, "simulation": 503, "analysis": 503, "import": 503, "figure": 503, "readyz": "unreachable"}
    records = [*JobRepository(store, "experiment").iter_all(), *JobRepository(store, "simulation").iter_all()]
    # a refused submission (experiment, simulation, import) leaves no record: only the synthetic one is there
    assert [record.id for record in records] == [experiment]
    assert not [(record.id, record.status, record.analysis) for record in records if "queued" in (record.status, record.analysis)]
    assert not [info.key for info in store.list("experiments/") if not info.key.startswith(f"experiments/{experiment}/")]
    assert store.get_json(run_state_key(experiment, DEFAULT_KEY))["state"] == "failed"
