"""The dashboard's pages: the job list, a job, the submit forms and a comparison.

Each page is a server-rendered shell (see :mod:`lesde_api.dashboard`); none reads the
store. Pages are left out of the OpenAPI schema: they are HTML for people, not API.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from lesde_contract import object_keys
from lesde_contract.records import JobStatus

from lesde_api.dashboard.simulation_form import simulation_fields

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_PATH = "/ui/static"
EXAMPLE_SPEC = HERE / "examples" / "geomnist-small.json"  # the repository's examples/geomnist-small.json (a test keeps them equal)
#: a page's kind -> the API collection that serves it (an import is an experiment made from a CSV)
API_COLLECTIONS = {"experiments": "experiments", "imports": "experiments", "simulations": "simulations", "sweeps": "sweeps"}
SINGULAR = {"experiments": "experiment", "imports": "import", "simulations": "simulation", "sweeps": "sweep"}
ListKind = Literal["all", "experiment", "import", "simulation", "sweep"]

router = APIRouter(include_in_schema=False)
# Autoescaped (names and ids are the users'), and a misspelt variable fails instead of rendering empty.
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined)
)


@cache
def asset_version() -> str:
    """A digest of the static files, appended to their URLs so a browser never runs stale assets."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


# Pages load only this server's scripts, styles and images (figures arrive as blobs): no
# inline script can run, and nothing is fetched from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _page(request: Request, template: str, *, status_code: int = 200, **context: object) -> HTMLResponse:
    context |= {"static": STATIC_PATH, "version": asset_version()}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _not_found(request: Request, message: str) -> HTMLResponse:
    return _page(request, "not_found.html", status_code=404, title="Not found", page="not-found", message=message)


@router.get("/", response_class=HTMLResponse)
def job_list(
    request: Request,
    status: JobStatus | None = None,
    kind: ListKind = "all",
    name: Annotated[str, Query(max_length=200, description="Part of the name or id.")] = "",
    owner: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """Experiments, imports, simulations and sweeps, newest first, with live progress."""
    filters = {"status": status.value if status else "", "kind": kind, "name": name, "owner": owner}
    return _page(request, "jobs.html", title="Jobs", page="list", filters=filters, statuses=[s.value for s in JobStatus])


@router.get("/ui/submit", response_class=HTMLResponse)
def submit(request: Request) -> HTMLResponse:
    """A JSON editor for an experiment spec (prefilled with an example), a simulation form and a CSV import."""
    return _page(request, "submit.html", title="Submit", page="submit", example=EXAMPLE_SPEC.read_text(), fields=simulation_fields())


@router.get("/ui/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    a: Annotated[str, Query(max_length=40)] = "",
    b: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Two experiments side by side: their numbers in one table, their figures in pairs."""
    for field, job_id in (("a", a), ("b", b)):
        if job_id and not object_keys.ID_PATTERN.match(job_id):
            return _not_found(request, f"{field}: {job_id!r} is no experiment id (8 to 40 lower-case letters and digits)")
    return _page(request, "compare.html", title="Compare", page="compare", a=a, b=b)


@router.get("/ui/{kind}/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, kind: str, job_id: str) -> HTMLResponse:
    """One job: spec, live progress, summary numbers, figures, downloads and actions."""
    if kind not in API_COLLECTIONS:
        return _not_found(request, f"no page for {kind!r}; pages exist for {', '.join(API_COLLECTIONS)}")
    if not object_keys.ID_PATTERN.match(job_id):
        return _not_found(request, f"no {SINGULAR[kind]} with id {job_id!r}")
    return _page(
        request,
        "job.html",
        title=f"{SINGULAR[kind].capitalize()} {job_id}",
        page="job",
        kind=kind,
        singular=SINGULAR[kind],
        api_kind=API_COLLECTIONS[kind],
        job_id=job_id,
    )
