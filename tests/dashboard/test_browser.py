"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, on
the embedded stack (API, trainer, analyzer and reaper as real processes; local store and
filesystem broker, as ``lesde up`` serves it).

One scenario, in the order a researcher would go: the list shows a submitted experiment;
its page, once analysed, shows every figure (decoded: ``naturalWidth > 0``); a tiny spec
submitted through the form has its progress bar moved to done by the page's event
stream; another experiment is cancelled from its page; a simulation is submitted through
its form, another deleted from its page; a CSV is imported through its form; two
experiments are compared (how their specs differ, the numbers' differences, figure pairs
asked for on shared axes, every figure with its SVG and PDF links); the list shows them
all, one running, and its filters narrow it; then every page at phone and laptop width
(390 x 844, 1,366 x 768) fits the screen without scrolling sideways. A second test serves
the gateway alone with API keys: the page asks for a key once and sends it with every
request, the event stream included; a third imports the pages' pure modules in the browser
(spec diff, differences, names, the precision rule). Screenshots go to
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
from lesde_contract.records import JobStatus
from lesde_contract.specs.analysis import FIGURE_NAMES
from lesde_launcher.stack import EmbeddedStack, free_port
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore

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
LONG = {
    **TINY,
    "name": "to be cancelled",
    "training": {**TINY["training"], "iterations": 100_000, "eval_every": 1000, "probe_every": 1000, "features_every": 0},
}

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
PAIRS_SHOWN = """(count) => {
  const images = [...document.querySelectorAll("#compare-figures img")];
  const pairs = [...document.querySelectorAll("#compare-figures .pair")];
  return images.length === count && images.every((x) => x.naturalWidth > 0) && pairs.every((pair) => pair.dataset.scales);
}"""
# How a page sits in the window: its scroll width, what sticks out past the right edge (in
# main or the top bar; an element inside a box that scrolls or clips is that box's business),
# how many lines the nav takes and how much of it is hidden, and where each figure starts.
LAYOUT = """() => {
  const width = window.innerWidth;
  const clipped = (node) => {
    for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) if (getComputedStyle(up).overflowX !== "visible") return true;
    return false;
  };
  const name = (node) => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") + [...node.classList].map((c) => "." + c).join("");
  const past = [...document.querySelectorAll("main *, .topbar *")]
    .filter((node) => { const box = node.getBoundingClientRect(); return box.width > 0 && box.right > width + 0.5 && !clipped(node); })
    .map((node) => `${name(node)} ends at ${Math.round(node.getBoundingClientRect().right)}`);
  const nav = document.querySelector(".topbar nav");
  const figures = [...document.querySelectorAll("#figures figure, #compare-figures figure")].map((figure) => {
    const img = figure.querySelector("img");
    return { left: Math.round(figure.getBoundingClientRect().left), shown: img.getBoundingClientRect().width, natural: img.naturalWidth, room: figure.clientWidth - 20 };
  });
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: width, past: past.slice(0, 10),
    navLines: new Set([...nav.querySelectorAll("a")].map((a) => Math.round(a.getBoundingClientRect().top))).size,
    navHidden: nav.scrollWidth - nav.clientWidth, figures,
  };
}"""
SIZES = [(390, 844), (1366, 768)]


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
    page.on(
        "console",
        lambda message: message.type == "error" and "Failed to load resource" not in message.text and uncaught.append(message.text),
    )
    yield page
    context.close()
    assert not uncaught, f"the dashboard's script failed: {uncaught}"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_fits(page, name: str, width: int) -> dict:
    """The page is no wider than the window, nothing in it sticks out, the nav is one line; shot as <name>-<width>.png."""
    screenshot(page, f"{name}-{width}")
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["innerWidth"], (name, width, layout)
    assert not layout["past"], (name, width, layout["past"])
    assert layout["navLines"] == 1 and layout["navHidden"] <= 0, (name, width, layout)
    return layout


def figure_links(page, root: str) -> list[dict]:
    """Each figure under root: its name and the hrefs of its PNG, SVG and PDF links (and whether they are keyed downloads)."""
    return page.eval_on_selector_all(
        f"{root} figure",
        """figures => figures.map((figure) => ({
          name: figure.querySelector("img").dataset.name,
          side: figure.querySelector("img").dataset.side || "",
          links: Object.fromEntries([...figure.querySelectorAll("a[data-format]")].map((a) => [a.dataset.format, a.getAttribute("href")])),
          keyed: [...figure.querySelectorAll("a[data-format]")].every((a) => a.hasAttribute("data-download")),
        }))""",
    )


