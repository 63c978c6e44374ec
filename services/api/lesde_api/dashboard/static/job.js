// One job's page: its record, then its Server-Sent Events (/v1/{kind}/{id}/events) keep
// status, progress and analysis current; results (numbers, figures) load when its
// analysis succeeds; the buttons call the public API.

import { ApiError, apiFetch, apiJson, errorMessage, keyedDownloads, postJson, serverEvents } from "./api.js";
import { figureBlock } from "./figures.js";
import { bar, bytes, displayName, el, fraction, isFinished, progressText, setBadge, setBar, showMessage, when } from "./format.js";
import { experimentRows, metricsTable, scalarRows, simulationRows } from "./metrics.js";

const page = document.body;
const apiKind = page.dataset.apiKind; // the /v1 collection: experiments, simulations or sweeps
const jobId = page.dataset.jobId;
const base = `/v1/${apiKind}/${jobId}`;
const byId = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ANALYSIS_BUSY = ["queued", "running"];

let record = null; // the latest snapshot: the record, then each event's data
let shownAnalysis = false; // whether the results on the page are those of the latest succeeded analysis
let stream = null; // the open event stream's AbortController

function say(text, kind = "notice") {
  showMessage(byId("job-message"), text, kind);
}

function update(snapshot) {
  const before = record ? record.analysis : null;
  record = { ...record, ...snapshot };
  setBadge(byId("status"), record.status);
  byId("job-name").textContent = displayName(record, apiKind, jobId);
  setBar(byId("progress"), fraction(record.progress, record.status), record.status);
  const analysis = record.analysis && record.analysis !== "none" ? ` · analysis ${record.analysis}` : "";
  byId("progress-text").textContent = progressText(record.progress, record.status) + analysis;
  showFacts();
  showButtons();
  showDownloads();
  if (record.children) showChildren(record.children, record.axes || []);
  if (record.analysis !== before) shownAnalysis = false; // a new analysis run: its results replace these
  if (record.analysis === "succeeded" && !shownAnalysis) loadResults();
}

function showFacts() {
  const facts = [
    ["owner", record.owner],
    ["created", when(record.created_at)],
    ["started", when(record.started_at)],
    ["finished", when(record.finished_at)],
  ];
  if (record.attempts !== undefined) facts.push(["attempts", record.attempts]);
  if (record.device) facts.push(["device", record.device]);
  if (record.counts) facts.push(["children", Object.entries(record.counts).filter(([, n]) => n).map(([state, n]) => `${n} ${state}`).join(", ")]);
  if (record.error) facts.push(["error", record.error]);
  if (record.analysis_error) facts.push(["analysis error", record.analysis_error]);
  byId("facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", { class: term.includes("error") ? "error" : "" }, value ?? "–")]));
}

function showButtons() {
  const finished = isFinished(record.status);
  const experiment = apiKind === "experiments";
  byId("cancel").hidden = finished;
  byId("delete").hidden = !finished;
  const hasData = record.progress && record.progress.unit !== "bytes" && record.progress.done > 0;
  byId("reanalyse").hidden = !experiment || !hasData || ANALYSIS_BUSY.includes(record.analysis);
  byId("retry").hidden = apiKind !== "sweeps" || !(record.counts && record.counts.failed);
  const compare = byId("compare-link");
  compare.hidden = !experiment;
  compare.href = `/ui/compare?a=${jobId}`;
}

// A dotted field path that may wrap after its dots (not mid-word) where it labels a card's line.
const breakable = (path) => path.replaceAll(".", ".\u200b");

function showChildren(children, axes) {
  byId("children-panel").hidden = false;
  const table = byId("children");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, "#"), axes.map((axis) => el("th", {}, axis)), el("th", {}, "status"), el("th", { class: "progress-col" }, "progress"), el("th", {}, "analysis"), el("th", {}, "experiment")));
  table.tBodies[0].replaceChildren(
    ...children.map((child) =>
      el(
        "tr",
        { dataset: { id: child.experiment_id } },
        el("td", { "data-label": "#" }, child.index),
        axes.map((axis) => el("td", { "data-label": breakable(axis) }, JSON.stringify(child.point[axis]))),
        el("td", { "data-label": "status" }, el("span", { class: "badge", dataset: { status: child.status || "" } }, child.status || "deleted")),
        el("td", { class: "progress-col", "data-label": "progress" }, bar(child.status === "succeeded" ? 1 : child.progress, child.status)),
        el("td", { "data-label": "analysis" }, child.analysis || "–"),
        el("td", { "data-label": "experiment" }, el("a", { href: `/ui/experiments/${child.experiment_id}` }, el("code", {}, child.experiment_id))),
      ),
    ),
  );
}

