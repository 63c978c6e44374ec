"""HTTP contract of /v1/simulations: validation, queueing, results through the real job function."""

import pytest
from lesde_analyzer.simulations.simulation_job import run_simulation_job
from lesde_runtime.job_repository import JobRepository

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
    import lesde_analyzer.simulations.simulation_job as simulation_job
    from lesde_contract import object_keys
    from lesde_runtime import tombstones

    job_id = client.post("/v1/simulations", json={**SDE, "runs": 5, "steps": 40}).json()["id"]
    real = simulation_job.run_simulation

    def compute_while_deleted(spec):
        result = real(spec)
        tombstones.bury(store, "simulation", job_id)
        simulations.delete(job_id)
        return result

    monkeypatch.setattr(simulation_job, "run_simulation", compute_while_deleted)
    run_simulation_job(store, job_id)
    assert list(store.list(object_keys.job_prefix("simulation", job_id))) == []
    assert client.get(f"/v1/simulations/{job_id}").status_code == 404


def test_every_figure_as_svg_and_pdf_and_an_older_result_says_it_has_png_only(client, store):
    import xml.etree.ElementTree as ET

    from lesde_contract import object_keys

    job_id = client.post("/v1/simulations", json={**SDE, "runs": 8, "steps": 100}).json()["id"]
    assert client.get(f"/v1/simulations/{job_id}/figures/trajectories.svg").status_code == 409  # not run yet
    run_simulation_job(store, job_id)
    names = list(client.get(f"/v1/simulations/{job_id}/analysis").json()["figures"])
    assert names == ["trajectories", "separable-fraction", "neural-collapse", "integrals"]
    for name in names:
        svg = client.get(f"/v1/simulations/{job_id}/figures/{name}.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml", name
        assert svg.headers["content-disposition"] == f'inline; filename="{job_id}-{name}.svg"'
        assert ET.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
        pdf = client.get(f"/v1/simulations/{job_id}/figures/{name}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
        png = client.get(f"/v1/simulations/{job_id}/figures/{name}.png")
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    absent = client.get(f"/v1/simulations/{job_id}/figures/nothing.svg")
    assert absent.status_code == 404 and f"available: {sorted(names)}" in absent.json()["detail"]  # each name once
    # a result stored before SVG and PDF were: its trajectories are not stored, so it cannot be drawn again
    store.delete(object_keys.figure_key("simulation", job_id, "integrals", "svg"))
    older = client.get(f"/v1/simulations/{job_id}/figures/integrals.svg")
    assert older.status_code == 404 and "stored as PNG only" in older.json()["detail"]
    assert client.get(f"/v1/simulations/{job_id}/figures/integrals.png").status_code == 200


def test_phase_diagram_figure_as_pdf(client, store):
    body = {"base": {**SDE, "runs": 6, "steps": 100}, "grid": {"kind": "gap", "beta": 0.0, "gaps": [-0.5, 1.0]}}
    job_id = client.post("/v1/simulations/phase-diagram", json=body).json()["id"]
    run_simulation_job(store, job_id)
    pdf = client.get(f"/v1/simulations/{job_id}/figures/transition.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