def assert_format_links(figures: list[dict], base: str) -> None:
    """Every figure links to its PNG, SVG and PDF under base (/v1/{kind}/{id}), as keyed downloads."""
    assert figures
    for figure in figures:
        assert figure["links"] == {fmt: f"{base}/figures/{figure['name']}.{fmt}" for fmt in ("png", "svg", "pdf")}, figure
        assert figure["keyed"], figure


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
        assert_format_links(figure_links(page, "#figures"), f"/v1/experiments/{first['id']}")
        page.click("#artifacts-panel summary")
        page.locator("#artifacts a", has_text="chunks/sampled/").first.wait_for()
        page.click("#logs-panel summary")  # the workers' own lines of this job: training, then analysis
        page.wait_for_function(
            "() => /lesde\\.analyze_experiment/.test(document.querySelector('#logs').textContent)", timeout=PAGE_TIMEOUT_MS
        )
        assert "lesde.train_experiment" in page.locator("#logs").inner_text()
        screenshot(page, "experiment")

        # A tiny spec through the form: its page follows the event stream until done.
        page.goto(url + "/ui/submit")
        assert json.loads(page.input_value("#spec-json")) == json.loads((REPO / "examples" / "geomnist-small.json").read_text())
        screenshot(page, "submit")
        page.fill(
            "#spec-json", json.dumps({**TINY, "name": "from the form", "training": {**TINY["training"], "learning_rate": 0.05}}, indent=2)
        )
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
        simulation = page.url.rsplit("/", 1)[-1]
        page.wait_for_function("() => document.getElementById('status').dataset.status === 'succeeded'", timeout=TRAINING_TIMEOUT_MS)
        page.wait_for_function(
            "() => { const i = [...document.querySelectorAll('#figures img')]; return i.length > 0 && i.every((x) => x.naturalWidth > 0); }"
        )
        assert page.inner_text("#job-name") == "sde, I-model, K = 2"  # unnamed: called after its spec, as in the list
        page.locator("#summary-panel").wait_for(state="visible")
        summary = page.inner_text("#summary")
        # A separable fraction says what it is a fraction of; the ETF distance of K = 2 means is rounding noise, shown as 0.
        assert (
            "Fraction of the 20 simulated runs whose classes are all pairwise linearly separable" in summary
            and "at the final time t = 2" in summary
        )
        etf = page.locator("#summary tr", has_text="ETF distance").locator("td").inner_text()
        assert re.match(r"0( \(below 1e-12\))?\n", etf) and "0 by construction" in etf, etf
        assert_format_links(figure_links(page, "#figures"), f"/v1/simulations/{simulation}")
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

        # The two experiments side by side: each figure asked for on axes shared with the other's.
        figure_requests: list[str] = []

        def note_figure_request(request) -> None:
            if "/figures/" in request.url:
                figure_requests.append(request.url.removeprefix(url))

        page.on("request", note_figure_request)
        page.goto(f"{url}/ui/compare?a={first['id']}&b={submitted}")
        page.locator("#compare-table").wait_for(state="visible")
        page.wait_for_function(PAIRS_SHOWN, arg=2 * len(FIGURE_NAMES))
        page.remove_listener("request", note_figure_request)
        assert "tiny geomnist" in page.inner_text("#head-a") and "from the form" in page.inner_text("#head-b")
        for name in FIGURE_NAMES:
            for this, other in ((first["id"], submitted), (submitted, first["id"])):
                assert f"/v1/experiments/{this}/figures/{name}.png?share_axes_with={other}" in figure_requests, (name, figure_requests)
        # A server without share_axes_with yet (422) draws each alone: the pair says so.
        notes = page.eval_on_selector_all(
            "#compare-figures .pair",
            "pairs => pairs.map((p) => [p.dataset.scales, p.querySelector('.scales').hidden, p.querySelector('.scales').textContent])",
        )
        for scale, hidden, text in notes:
            assert (scale, hidden) in (("shared", True), ("separate", False)) and text.startswith("separate scales"), notes
        links = figure_links(page, "#compare-figures")
        assert_format_links([f for f in links if f["side"] == "A"], f"/v1/experiments/{first['id']}")
        assert_format_links([f for f in links if f["side"] == "B"], f"/v1/experiments/{submitted}")
        # Only the spec fields that differ, as dotted paths (defaults filled in on both sides).
        spec_a = client.get(first["id"])["spec"]
        fields = page.eval_on_selector_all(
            "#spec-diff tbody tr", "rows => rows.map((r) => [r.dataset.path, ...[...r.cells].slice(1).map((c) => c.innerText)])"
        )
        assert fields == [
            ["name", '"tiny geomnist"', '"from the form"'],
            ["training.learning_rate", json.dumps(spec_a["training"]["learning_rate"]), "0.05"],
        ], fields
        assert page.is_hidden("#specs-identical")
        # The numbers with their difference and ratio; text has neither.
        trials = page.locator("#compare-table tbody tr", has_text="trials").first.locator("td").all_inner_texts()
        assert trials == ["2", "2", "0", "1×"], trials
        classes = page.locator("#compare-table tbody tr", has_text="classes").first.locator("td").all_inner_texts()
        assert classes[2:] == ["–", "–"], classes
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
            ["import", "succeeded"],
            ["simulation", "succeeded"],
            ["experiment", "cancelled"],
            ["experiment", "succeeded"],
            ["experiment", "succeeded"],
        ]
        assert page.inner_text(f'#jobs tbody tr[data-id="{simulation}"] td.name a') == "sde, I-model, K = 2"  # as on its page
        path = screenshot(page, "list", full_page=False)
        if os.environ.get("LESDE_WRITE_DOCS_SCREENSHOT") == "1":
            shutil.copyfile(path, DOCS_SCREENSHOT)
        client.cancel(running["id"])  # stops within a chunk: the stack then stops at once
        page.select_option("select[name=kind]", "simulation")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#jobs tbody tr')].map((row) => row.dataset.kind).join() === 'simulation'"
        )
        assert "kind=simulation" in page.url
        page.select_option("select[name=kind]", "all")
        page.fill("input[name=name]", "from the form")
        page.wait_for_function(
            f"() => [...document.querySelectorAll('#jobs tbody tr')].map((row) => row.dataset.id).join() === '{submitted}'"
        )

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

    # Every page at a phone's width and a laptop's: nothing to scroll sideways, a one-line nav,
    # and on a job's page one figure per row at its own size (up to the panel's width).
    pages = {
        "list": ("/", "() => document.querySelectorAll('#jobs tbody tr').length >= 7"),
        "job": (f"/ui/experiments/{first['id']}", f"() => ({FIGURES_SHOWN})({len(FIGURE_NAMES)})"),
        "submit": ("/ui/submit", "() => true"),
        "compare": (f"/ui/compare?a={first['id']}&b={submitted}", f"() => ({PAIRS_SHOWN})({2 * len(FIGURE_NAMES)})"),
        "simulation": (
            f"/ui/simulations/{simulation}",
            "() => { const i = [...document.querySelectorAll('#figures img')]; return i.length > 0 && i.every((x) => x.naturalWidth > 0); }",
        ),
        "sweep": (f"/ui/sweeps/{sweep_id}", "() => document.body.dataset.live === 'ended'"),
    }
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for name, (path, ready) in pages.items():
            page.goto(url + path)
            page.wait_for_function(ready, timeout=PAGE_TIMEOUT_MS)
            layout = assert_fits(page, name, width)
            if name in ("job", "simulation") or (name == "compare" and width < 900):
                assert len({figure["left"] for figure in layout["figures"]}) == 1, (name, width, layout["figures"])  # one column
            if name == "job":  # not shrunk below its own size where the panel has room for it
                assert all(f["shown"] >= min(f["natural"], f["room"]) - 1 for f in layout["figures"]), layout["figures"]


