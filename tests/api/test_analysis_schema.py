"""The analysis routes answer the contract's typed results: OpenAPI documents every field, and a stored
result of an older shape is still served (typed where it fits, as stored where it does not), never a 500."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lesde_analyzer.experiments import pipeline
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_api.main import create_app
from lesde_api.models import analysis as answers
from lesde_contract import analysis_results, object_keys
from lesde_contract.specs.analysis import DEFAULT_KEY, run_summary_key
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore

from tests.fixtures.analysis_reference.capture import REFERENCE, SIMULATION_REFERENCE, SWEEP_REFERENCE
from tests.fixtures.synthetic import write_synthetic_experiment

ROUTES = ("/v1/experiments/{job_id}/analysis", "/v1/simulations/{job_id}/analysis", "/v1/sweeps/{sweep_id}/analysis")
# Open by nature, each with its reason: grid values are whatever JSON the sweep spec posted for a field path
# (a number, a string, a list of class names); a sweep row is its columns, the axes among them; a run state's
# options are kept as requested (an invalid set too, with the error) and its format is lesde_runtime.analysis_state's.
OPEN_BY_NATURE = {
    "SweepChildResult.point", "CurveLine.group", "FlipLine.group", "SweepAnalysis.rows", "LatestRequest",
    "LatestRequest.options",
}  # fmt: skip
# The parts issue #23 names, typed all the way down.
TYPED_PARTS = (
    "Verdict", "VerdictWindow", "TailIndices", "TailIndex", "Estimates", "ModelEstimates", "DriftRegression", "ImitationByModel",
    "ImitationFit", "Figure4c", "LabelGroupings", "GeometryByStream", "SeparabilityByStream",
)  # fmt: skip
NOT_SERVED = ("figures", "series_url", "series", "table_url")  # the gateway's additions


def _resolve(schema: dict, components: dict) -> tuple[str | None, dict]:
    ref = schema.get("$ref")
    if ref is None:
        return None, schema
    name = ref.rsplit("/", 1)[-1]
    return name, components[name]


def _free_form(schema: dict, components: dict) -> bool:
    """Whether a schema admits any object (or any value) without naming its keys' types (a named
    component that also allows unnamed keys is reported by its own name, not at each use)."""
    name, target = _resolve(schema, components)
    if target == {}:
        return True  # any JSON value (JsonValue, Any)
    if name is None and target.get("additionalProperties") is True:
        return True
    return target.get("type") == "object" and "properties" not in target and "additionalProperties" not in target


def _walk(schema: dict, components: dict, where: str, seen: set[str]) -> Iterator[tuple[str, str | None, dict]]:
    """Every (place, component name or None, schema) reachable from ``schema``."""
    name, target = _resolve(schema, components)
    yield where, name, schema
    if name is not None:
        if name in seen:
            return
        seen.add(name)
        where = name
    for field, sub in (target.get("properties") or {}).items():
        yield from _walk(sub, components, f"{where}.{field}", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in target.get(key, []):
            yield from _walk(sub, components, where, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(target.get(key), dict):
            yield from _walk(target[key], components, where, seen)


@pytest.fixture(scope="module")
def openapi() -> dict:
    with TestClient(create_app()) as client:
        return client.get("/openapi.json").json()


def _reachable(openapi: dict) -> list[tuple[str, str | None, dict]]:
    components = openapi["components"]["schemas"]
    found: list[tuple[str, str | None, dict]] = []
    seen: set[str] = set()
    for route in ROUTES:
        answer = openapi["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        found += list(_walk(answer, components, route, seen))
    return found


def test_the_analysis_routes_document_typed_answers_without_free_form_objects(openapi: dict) -> None:
    components = openapi["components"]["schemas"]
    reachable = _reachable(openapi)
    free = {where for where, _, schema in reachable if _free_form(schema, components)}
    free |= {name for _, name, _ in reachable if name and components[name].get("additionalProperties") is True}
    assert free <= OPEN_BY_NATURE, sorted(free - OPEN_BY_NATURE)
    names = {name for _, name, _ in reachable if name}
    assert set(TYPED_PARTS) | {"ExperimentAnalysis", "SimulationRun", "PhaseDiagramResult", "SweepAnalysis"} <= names
    for part in TYPED_PARTS:
        assert components[part].get("additionalProperties") is False, f"{part} allows keys it does not name"
    undescribed = [
        f"{name}.{field}"
        for name in names
        for field, prop in (components[name].get("properties") or {}).items()
        if "description" not in prop
    ]
    assert undescribed == []


def test_the_analyzer_and_the_gateway_use_one_definition() -> None:
    assert issubclass(answers.ExperimentAnalysis, analysis_results.ExperimentAnalysis)
    assert issubclass(answers.SweepAnalysis, analysis_results.SweepAnalysis)
    assert issubclass(answers.SimulationRun, analysis_results.SimulationAnalysis)
    assert issubclass(answers.PhaseDiagramResult, analysis_results.PhaseDiagramAnalysis)
    assert pipeline.ExperimentAnalysis is analysis_results.ExperimentAnalysis
    assert answers.ExperimentAnalysis.model_fields["verdict"].annotation is analysis_results.tail.Verdict


def _without(body: dict, keys_left_out: tuple[str, ...] = NOT_SERVED) -> dict:
    return {key: value for key, value in body.items() if key not in keys_left_out}


@pytest.fixture
def analysed(store: LocalStore) -> str:
    job_id = write_synthetic_experiment(store, trials=4, iterations=400, chunk=200, probe_every=100, eval_every=100)
    run_experiment_analysis(store, job_id)
    return job_id


def _older(summary: dict) -> dict:
    """``summary`` as an analyzer of late November stored it: no labels, groupings, sampling, band or skill."""
    old = copy.deepcopy(summary)
    for key in ("labels", "label_groupings", "sampling"):
        del old[key]
    del old["notes"]["sampling"]
    models = old["estimates"]["models"].values()
    for verdict in (
        old["verdict"],
        old["tail_indices"]["verdict"],
        old["estimates"]["verdict"],
        *(m["tail_indices"]["verdict"] for m in models),
    ):
        del verdict["band"], verdict["tolerance"]
    for fit in (*old["imitation"].values(), *old["estimates"]["imitation"].values()):
        for key in ("nrmse_hold", "skill", "scored_share", "onset"):
            fit.pop(key, None)
    return old


def test_the_served_analysis_is_the_stored_one_with_the_gateways_links(client: TestClient, store: LocalStore, analysed: str) -> None:
    stored = store.get_json(run_summary_key(analysed, DEFAULT_KEY))
    answer = client.get(f"/v1/experiments/{analysed}/analysis", params={"max_points": 20})
    assert answer.status_code == 200
    body = answer.json()
    assert _without(body) == _without(stored)
    assert list(_without(body)) == list(_without(stored))  # in the stored order
    assert body["figures"]["AB"] == f"/v1/experiments/{analysed}/figures/AB.png" and body["series"]["estimates"]["returned"] == 20


def test_an_analysis_stored_by_an_older_analyzer_is_served_typed(client: TestClient, store: LocalStore, analysed: str) -> None:
    old = _older(store.get_json(run_summary_key(analysed, DEFAULT_KEY)))
    assert answers.ExperimentAnalysis.model_validate(old | {"figures": {}, "series_url": ""})  # it fits the model
    store.put_json(run_summary_key(analysed, DEFAULT_KEY), old)
    answer = client.get(f"/v1/experiments/{analysed}/analysis", params={"series": False})
    assert answer.status_code == 200
    body = answer.json()
    assert "band" not in body["verdict"] and "sampling" not in body and "skill" not in body["imitation"]["L"]  # nothing made up
    assert _without(body) == _without(old)


@pytest.mark.parametrize("change", ["unknown key", "required key missing", "wrong type", "NaN stored"])
def test_an_analysis_that_fits_no_model_is_served_as_stored_not_500(
    client: TestClient, store: LocalStore, analysed: str, change: str
) -> None:
    stored = store.get_json(run_summary_key(analysed, DEFAULT_KEY))
    if change == "unknown key":
        stored["verdict"]["confidence"] = 0.9
    elif change == "required key missing":
        del stored["estimates"]
    elif change == "wrong type":
        stored["trials"] = "four"
    else:
        stored["trials"], stored["verdict"]["r_gamma"] = "four", float("nan")  # an old analyzer's NaN token, in a misfit
    store.put_json(run_summary_key(analysed, DEFAULT_KEY), stored)
    answer = client.get(f"/v1/experiments/{analysed}/analysis", params={"series": False})
    assert answer.status_code == 200
    body = answer.json()
    if change == "NaN stored":
        stored["verdict"]["r_gamma"] = None
    assert _without(body) == _without(stored)
    assert body["figures"]["AB"].endswith("/figures/AB.png")


def test_simulation_results_are_served_typed_and_as_stored_where_they_do_not_fit(client: TestClient, store: LocalStore) -> None:
    references = json.loads(SIMULATION_REFERENCE.read_text())
    repo = JobRepository(store, "simulation")
    for case in ("sde", "phase_gaps"):
        stored = references[case]["summary"]
        record = repo.create(spec={}, owner="default", name=None, total=1, unit="steps")
        store.put_json(object_keys.analysis_key("simulation", record.id, "summary"), stored)
        answer = client.get(f"/v1/simulations/{record.id}/analysis")
        assert answer.status_code == 200 and _without(answer.json()) == _without(stored)
        assert set(answer.json()["figures"]) == set(stored["figures"])
        store.put_json(object_keys.analysis_key("simulation", record.id, "summary"), stored | {"extra": [1, 2]})
        misfit = client.get(f"/v1/simulations/{record.id}/analysis")
        assert misfit.status_code == 200 and misfit.json()["extra"] == [1, 2]


def test_a_sweep_analysis_is_served_typed_and_as_stored_where_it_does_not_fit(client: TestClient, store: LocalStore) -> None:
    stored = json.loads(SWEEP_REFERENCE.read_text())["seeded"]
    record = JobRepository(store, "sweep").create(spec={}, owner="default", name="typed", total=0, unit="trial-iterations")
    store.put_json(object_keys.analysis_key("sweep", record.id, "summary"), stored)
    answer = client.get(f"/v1/sweeps/{record.id}/analysis")
    assert answer.status_code == 200 and _without(answer.json()) == _without(stored)
    store.put_json(object_keys.analysis_key("sweep", record.id, "summary"), _without(stored, ("curves",)))
    misfit = client.get(f"/v1/sweeps/{record.id}/analysis")
    assert misfit.status_code == 200 and "curves" not in misfit.json() and misfit.json()["table_url"].endswith("/table.csv")


@pytest.mark.parametrize("case", sorted(json.loads(REFERENCE.read_text())))
def test_every_reference_goes_through_the_gateways_model_unchanged(case: str) -> None:
    """The answer model adds the links and changes nothing of what was stored."""
    stored = json.loads(REFERENCE.read_text())[case]["summary"]
    served = stored | {"figures": {name: f"/x/{name}.png" for name in stored["figures"]}, "series_url": "/x/series.npz"}
    assert answers.ExperimentAnalysis.model_validate(served).model_dump(mode="json", exclude_unset=True) == served