// -- results ---------------------------------------------------------------------------

async function loadResults() {
  shownAnalysis = true;
  const path = apiKind === "experiments" ? `${base}/analysis?series=false` : `${base}/analysis`;
  let summary;
  try {
    summary = await apiJson(path);
  } catch (error) {
    shownAnalysis = false;
    if (error instanceof ApiError && [404, 409].includes(error.status)) return say(`No results yet: ${error.message}`);
    return say(`Could not load the results: ${error.message}`, "error");
  }
  showSummary(summary);
  showFigures(summary.figures || {});
}

function showSummary(summary) {
  const target = byId("summary");
  const parts = [];
  if (apiKind === "experiments") {
    parts.push(metricsTable(experimentRows(summary)));
    const notes = Object.entries(summary.notes || {});
    if (notes.length) parts.push(el("details", {}, el("summary", {}, "How each number was made"), el("dl", { class: "notes" }, notes.flatMap(([term, text]) => [el("dt", {}, term), el("dd", {}, text)]))));
  } else if (apiKind === "simulations") {
    parts.push(metricsTable(simulationRows(summary)));
  } else {
    parts.push(metricsTable(scalarRows(summary, ["version", "sweep_id", "computed_at", "job_id", "table_url"])));
    if (Array.isArray(summary.columns) && Array.isArray(summary.rows)) parts.push(sweepTable(summary.columns, summary.rows));
    const notes = Array.isArray(summary.notes) ? summary.notes : [];
    if (notes.length) parts.push(el("details", {}, el("summary", {}, "Notes"), el("ul", {}, notes.map((note) => el("li", {}, note)))));
  }
  target.replaceChildren(...parts);
  byId("summary-panel").hidden = false;
}

function sweepTable(columns, rows) {
  const cell = (value) => (typeof value === "number" ? Number(value.toPrecision(4)).toString() : value ?? "–");
  return el(
    "div",
    { class: "scroll" },
    el("table", { class: "metrics wide" }, el("thead", {}, el("tr", {}, columns.map((column) => el("th", { scope: "col" }, column)))), el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((column) => el("td", {}, cell(row[column]))))))),
  );
}

function showFigures(figures) {
  const names = Object.keys(figures);
  byId("figures-panel").hidden = !names.length;
  byId("figures").replaceChildren(
    ...names.map((name) => {
      const figure = figureBlock({ pngUrl: figures[name], name, alt: `figure ${name}`, caption: name });
      figure.load().catch(figure.fail);
      return figure.node;
    }),
  );
}

// -- downloads ------------------------------------------------------------------------

// Each link once what it serves exists: exports once training stored data, results once analysed.
const DOWNLOADS = {
  experiments: [
    ["export.csv", "every sampled logit in the authors' CSV layout", "data"],
    ["export.npz", "the same table as NumPy arrays", "data"],
    ["export.parquet", "the same table as Parquet", "data"],
    ["analysis", "the analysis (JSON)", "analysed"],
    ["analysis/series.npz", "every series of the analysis at full length", "analysed"],
  ],
  simulations: [["analysis", "the result (JSON)", "analysed"]],
  sweeps: [
    ["table.csv", "one row per grid point", "analysed"],
    ["analysis", "the cross-child analysis (JSON)", "analysed"],
  ],
};
let shownDownloads = null;

function showDownloads() {
  const ready = {
    data: record.progress && record.progress.unit !== "bytes" && record.progress.done > 0,
    analysed: record.analysis === "succeeded",
  };
  const links = DOWNLOADS[apiKind].filter(([, , needs]) => ready[needs]);
  const key = links.map(([path]) => path).join();
  if (key === shownDownloads) return;
  shownDownloads = key;
  byId("downloads").replaceChildren(
    ...(links.length
      ? links.map(([path, what]) => el("li", {}, el("a", { href: `${base}/${path}`, dataset: { download: "" } }, path), ` — ${what}`))
      : [el("li", { class: "muted" }, isFinished(record.status) ? "Nothing: this job stored no data." : "Nothing yet: exports once training has stored data, results once analysed.")]),
  );
}