def test_a_server_with_api_keys_asks_for_one_once_and_sends_it_everywhere(keyed_gateway, page):
    url, experiments = keyed_gateway
    mine = experiments.create(spec={"name": "ada's run"}, owner="ada", name="ada's run", total=300, unit="iterations")
    experiments.mark_finished(mine.id, JobStatus.cancelled)
    theirs = experiments.create(spec={"name": "bob's run"}, owner="bob", name="bob's run", total=300, unit="iterations")

    page.goto(url + "/")  # three listings meet a 401 at once: one question
    page.locator("#api-key").wait_for(state="visible")
    assert "needs an API key" in page.inner_text("#api-key-message")
    screenshot(page, "api-key", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})  # the question fits a phone too
    assert_fits(page, "api-key", 390)
    assert (
        page.evaluate("() => Math.max(...[...document.querySelectorAll('#api-key *')].map((n) => n.getBoundingClientRect().right))") <= 390
    )
    page.set_viewport_size({"width": 1360, "height": 900})
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


# The pages' pure modules, imported by the page itself: what the comparison computes, the
# names, and the precision rule (a number below 1e-12 is rounding noise).
PURE_MODULES = """async () => {
  const { specDiff, difference, ratio, specValue } = await import("/ui/static/diff.js");
  const { displayName, number } = await import("/ui/static/format.js");
  const { measured, simulationRows } = await import("/ui/static/metrics.js");
  const { formatUrl } = await import("/ui/static/figures.js");
  const a = { name: "x", dataset: { name: "geomnist", label_noise: 0, classes: ["a", "b"] }, model: { layers: null }, training: {} };
  const b = { name: "x", dataset: { name: "geomnist", label_noise: 0.3, classes: ["a", "c"] }, model: { layers: [8] }, training: {}, extra: 1 };
  const rows = simulationRows({ mode: "sde", model: "I", classes: 2, dim: 2, runs: 20, times: [0, 2], separable_times: [0, 2], final_separable_fraction: 0, etf_distance: [0, 6e-17] });
  const cell = (label) => rows.find((row) => row[1].startsWith(label))[2];
  return {
    diff: specDiff(a, b).map(({ path, a, b }) => [path, specValue(a), specValue(b)]),
    same: specDiff(a, structuredClone(a)),
    differences: [difference(measured(0.5), measured(0.75)), difference(measured(2), measured(1.5)), difference(measured(0.9, "", { fraction: true }), measured(0.95, "", { fraction: true })),
                  difference(measured(null), measured(1)), difference("yes", measured(1)), difference(measured(1e-17), measured(3e-17))],
    ratios: [ratio(measured(0.5), measured(0.75)), ratio(measured(-0.5), measured(0.75)), ratio(measured(0), measured(1)), ratio("–", measured(1))],
    numbers: [number(3e-17), number(-5e-13), number(0), number(1e-9)],
    names: [displayName({ name: null, spec: { mode: "sde", model: "I", classes: 2 } }, "simulation"),
            displayName({ spec: { base: { mode: "ode", model: "L", classes: 3 }, grid: { kind: "gap" } } }, "simulations"),
            displayName({ name: "mine", spec: { mode: "sde", model: "I", classes: 2 } }, "simulation"),
            displayName({ spec: { base: {}, grid: {} } }, "sweep", "the id"), displayName({}, "simulation")],
    separable: cell("separable fraction").note,
    etf: [cell("ETF distance").text, cell("ETF distance").note],
    formats: [formatUrl("/v1/experiments/abc/figures/AB.png", "svg"), formatUrl("/v1/experiments/abc/figures/AB.png?options_key=k1", "pdf")],
  };
}"""


