"""Schemathesis against the gateway's own OpenAPI schema: zero failures over >= 1,000 cases.

Every operation of ``/openapi.json`` gets positive cases (valid by the schema) and negative
ones (invalid by it), each sent in-process to the ASGI app and judged by every check
schemathesis has that applies to one response: no 5xx, the status code and content type
documented, the body valid against the documented schema, invalid data refused (4xx) and
valid data accepted, ignored auth (a call without the key must be 401), required headers.

Real parts: the app, a LocalStore in a temporary directory, API keys (two owners), an
experiment written in the stored format and analysed by the real analyzer, so that
``/analysis``, ``/figures`` and ``/artifacts`` answer 200 with real bodies and the typed
response models are checked against them. Mocked: only Celery's ``send`` (no worker runs
here; the tasks the API would enqueue are recorded), as every test in ``tests/api`` does.

Deterministic: hypothesis is derandomized (its seed is derived from each test) and its
example database is off; the number of cases per operation is fixed.
"""

from __future__ import annotations

import time
from collections import Counter

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_api.deps import get_store
from lesde_api.main import create_app
from lesde_runtime.storage.local import LocalStore
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import API_KEYS
from tests.fixtures.synthetic import write_synthetic_experiment

CASES_PER_OPERATION_AND_MODE = 30  # ~40 operations x 2 modes: ~2,400 cases in about 20 s here
MIN_CASES = 1_000
AUTH = {"Authorization": f"Bearer {API_KEYS['ada']}"}


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """The gateway with keys, on a store holding one analysed experiment of owner ``ada``."""
    patch = pytest.MonkeyPatch()
    patch.setenv("LESDE_API_KEYS", ",".join(f"{owner}={key}" for owner, key in API_KEYS.items()))
    patch.setattr("lesde_runtime.celery_app.send", lambda *args: None)  # no worker here: see the module docstring
    store = LocalStore(tmp_path_factory.mktemp("fuzz") / "store")
    job_id = write_synthetic_experiment(store, trials=4, iterations=400, chunk=200, probe_every=100, eval_every=100)
    run_experiment_analysis(store, job_id)
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    with TestClient(app):  # runs the lifespan (the startup checks) once
        pass
    yield app, job_id
    patch.undo()


# Rules JSON Schema cannot state: between fields (probe_per_class <= train_per_class, class names of
# the chosen dataset, a sweep's grid), the deployment's work caps, the CSV layout inside an upload,
# and an uploaded data set (the file is an .npz; a spec fits the data set it names).
# A schema-valid request may break one, and is then refused 422 naming the rule and its field. Any
# other refusal of schema-valid data is a failure.
# "chunk": a staged chunk's body must hash to the digest in its URL and be an .npz (no schema says so)
RULES_BEYOND_SCHEMA = {"value_error", "work_cap", "sweep_grid", "csv_layout", "dataset", "chunk"}
ACCEPTED_STATUSES = {401, 403, 404, 409, 429}


def assert_accepted_unless_beyond_schema(response) -> None:
    """Schemathesis' positive_data_acceptance, except for a 422 whose every problem is a rule beyond the schema."""
    if response.status_code < 400 or response.status_code >= 500 or response.status_code in ACCEPTED_STATUSES:
        return
    problems = response.json().get("detail") if response.status_code == 422 else None
    assert isinstance(problems, list) and problems and all(p.get("type") in RULES_BEYOND_SCHEMA for p in problems), (
        f"schema-valid request refused {response.status_code}: {response.text[:500]}"
    )


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def _fuzz(operation, mode, path_parameters, counts: Counter[str]):
    """The hypothesis test of one operation in one generation mode; each case it runs is counted in ``counts``."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @hypothesis.given(case=strategy)
    @hypothesis.settings(
        max_examples=CASES_PER_OPERATION_AND_MODE // (2 if mode is GenerationMode.POSITIVE else 1),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # report the first failure, unshrunk
    )
    def run(case) -> None:
        counts[operation.label] += 1
        # A negative case may be "the required Authorization header left out": adding the key
        # then would make it valid and its 200 a false "invalid data accepted". Such a case
        # goes without a key (401, a rejection); every other case carries the key.
        left_out = mode is GenerationMode.NEGATIVE and "authorization" not in {name.lower() for name in (case.headers or {})}
        response = case.call_and_validate(headers={} if left_out else AUTH, excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE:
            assert_accepted_unless_beyond_schema(response)

    return run


def test_schemathesis_finds_no_failure_in_1000_cases(fuzzed_app):
    app, job_id = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    counts: Counter[str] = Counter()
    failures: dict[str, str] = {}
    started = time.monotonic()
    for operation in _operations(schema):
        # Half the positive cases target the stored experiment, so its 200 answers are checked too.
        known = {"job_id": job_id} if "{job_id}" in operation.path else None
        for mode, path_parameters in ((GenerationMode.POSITIVE, None), (GenerationMode.POSITIVE, known), (GenerationMode.NEGATIVE, None)):
            run = _fuzz(operation, mode, path_parameters, counts)
            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                continue  # no case of this mode exists (say, a negative one where every string is valid)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - gathered, all reported at the end
                failures[f"{operation.label} [{mode.value}]"] = str(error)[:1500]
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    print(f"schemathesis: {total} cases over {len(counts)} operations in {elapsed:.0f} s")
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    assert total >= MIN_CASES