async function showArtifacts() {
  const rows = byId("artifacts").tBodies[0];
  try {
    const page = await apiJson(`${base}/artifacts`);
    rows.replaceChildren(...page.data.map((item) => el("tr", {}, el("td", {}, el("a", { href: item.url, dataset: { download: "" } }, item.name)), el("td", { class: "number" }, bytes(item.size)))));
  } catch (error) {
    rows.replaceChildren(el("tr", {}, el("td", { class: "error" }, error.message)));
  }
}

async function showLogs() {
  const out = byId("logs");
  try {
    const answer = await apiJson(`${base}/logs?limit=200`);
    const lines = answer.data.map((line) => {
      const where = [line.service, line.task].filter(Boolean).join(" ");
      const text = `${line.time} ${line.level.padEnd(7)} ${where ? `[${where}] ` : ""}${line.message}`;
      return line.exception ? `${text}\n${line.exception}` : text;
    });
    out.textContent = lines.length ? lines.join("\n") : "No lines yet: workers store them while they run the job's tasks.";
  } catch (error) {
    out.textContent = `Could not load the logs: ${error.message}`;
  }
}

// -- live updates -----------------------------------------------------------------------

async function follow() {
  if (stream) return; // one stream at a time
  stream = new AbortController();
  page.dataset.live = "events";
  let failures = 0;
  try {
    for (;;) {
      try {
        for await (const message of serverEvents(`${base}/events`, stream.signal)) {
          failures = 0;
          page.dataset.events = String(Number(page.dataset.events || 0) + 1);
          update(message.data);
          if (message.event === "deleted") return say("This job was deleted.", "error");
          if (message.event === "end") return;
        }
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error instanceof ApiError && error.status === 404) return notFound();
        failures += 1;
        if (failures > 2) say(`Live updates interrupted (${error.message}); reconnecting…`, "error");
      }
      await sleep(Math.min(1000 * 2 ** failures, 15000)); // closed early (a restart): reconnect
    }
  } finally {
    stream = null;
    page.dataset.live = "ended";
  }
}

function notFound() {
  say(`No ${page.dataset.kind.replace(/s$/, "")} with id ${jobId}: deleted, or never created.`, "error");
  for (const section of document.querySelectorAll("section.panel")) section.hidden = true;
}

// -- actions ---------------------------------------------------------------------------

function action(id, run) {
  byId(id).addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      say(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

action("cancel", async () => {
  update(await apiJson(`${base}/cancel`, { method: "POST" }));
  say(record.status === "cancelled" ? "Cancelled." : "Cancel requested: a running job stops within one chunk.");
  follow();
});

action("delete", async () => {
  if (!window.confirm(`Delete ${record.name || jobId} and every object it stored?`)) return;
  const response = await apiFetch(base, { method: "DELETE" });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  window.location.href = "/";
});

action("reanalyse", async () => {
  const answer = await postJson(`${base}/analysis?force=true`, {});
  update({ analysis: answer.state === "succeeded" ? "succeeded" : "queued" });
  say(`Analysis ${answer.state}${answer.partial ? " (partial: training still runs)" : ""}.`);
  follow();
});

action("retry", async () => {
  update(await apiJson(`${base}/retry`, { method: "POST" }));
  say("The failed children are queued again.");
  follow();
});

async function start() {
  keyedDownloads(document.querySelector("main"));
  try {
    record = await apiJson(base);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return notFound();
    return say(`Could not load this job: ${errorMessage(error.status, error.body)}`, "error");
  }
  if (record.spec && record.spec.kind === "import") document.querySelector("h1 .muted").textContent = "import";
  byId("spec").textContent = JSON.stringify(record.spec, null, 2);
  const artifacts = byId("artifacts-panel");
  artifacts.hidden = apiKind === "sweeps"; // a sweep's objects are its children's
  artifacts.addEventListener("toggle", showArtifacts, { once: true });
  const logs = byId("logs-panel");
  logs.addEventListener("toggle", () => logs.open && showLogs()); // read again each time it is opened
  update(record);
  follow();
}

start();