def test_the_pages_pure_modules_compute_what_they_show(keyed_gateway, page):
    url, _ = keyed_gateway
    page.goto(url + "/ui/submit")  # any page of the server: the modules load from its origin
    got = page.evaluate(PURE_MODULES)
    assert got["diff"] == [
        ["dataset.label_noise", "0", "0.3"],
        ["dataset.classes", '["a","b"]', '["a","c"]'],
        ["model.layers", "null", "[8]"],
        ["extra", "–", "1"],
    ]
    assert got["same"] == []
    assert got["differences"] == ["+0.25", "-0.5", "+5.0 pp", "–", "–", "0 (below 1e-12)"]
    assert got["ratios"] == ["1.5×", "–", "–", "–"]
    assert got["numbers"] == ["0 (below 1e-12)", "0 (below 1e-12)", "0", "1.00e-9"]
    assert got["names"] == ["sde, I-model, K = 2", "phase diagram (gap), ode, L-model, K = 3", "mine", "the id", "(unnamed)"]
    assert (
        got["separable"]
        == "Fraction of the 20 simulated runs whose classes are all pairwise linearly separable (exact LP test) at the final time t = 2; 0: in none of them were they."
    )
    assert got["etf"] == ["0 (below 1e-12)", "K = 2: two centred class means always form a simplex ETF, so this is 0 by construction."]
    assert got["formats"] == ["/v1/experiments/abc/figures/AB.svg", "/v1/experiments/abc/figures/AB.pdf?options_key=k1"]
