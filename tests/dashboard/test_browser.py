"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, on
the embedded stack (API, trainer, analyzer and reaper as real processes; local store and
filesystem broker, as ``lesde up`` serves it).

One scenario, in the order a researcher would go: the list shows a submitted experiment;
its page, once analysed, shows every figure (decoded: ``naturalWidth > 0``); a tiny spec
submitted through the form has its progress bar moved to done by the page's event
stream; another experiment is cancelled from its page; a simulation is submitted through
its form, another deleted from its page; a CSV is imported through its form; two
experiments are compared; the list shows them all, one running, and its filters narrow
it. A second test serves the gateway alone with API keys: the page asks for a key once
and sends it with every request, the event stream included. Screenshots go to
``tests/dashboard/artifacts/`` (and the list to ``docs/dashboard.png`` when
``LESDE_WRITE_DOCS_SCREENSHOT=1``). Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lesde.client import LesdeApiError, LesdeClient
from lesde.jobs import JobRepository
from lesde.records import JobStatus
from lesde.specs.analysis import FIGURE_NAMES
from lesde.storage.local import LocalStore
from lesde_launcher.stack import EmbeddedStack, free_port
from tests.fixtures.authors_csv import K, authors_csv
from tests.fixtures.sweeps import FixtureChild, write_sweep

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS_SCREENSHOT = REPO / "docs" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
KEYS = {"ada": "ada-key-0123456789", "bob": "bob-key-0123456789"}
TRAINING_TIMEOUT_MS = 240_000  # training and analysing a tiny experiment on a busy 2-core machine
PAGE_TIMEOUT_MS = 60_000

# GEOMNIST, LeNet, 2 trials x 300 iterations, chunks of 100: ~10 s of training, ~10 s of analysis here.
TINY = {
    "dataset": {"name": "geomnist", "train_per_class": 20, "val_per_class": 20},
    "model": {"name": "lenet"},
    "training": {"trials": 2, "iterations": 300, "eval_every": 100, "probe_every": 50, "probe_per_class": 5, "features_every": 100},
}
LONG = {**TINY, "name": "to be cancelled", "training": {**TINY["training"], "iterations": 100_000, "eval_every": 1000, "probe_every": 1000, "features_every": 0}}

# Every value the job page's progress bar takes, recorded as the page sets it.
RECORD_PROGRESS = """
window.__fractions = [];
new MutationObserver((records) => {
  for (const record of records) if (record.target.id === "progress") window.__fractions.push(Number(record.target.dataset.fraction));
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-fraction"] });
"""
FIGURES_SHOWN = """(count) => {
  const images = [...document.querySelectorAll("#figures img")];
  return images.length === count && images.every((image) => image.complete && image.naturalWidth > 0);
}"""


