"""The dashboard's pages over HTTP: server-rendered shells that carry no job data, their
assets served from the package (nothing from the network), bad input answered 4xx."""

from __future__ import annotations

import fnmatch
import html
import json
import re
import tomllib
from pathlib import Path

import pytest
from lesde_api.dashboard import routes as dashboard
from lesde_contract.specs.simulation import SimulationSpec

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "services" / "api" / "lesde_api"
JOB_ID = "0123456789abcdef"
PAGES = ["/", "/ui/submit", "/ui/compare", f"/ui/compare?a={JOB_ID}&b=fedcba9876543210", f"/ui/experiments/{JOB_ID}"]


def test_the_list_page_renders_the_filters_of_its_url(client):
    response = client.get("/", params={"status": "running", "kind": "import", "name": "noise <p>", "owner": "ada"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<option value="running" selected>' in page and '<option value="import" selected>' in page
    assert 'value="noise &lt;p&gt;"' in page and 'value="ada"' in page  # escaped, as every value from a user
    assert re.search(r'<script type="module" src="/ui/static/list\.js\?v=[0-9a-f]{12}">', page)


@pytest.mark.parametrize(("query", "field"), [({"status": "done"}, "status"), ({"kind": "cats"}, "kind"), ({"colour": "red"}, "colour")])
def test_a_bad_filter_is_a_422_naming_the_field(client, query, field):
    response = client.get("/", params=query)
    assert response.status_code == 422
    assert response.json()["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("kind", "api_kind"), [("experiments", "experiments"), ("imports", "experiments"), ("simulations", "simulations"), ("sweeps", "sweeps")]
)
def test_a_job_page_names_the_api_collection_its_script_reads(client, kind, api_kind):
    page = client.get(f"/ui/{kind}/{JOB_ID}").text
    assert f'data-api-kind="{api_kind}"' in page and f'data-job-id="{JOB_ID}"' in page
    assert f'href="/v1/{api_kind}/{JOB_ID}/events"' in page


def test_a_job_page_carries_nothing_stored(client, experiments):
    """Job data reaches the browser only through /v1, where keys and ownership are checked."""
    record = experiments.create(spec={"name": "confidential run"}, owner="ada", name="confidential run", total=1, unit="iterations")
    page = client.get(f"/ui/experiments/{record.id}").text
    assert "confidential" not in page and "ada" not in page


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (f"/ui/cats/{JOB_ID}", "no page for 'cats'"),
        ("/ui/experiments/NOT-AN-ID", "no experiment with id 'NOT-AN-ID'"),
        ("/ui/compare?a=bad!&b=fedcba9876543210", "a: 'bad!' is no experiment id"),
    ],
)
def test_an_unknown_page_or_malformed_id_is_a_404_page(client, path, says):
    response = client.get(path)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert says in html.unescape(response.text)


def test_the_submit_page_is_prefilled_with_the_example_and_the_spec_bounds(client):
    page = client.get("/ui/submit").text
    editor = re.search(r'<textarea id="spec-json"[^>]*>(.*?)</textarea>', page, re.S)
    example = (REPO / "examples" / "geomnist-small.json").read_text()
    assert json.loads(html.unescape(editor.group(1))) == json.loads(example)
    assert dashboard.EXAMPLE_SPEC.read_text() == example  # the packaged copy stays the example
    schema = SimulationSpec.model_json_schema()["properties"]
    for name in ("classes", "steps", "runs", "sigma", "step"):
        lower = schema[name].get("minimum", schema[name].get("exclusiveMinimum"))
        field = re.search(rf'<input id="sim-{name}"[^>]*>', page).group(0)
        assert f'min="{lower}"' in field and f'max="{schema[name]["maximum"]}"' in field
    assert '<select id="sim-mode" name="mode">' in page and "<option selected>sde</option>" in page


def test_every_asset_a_page_loads_is_served(client):
    assets: set[str] = set()
    for path in PAGES:
        assets |= set(re.findall(r'(?:src|href)="(/ui/static/[^"?]+)', client.get(path).text))
    static = PACKAGE / "dashboard" / "static"
    for module in static.glob("*.js"):  # and every module those import
        assets |= {f"/ui/static/{name}" for name in re.findall(r'from "\./([\w.-]+\.js)"', module.read_text())}
    assert {"/ui/static/dashboard.css", "/ui/static/list.js", "/ui/static/api.js", "/ui/static/metrics.js"} <= assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].split(";")[0] in ("text/css", "text/javascript", "application/javascript"), asset


def test_pages_run_only_their_own_scripts(client):
    for path in PAGES:
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' blob: data:" in policy, path


def test_the_dashboard_works_offline():
    """No CDN and no remote font: every page and asset refers to its own server only."""
    folder = PACKAGE / "dashboard"
    for path in [*folder.glob("templates/*.html"), *folder.glob("static/*")]:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text()), path


def test_the_package_ships_every_template_asset_and_example():
    data = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lesde_api"]
    for path in (PACKAGE / "dashboard").rglob("*"):
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
            relative = path.relative_to(PACKAGE).as_posix()
            assert any(fnmatch.fnmatch(relative, pattern) for pattern in data), f"{relative} is not in the package data"


def test_pages_stay_out_of_the_openapi_schema_and_event_streams_are_in_it(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/ui")]
    for path in ("/v1/experiments/{job_id}/events", "/v1/simulations/{job_id}/events", "/v1/sweeps/{sweep_id}/events"):
        answers = paths[path]["get"]["responses"]
        assert "text/event-stream" in answers["200"]["content"] and "404" in answers


def test_the_compare_page_has_room_for_the_spec_diff_the_differences_and_the_pairs(client):
    page = client.get("/ui/compare", params={"a": JOB_ID, "b": "fedcba9876543210"}).text
    assert '<table id="spec-diff"' in page and re.search(r'<p id="specs-identical"[^>]*hidden>specs identical</p>', page)
    assert all(f">{heading}</th>" in page for heading in ("B − A", "B / A"))
    assert 'id="head-a"' in page and 'id="head-b"' in page and 'id="compare-figures"' in page


def test_the_nav_has_short_labels_for_a_phone(client):
    """On a phone the .wide words are dropped (dashboard.css) so the bar stays one line; the full names stay for screen readers."""
    page = client.get("/").text
    assert 'aria-label="LE-SDE Lab">LE-SDE<span class="wide"> Lab</span>' in page
    assert 'aria-label="API docs">API<span class="wide"> docs</span>' in page
    css = (PACKAGE / "dashboard" / "static" / "dashboard.css").read_text()
    phone = css.split("@media (max-width: 600px) {", 1)[1].split("@media", 1)[0]
    assert ".wide { display: none; }" in phone
