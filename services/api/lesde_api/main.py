"""The LE-SDE Lab HTTP gateway. OpenAPI at ``/docs``.

Run: ``uvicorn lesde_api.main:app``. This process never imports torch or scipy: work
is sent to the trainer and analyzer workers by task name.

Every request passes, outermost first: :class:`~lesde_api.auth.ApiKeyAuth` (401 on ``/v1``
without a valid key, when keys are configured), :class:`~lesde_api.body_limit.BodyLimit`
(413), :class:`~lesde_api.finite_json.FiniteJson` (422 for NaN and infinities); then the
route, whose router checks that an id belongs to the caller (:mod:`lesde_api.ownership`)
and whose query parameters are all declared (:mod:`lesde_api.query_guard`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from lesde_contract.records import JobKind
from lesde_runtime import purge
from lesde_runtime.settings import ApiSettings, AuthSettings, LimitSettings

from lesde_api.api_keys import KeyRing
from lesde_api.auth import ApiKeyAuth
from lesde_api.bind_rule import check_open_bind, open_server_notice, watch_bound_sockets
from lesde_api.body_limit import BodyCap, BodyLimit
from lesde_api.dashboard import install_dashboard
from lesde_api.docs_pages import install_docs_pages
from lesde_api.errors import install_error_handlers
from lesde_api.finite_json import FiniteJson
from lesde_api.observability import install_observability
from lesde_api.openapi_responses import bearer_dependencies, error_responses
from lesde_api.openapi_schema import install_schema_corrections
from lesde_api.operations.event_hub import EventHub
from lesde_api.operations.run_imports import MAX_CHUNK_BYTES
from lesde_api.ownership import owned_by_caller
from lesde_api.query_guard import reject_unknown_query
from lesde_api.routes import datasets, events, experiments, exports, health, imports, logs, simulations, sweeps
from lesde_api.routes.datasets import DATASET_PATH
from lesde_api.routes.imports import CHUNKS_PATH, IMPORT_PATH, MULTIPART_SLACK

log = logging.getLogger("lesde_api")

DESCRIPTION = """
Submit multi-trial training experiments, sweeps over their fields and LE-SDE simulations, poll their status,
and fetch the analysis (alpha/beta estimates, tail indices, separability, neural
collapse, LE-ODE imitation) as JSON and PNG.

When the server has API keys, every `/v1` route needs `Authorization: Bearer <key>`; each job
belongs to its key's owner, and another owner's id answers 404 as a missing one does.
"""


def _startup_checks(auth: AuthSettings, keyring: KeyRing):  # noqa: ANN202 - a lifespan
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        check_open_bind(host=auth.bind_host, keys_configured=keyring.configured, allow_anonymous=auth.allow_anonymous)
        # LESDE_BIND_HOST is what the launcher says; the sockets are what uvicorn did (checked once they exist)
        watch_bound_sockets(keys_configured=keyring.configured, allow_anonymous=auth.allow_anonymous)
        if not keyring.configured:
            log.warning(open_server_notice(f"the gateway on {auth.bind_host}"))
        purge.timer.start()  # deletes schedule the purge of what late writers left (lesde_runtime.purge)
        try:
            yield
        finally:
            purge.timer.stop()

    return lifespan


def create_app() -> FastAPI:
    """The gateway, configured from the environment (a malformed key source refuses to load)."""
    auth, api, limits = AuthSettings(), ApiSettings(), LimitSettings()
    keyring = KeyRing.from_settings(auth)
    app = FastAPI(
        title="LE-SDE Lab",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_startup_checks(auth, keyring),
        dependencies=[Depends(reject_unknown_query)],
        docs_url=None,  # served from local assets below, never a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.state.event_hub = EventHub(max_total=api.max_event_streams, max_per_owner=api.max_event_streams_per_owner)
    install_docs_pages(app, title="LE-SDE Lab")
    app.include_router(health.router)
    # Every /v1 route documents its error answers, and the Bearer scheme when keys are configured.
    bearer = bearer_dependencies(keys_configured=keyring.configured)
    errors = error_responses(keys_configured=keyring.configured)

    def owned(kind: JobKind, id_param: str) -> list:
        return [*bearer, Depends(owned_by_caller(kind, id_param))]

    # Each router that serves a kind's ids answers another owner's id as missing, on every route it has.
    app.include_router(experiments.router, dependencies=owned("experiment", "job_id"), responses=errors)
    app.include_router(exports.router, dependencies=owned("experiment", "job_id"), responses=errors)
    app.include_router(imports.router, dependencies=bearer, responses=errors)
    app.include_router(datasets.router, dependencies=owned("dataset", "job_id"), responses=errors)
    app.include_router(simulations.router, dependencies=owned("simulation", "job_id"), responses=errors)
    app.include_router(sweeps.router, dependencies=owned("sweep", "sweep_id"), responses=errors)
    app.include_router(events.experiment_router, dependencies=owned("experiment", "job_id"), responses=errors)
    app.include_router(events.simulation_router, dependencies=owned("simulation", "job_id"), responses=errors)
    app.include_router(events.sweep_router, dependencies=owned("sweep", "sweep_id"), responses=errors)
    app.include_router(logs.experiment_router, dependencies=owned("experiment", "job_id"), responses=errors)
    app.include_router(logs.simulation_router, dependencies=owned("simulation", "job_id"), responses=errors)
    app.include_router(logs.sweep_router, dependencies=owned("sweep", "sweep_id"), responses=errors)
    install_schema_corrections(app)
    install_dashboard(app)  # the pages at / and /ui (no /v1 data of their own: their script calls the API)
    # add_middleware puts each one outside those added before it.
    app.add_middleware(FiniteJson)
    upload_cap = BodyCap(limits.max_import_bytes + MULTIPART_SLACK, "LESDE_MAX_IMPORT_BYTES")
    chunk_cap = BodyCap(min(MAX_CHUNK_BYTES, limits.max_import_bytes), "LESDE_MAX_IMPORT_BYTES, and 256 MiB per chunk")
    app.add_middleware(
        BodyLimit,
        default=BodyCap(api.max_json_body_bytes, "LESDE_MAX_JSON_BODY_BYTES"),
        caps_by_path={IMPORT_PATH: upload_cap, DATASET_PATH: upload_cap},
        caps_by_prefix={CHUNKS_PATH: chunk_cap},
    )
    app.add_middleware(ApiKeyAuth, keyring=keyring, default_owner=api.default_owner)
    install_observability(app)  # last: its metrics middleware is the outermost, counting 401s and 413s too
    return app


app = create_app()