def system_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (as root); else the test fails saying why."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): apt-get install chromium", pytrace=False)
    for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if command[1] == "install" and done.returncode == 0:
            break
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get install chromium did not provide {CHROMIUM}: {done.stderr[-2000:]}", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[EmbeddedStack]:
    overrides = {"LESDE_CHUNK_ITERATIONS": "100", "LESDE_CPU_THREADS": "1"}
    stack = EmbeddedStack(state_dir=tmp_path_factory.mktemp("dashboard-stack"), port=free_port(), overrides=overrides)
    stack.start(timeout=120)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def keyed_gateway(tmp_path_factory) -> Iterator[tuple[str, JobRepository]]:
    """The gateway alone (uvicorn; no worker is needed) with ada's and bob's API keys, and its store."""
    state = tmp_path_factory.mktemp("keyed-gateway")
    (state / "broker").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "LESDE_STORE": "local",
        "LESDE_LOCAL_STORE_DIR": str(state / "store"),
        "LESDE_BROKER_URL": "filesystem://",
        "LESDE_BROKER_DIR": str(state / "broker"),
        "LESDE_API_KEYS": ",".join(f"{owner}={key}" for owner, key in KEYS.items()),
        "LESDE_BIND_HOST": "127.0.0.1",
    }
    command = [sys.executable, "-m", "uvicorn", "lesde_api.main:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with (state / "api.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"the gateway exited at start; see {state / 'api.log'}"
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the gateway did not answer within 60 s"
                    time.sleep(0.2)
            yield url, JobRepository(LocalStore(state / "store"), "experiment")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: .venv/bin/pip install -r requirements-dev.txt", pytrace=False)
    executable = system_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(RECORD_PROGRESS)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    uncaught: list[str] = []
    page.on("pageerror", lambda error: uncaught.append(str(error)))
    # Console errors other than the API's 4xx answers the pages expect (a 401 before the key, a 404 shown as such).
    page.on("console", lambda message: message.type == "error" and "Failed to load resource" not in message.text and uncaught.append(message.text))
    yield page
    context.close()
    assert not uncaught, f"the dashboard's script failed: {uncaught}"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_analysed(client: LesdeClient, job_id: str, *, kind: str = "experiment") -> dict:
    deadline = time.monotonic() + TRAINING_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        record = client.get(job_id, kind=kind)
        if record["status"] in ("failed", "cancelled") or record["analysis"] == "failed":
            raise AssertionError(f"{kind} {job_id} did not succeed: {record}")
        if record["analysis"] == "succeeded":
            return record
        time.sleep(0.5)
    raise AssertionError(f"{kind} {job_id} was not analysed within {TRAINING_TIMEOUT_MS / 1000:.0f} s")


def test_a_researcher_in_the_browser(stack, page, tmp_path):
    url = stack.url
    with LesdeClient(url) as client:
        first = client.submit_experiment({**TINY, "name": "tiny geomnist"})

        # The list shows it at once, with its status and a progress bar.
        page.goto(url + "/")
        row = page.locator(f'#jobs tbody tr[data-id="{first["id"]}"]')
        row.wait_for()
        assert "tiny geomnist" in row.inner_text() and row.locator(".bar").count() == 1

        # Once analysed, its page shows every figure, decoded, and the summary numbers.
        wait_analysed(client, first["id"])
        page.goto(f"{url}/ui/experiments/{first['id']}")
        page.wait_for_function(FIGURES_SHOWN, arg=len(FIGURE_NAMES), timeout=PAGE_TIMEOUT_MS)
        summary = page.locator("#summary").inner_text()
        assert "validation accuracy" in summary and "separability verdict" in summary and "nrmse, L-model" in summary
        assert page.locator("#downloads a").count() == 5
        page.click("#artifacts-panel summary")
        page.locator("#artifacts a", has_text="chunks/sampled/").first.wait_for()
        page.click("#logs-panel summary")  # the workers' own lines of this job: training, then analysis
        page.wait_for_function("() => /lesde\\.analyze_experiment/.test(document.querySelector('#logs').textContent)", timeout=PAGE_TIMEOUT_MS)
        assert "lesde.train_experiment" in page.locator("#logs").inner_text()
        screenshot(page, "experiment")

        # A tiny spec through the form: its page follows the event stream until done.
        page.goto(url + "/ui/submit")
        assert json.loads(page.input_value("#spec-json")) == json.loads((REPO / "examples" / "geomnist-small.json").read_text())
        screenshot(page, "submit")
        page.fill("#spec-json", json.dumps({**TINY, "name": "from the form", "training": {**TINY["training"], "learning_rate": 0.05}}, indent=2))
        page.click("#experiment-submit")
        page.wait_for_url(re.compile(r"/ui/experiments/[a-z0-9]+$"))
        submitted = page.url.rsplit("/", 1)[-1]
        page.wait_for_function(FIGURES_SHOWN, arg=len(FIGURE_NAMES), timeout=TRAINING_TIMEOUT_MS)
        seen = page.evaluate("() => ({fractions: window.__fractions, events: Number(document.body.dataset.events)})")
        assert page.get_attribute("#status", "data-status") == "succeeded"
        assert page.get_attribute("#progress", "aria-valuenow") == "100"
        assert min(seen["fractions"]) < 1 and seen["fractions"][-1] == 1, seen  # it moved, and ended full
        assert seen["events"] >= 3, seen  # queued or running, succeeded, analysis...: each from an event
        assert client.get(submitted)["name"] == "from the form"
        screenshot(page, "submitted")

        # Another experiment, cancelled from its page.
        doomed = client.submit_experiment(LONG)
        page.goto(f"{url}/ui/experiments/{doomed['id']}")
        page.locator("#cancel").wait_for(state="visible")
        page.click("#cancel")
        page.wait_for_function("() => document.getElementById('status').dataset.status === 'cancelled'", timeout=TRAINING_TIMEOUT_MS)
        assert client.get(doomed["id"])["status"] == "cancelled"
        page.locator("#delete").wait_for(state="visible")
        screenshot(page, "cancelled")

        # A simulation deleted from its page (confirmed in the dialog) is gone.
        unwanted = client.submit_simulation({"steps": 100, "runs": 10})
        wait_analysed(client, unwanted["id"], kind="simulation")
        page.goto(f"{url}/ui/simulations/{unwanted['id']}")
        page.locator("#delete").wait_for(state="visible")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#delete")
        page.wait_for_url(url + "/")
        with pytest.raises(LesdeApiError) as gone:
            client.get(unwanted["id"], kind="simulation")
        assert gone.value.status == 404

        # A simulation through its form.
        page.goto(url + "/ui/submit")
        page.fill("#sim-steps", "200")
        page.fill("#sim-runs", "20")
        page.click("#simulation-submit")
        page.wait_for_url(re.compile(r"/ui/simulations/[a-z0-9]+$"))
        page.wait_for_function("() => document.getElementById('status').dataset.status === 'succeeded'", timeout=TRAINING_TIMEOUT_MS)
        page.wait_for_function("() => { const i = [...document.querySelectorAll('#figures img')]; return i.length > 0 && i.every((x) => x.naturalWidth > 0); }")
        screenshot(page, "simulation")

        # A CSV in the authors' layout through the import form: its page says it is an import.
        upload = tmp_path / "authors-run.csv"
        upload.write_text(authors_csv(trials=2, iterations=100))
        page.goto(url + "/ui/submit")
        page.set_input_files("#import-file", str(upload))
        page.fill("#import-classes", ",".join(f"class{k}" for k in range(K)))
        page.fill("#import-name", "imported run")
        page.click("#import-submit")
        page.wait_for_url(re.compile(r"/ui/imports/[a-z0-9]+$"))
        page.wait_for_function("() => document.getElementById('status').dataset.status === 'succeeded'", timeout=TRAINING_TIMEOUT_MS)
        assert page.inner_text("h1 .muted") == "import"

        # The two experiments side by side.
        page.goto(f"{url}/ui/compare?a={first['id']}&b={submitted}")
        page.locator("#compare-table").wait_for(state="visible")
        page.wait_for_function(
            "(count) => { const i = [...document.querySelectorAll('#compare-figures img')]; return i.length === count && i.every((x) => x.naturalWidth > 0); }",
            arg=2 * len(FIGURE_NAMES),
        )
        assert "tiny geomnist" in page.inner_text("#head-a") and "from the form" in page.inner_text("#head-b")
        screenshot(page, "compare")

        # The list: every job with its state, one of them running; the filters narrow it.
        # (20,000 iterations: a quarter done when the list is shot, the rest takes seconds more here)
        running = client.submit_experiment({**LONG, "name": "a longer run", "training": {**LONG["training"], "iterations": 20_000}})
        deadline = time.monotonic() + TRAINING_TIMEOUT_MS / 1000
        while client.get(running["id"])["progress"]["done"] < 5_000 and time.monotonic() < deadline:
            time.sleep(0.2)
        page.goto(url + "/")
        page.wait_for_function("() => document.querySelectorAll('#jobs tbody tr').length === 6")
        states = page.eval_on_selector_all("#jobs tbody tr", "rows => rows.map((row) => [row.dataset.kind, row.dataset.status])")
        assert states[0] in (["experiment", "running"], ["experiment", "succeeded"])  # (done already on a fast machine)
        assert states[1:] == [
            ["import", "succeeded"], ["simulation", "succeeded"], ["experiment", "cancelled"], ["experiment", "succeeded"], ["experiment", "succeeded"],
        ]
        path = screenshot(page, "list", full_page=False)
        if os.environ.get("LESDE_WRITE_DOCS_SCREENSHOT") == "1":
            shutil.copyfile(path, DOCS_SCREENSHOT)
        client.cancel(running["id"])  # stops within a chunk: the stack then stops at once
        page.select_option("select[name=kind]", "simulation")
        page.wait_for_function("() => [...document.querySelectorAll('#jobs tbody tr')].map((row) => row.dataset.kind).join() === 'simulation'")
        assert "kind=simulation" in page.url
        page.select_option("select[name=kind]", "all")
        page.fill("input[name=name]", "from the form")
        page.wait_for_function(f"() => [...document.querySelectorAll('#jobs tbody tr')].map((row) => row.dataset.id).join() === '{submitted}'")

    # A sweep's page: its grid points with their states, and a retry for the failed one. (Written
    # straight into the stack's store, finished, so no worker takes it up.)
    sweep_id, children = write_sweep(
        LocalStore(stack.state_dir / "store"),
        [FixtureChild({"dataset.label_noise": 0.0}), FixtureChild({"dataset.label_noise": 0.2}, status="failed")],
        axes=["dataset.label_noise"],
        name="label noise",
    )
    page.goto(f"{url}/ui/sweeps/{sweep_id}")
    page.wait_for_function("() => document.body.dataset.live === 'ended'")
    assert page.locator("#children tbody tr").count() == 2 and page.is_visible("#retry")
    assert page.get_attribute("#status", "data-status") == "failed"
    assert page.get_attribute(f'#children tbody tr[data-id="{children[1]}"] .badge', "data-status") == "failed"
    screenshot(page, "sweep")


def test_a_server_with_api_keys_asks_for_one_once_and_sends_it_everywhere(keyed_gateway, page):
    url, experiments = keyed_gateway
    mine = experiments.create(spec={"name": "ada's run"}, owner="ada", name="ada's run", total=300, unit="iterations")
    experiments.mark_finished(mine.id, JobStatus.cancelled)
    theirs = experiments.create(spec={"name": "bob's run"}, owner="bob", name="bob's run", total=300, unit="iterations")

    page.goto(url + "/")  # three listings meet a 401 at once: one question
    page.locator("#api-key").wait_for(state="visible")
    assert "needs an API key" in page.inner_text("#api-key-message")
    screenshot(page, "api-key", full_page=False)
    page.fill("#api-key input[name=key]", KEYS["ada"])
    page.click("#api-key button[type=submit]")
    page.locator(f'#jobs tbody tr[data-id="{mine.id}"]').wait_for()
    assert page.locator("#jobs tbody tr").count() == 1 and page.is_hidden("#api-key")  # bob's run is not ada's to see

    page.goto(f"{url}/ui/experiments/{mine.id}")  # the stored key: no question, and the event stream carries it
    page.wait_for_function("() => document.body.dataset.live === 'ended' && Number(document.body.dataset.events) >= 1")
    assert page.is_hidden("#api-key") and page.get_attribute("#status", "data-status") == "cancelled"
    page.goto(f"{url}/ui/experiments/{theirs.id}")
    page.wait_for_function("() => !document.getElementById('job-message').hidden")
    assert f"No experiment with id {theirs.id}" in page.inner_text("#job-message")
