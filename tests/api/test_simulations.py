"""HTTP contract of /v1/simulations: validation, queueing, results through the real job function."""

import pytest

from lesde.jobs import JobRepository
from lesde_analyzer.simulations.job import run_simulation_job

SDE = {
    "mode": "sde",
    "model": "I",
    "classes": 2,
    "dim": 1,
    "samples_per_class": 20,
    "runs": 30,
    "steps": 400,
    "step": 0.05,
    "record_every": 20,
    "sigma": 0.5,
    "alpha": {"kind": "constant", "value": 1.0},
    "beta": {"kind": "constant", "value": 0.0},
    "seed": 1,
}


@pytest.fixture
def simulations(store):
    return JobRepository(store, "simulation")


def test_simulation_is_queued_then_served(client, store):
    response = client.post("/v1/simulations", json=SDE)
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.headers["location"] == f"/v1/simulations/{job_id}"
    assert response.json()["progress"]["unit"] == "steps"
    assert client.get(f"/v1/simulations/{job_id}/analysis").status_code == 409

    run_simulation_job(store, job_id)  # what the analyzer worker's task runs

    record = client.get(f"/v1/simulations/{job_id}").json()
    assert record["status"] == "succeeded" and record["progress"]["done"] == 400
    result = client.get(f"/v1/simulations/{job_id}/analysis").json()
    for key in ("times", "separable_fraction", "etf_distance", "A_hat", "B_hat", "A", "B"):
        assert key in result, key
    assert len(result["times"]) == 400 // 20 + 1
    # alpha - beta = 1 > 0 with t up to 20: the two classes end up separated in most runs (Theorem 2.1).
    assert result["separable_fraction"][-1] >= 0.9
    for name in ("trajectories", "separable-fraction", "neural-collapse"):
        assert result["figures"][name] == f"/v1/simulations/{job_id}/figures/{name}.png"
        png = client.get(result["figures"][name])
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG"), name


def test_phase_diagram_over_the_gap(client, store):
    body = {"base": {**SDE, "runs": 20, "steps": 300}, "grid": {"kind": "gap", "beta": 0.0, "gaps": [-0.5, 1.0]}}
    response = client.post("/v1/simulations/phase-diagram", json=body)
    assert response.status_code == 202
    job_id = response.json()["id"]
    run_simulation_job(store, job_id)
    result = client.get(f"/v1/simulations/{job_id}/analysis").json()
    low, high = result["separable_fraction"]
    assert low <= 0.1 and high >= 0.9
    assert client.get(f"/v1/simulations/{job_id}/figures/transition.png").content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"runs": 0}, "runs"),
        ({"classes": 1}, "classes"),
        ({"mode": "walk"}, "mode"),
        ({"alpha": {"kind": "power", "scale": 1.0, "exponent": -1}}, "alpha.power.exponent"),
        ({"alpha": {"kind": "nope"}}, "alpha"),
        ({"model": "L", "classes": 3, "dim": 2}, "dim"),
        ({"runs": 10_000, "steps": 100_000, "record_every": 1000}, "runs"),
    ],
)
def test_bad_simulation_specs_are_422_naming_the_field(client, patch, field):
    response = client.post("/v1/simulations", json={**SDE, **patch})
    assert response.status_code == 422
    assert field in [item["field"] for item in response.json()["detail"]], response.json()


def test_bad_phase_diagram_grid_is_422(client):
    response = client.post("/v1/simulations/phase-diagram", json={"base": SDE, "grid": {"kind": "gap", "gaps": []}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"].startswith("grid")


def test_failed_simulation_records_its_error(client, store, simulations):
    job_id = client.post("/v1/simulations", json=SDE).json()["id"]
    store.put_json(f"simulations/{job_id}/spec.json", {"mode": "broken"})  # damaged after submission
    run_simulation_job(store, job_id)
    record = client.get(f"/v1/simulations/{job_id}").json()
    assert record["status"] == "failed" and "ValidationError" in record["error"]
    assert client.get(f"/v1/simulations/{job_id}/analysis").status_code == 404


def test_a_simulation_deleted_while_it_computes_writes_nothing(client, store, simulations, monkeypatch):
    """The gateway refuses to delete a running job, but a job whose worker lost its lease can
    be deleted under it: the late worker's figures, summary and record writes are refused."""
    from lesde import keys, tombstones
    import lesde_analyzer.simulations.job as simulation_job

    job_id = client.post("/v1/simulations", json={**SDE, "runs": 5, "steps": 40}).json()["id"]
    real = simulation_job.run_simulation

    def compute_while_deleted(spec):  # noqa: ANN001, ANN202
        result = real(spec)
        tombstones.bury(store, "simulation", job_id)
        simulations.delete(job_id)
        return result

    monkeypatch.setattr(simulation_job, "run_simulation", compute_while_deleted)
    run_simulation_job(store, job_id)
    assert list(store.list(keys.job_prefix("simulation", job_id))) == []
    assert client.get(f"/v1/simulations/{job_id}").status_code == 404
