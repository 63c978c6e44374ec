"""A tiny sweep through the real stack (uvicorn, Celery workers on Redis, S3): a 2 x 1 grid
of GEOMNIST experiments over the label noise, both children trained and analysed, then the
sweep's cross-child analysis, its figures and its table over HTTP.

Needs the services that ``make test`` starts (``scripts/test_stack.py``). Nothing is mocked.
"""

from __future__ import annotations

import time

import httpx
import pytest
from lesde_contract import object_keys

ITERATIONS, TRIALS = 40, 2
SWEEP = {
    "name": "sweep-http",
    "base": {
        "dataset": {"name": "geomnist", "train_per_class": 8, "val_per_class": 4, "seed": 1},
        "model": {"name": "lenet", "dtype": "float32"},
        "training": {
            "iterations": ITERATIONS,
            "trials": TRIALS,
            "learning_rate": 0.01,
            "eval_every": 20,
            "probe_every": 20,
            "probe_per_class": 2,
            "features_every": 20,
            "seed": 3,
        },
    },
    "axes": {"dataset.label_noise": [0.0, 0.5], "training.seed": [3]},
}


@pytest.fixture(scope="module")
def services(start_services):
    return start_services(chunk=20)


def _until(check, *, timeout: float, what: str):
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout} s")


def test_a_tiny_sweep_end_to_end(services):
    stack, store = services
    with httpx.Client(base_url=stack.url, timeout=60) as http:
        created = http.post("/v1/sweeps", json=SWEEP)
        assert created.status_code == 202, created.text
        location = created.headers["location"]
        sweep = created.json()
        assert location == f"/v1/sweeps/{sweep['id']}" and sweep["counts"]["queued"] == 2
        ids = [child["experiment_id"] for child in sweep["children"]]

        def children_analysed() -> dict | None:
            view = http.get(location).json()
            done = all(
                child["status"] in ("succeeded", "failed", "cancelled")
                and child["analysis"] in ("succeeded", "failed", "none")
                and (child["status"] != "succeeded" or child["analysis"] != "none")
                for child in view["children"]
            )
            return view if done else None

        view = _until(children_analysed, timeout=300, what="both children trained and analysed")
        assert view["status"] == "succeeded", view
        assert [child["status"] for child in view["children"]] == ["succeeded", "succeeded"], view
        assert [child["analysis"] for child in view["children"]] == ["succeeded", "succeeded"], view
        assert view["progress"]["done"] == view["progress"]["total"] == 2 * ITERATIONS * TRIALS
        assert view["counts"] == {"queued": 0, "running": 0, "succeeded": 2, "failed": 0, "cancelled": 0, "missing": 0}
        for experiment_id, noise in zip(ids, (0.0, 0.5), strict=True):
            child = http.get(f"/v1/experiments/{experiment_id}").json()
            assert child["sweep_id"] == sweep["id"] and child["spec"]["dataset"]["label_noise"] == noise
            assert store.get_json(object_keys.manifest_key(experiment_id))["complete"]

        # The cross-child analysis (the analyzer's part): recomputed as each child's analysis ends.
        def analysis_with_both() -> dict | None:
            answer = http.get(f"{location}/analysis")
            summary = answer.json() if answer.status_code == 200 else {}
            children = summary.get("children", ())
            both = len(children) == 2 and all(child.get("in_curves", True) for child in children)
            return summary if both else None

        summary = _until(analysis_with_both, timeout=180, what="the sweep's analysis of both children")
        assert "children" in summary
        for name, url in summary["figures"].items():
            figure = http.get(url)
            assert figure.status_code == 200 and figure.content[:8] == b"\x89PNG\r\n\x1a\n", name
        table = http.get(f"{location}/table.csv")
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        assert len(table.text.strip().splitlines()) == 3  # a header and one row per child

        assert http.post(f"{location}/cancel").status_code == 409  # every child has finished
        assert http.delete(location).status_code == 204
        assert http.get(location).status_code == 404
        assert all(http.get(f"/v1/experiments/{experiment_id}").status_code == 404 for experiment_id in ids)


def test_the_reproduction_runs_from_one_command_on_redis_and_s3(services, tmp_path):
    """``scripts/reproduce.py --url`` (what ``make reproduce`` runs on the embedded stack) on a
    tiny label-noise grid: submits, waits, downloads, and writes a report judging every claim."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    scripts = Path(__file__).resolve().parents[2] / "scripts"
    sys.path.insert(0, str(scripts))
    try:
        spec = importlib.util.spec_from_file_location("reproduce", scripts / "reproduce.py")
        reproduce = importlib.util.module_from_spec(spec)
        sys.modules["reproduce"] = reproduce
        spec.loader.exec_module(reproduce)
        grid = tmp_path / "tiny.json"
        grid.write_text(json.dumps(SWEEP | {"axes": {"dataset.label_noise": [0.0, 0.7]}}))
        report = tmp_path / "docs" / "reproduction.md"
        stack, _store = services
        status = reproduce.main(
            ["--url", stack.url, "--sweep", str(grid), "--section", "label-noise", "--report", str(report), "--timeout", "600"]
        )
    finally:
        sys.path.remove(str(scripts))
        sys.modules.pop("reproduce", None)
        sys.modules.pop("reproduction_report", None)
    assert status == 0
    text = report.read_text()
    claims = [line for line in text.splitlines() if line.startswith("- (")]
    assert len(claims) == 6 and all(any(v in line for v in ("**holds**", "**does not hold**", "**not decided**")) for line in claims)
    assert "## The label-noise transition" in text and "What we checked" in text  # the section, assembled into the page
    figures = tmp_path / "docs" / "reproduction" / "label-noise"
    for name in ("sweep-accuracy", "sweep-loss", "sweep-tail-index"):
        assert (figures / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (figures / "table.csv").read_text().count("\n") == 3  # header + 2 children
