// The job list: the /v1 listings of experiments, simulations and sweeps merged newest
// first, filtered, and refreshed every 2 s while a shown job is unfinished (10 s else).

import { apiJson } from "./api.js";
import { ago, badge, bar, displayName, el, fraction, isFinished, progressText, when } from "./format.js";

const LIMIT = 100; // newest jobs read per kind (the listing's page)
const BUSY_REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 10000;
const CLASSIFY_AT_ONCE = 6;
const COLLECTIONS = [
  ["experiment", "experiments"],
  ["simulation", "simulations"],
  ["sweep", "sweeps"],
];

const form = document.getElementById("filters");
const tbody = document.querySelector("#jobs tbody");
const listState = document.getElementById("list-state");
const compareButton = document.getElementById("compare-selected");
const picked = new Set(); // experiment ids ticked for comparison
let timer = null;

function currentFilters() {
  const data = new FormData(form);
  return {
    kind: data.get("kind") || "all",
    status: data.get("status") || "",
    name: (data.get("name") || "").trim().toLowerCase(),
    owner: (data.get("owner") || "").trim(),
  };
}

function listing(collection, filters) {
  const query = new URLSearchParams({ limit: String(LIMIT) });
  if (filters.status) query.set("status", filters.status);
  if (filters.owner) query.set("owner", filters.owner);
  return apiJson(`/v1/${collection}?${query}`);
}

// What only a job's spec tells, and the listing leaves specs out: whether an experiment was
// made from a CSV upload (an import), and an unnamed simulation's title (format.js
// displayName, as on its page). So those records are read, once per browser session: a
// spec never changes.
const FACTS_CACHE = "lesde.facts.";
const needsRecord = (job) => job.listKind === "experiment" || (job.listKind === "simulation" && !job.name);

async function recordFacts(job) {
  const cached = sessionStorage.getItem(FACTS_CACHE + job.id);
  if (cached) return JSON.parse(cached);
  const record = await apiJson(`/v1/${job.listKind}s/${job.id}`);
  const kind = record.spec && record.spec.kind === "import" ? "import" : job.listKind;
  const facts = { kind, title: displayName({ spec: record.spec }, kind, "") }; // the spec's part only: names come from the listing
  sessionStorage.setItem(FACTS_CACHE + job.id, JSON.stringify(facts));
  return facts;
}

async function classify(jobs) {
  const reading = jobs.filter(needsRecord);
  for (let start = 0; start < reading.length; start += CLASSIFY_AT_ONCE) {
    await Promise.all(
      reading.slice(start, start + CLASSIFY_AT_ONCE).map(async (job) => {
        const facts = await recordFacts(job).catch(() => ({ kind: job.listKind, title: "" })); // deleted meanwhile: as listed
        job.listKind = facts.kind;
        job.title = facts.title;
      }),
    );
  }
}

async function load() {
  const filters = currentFilters();
  const wanted = COLLECTIONS.filter(([kind]) => filters.kind === "all" || filters.kind === kind || (filters.kind === "import" && kind === "experiment"));
  const pages = await Promise.all(wanted.map(([kind, collection]) => listing(collection, filters).then((page) => ({ kind, page }))));
  let jobs = [];
  let more = 0;
  for (const { kind, page } of pages) {
    more += Math.max(0, page.count - page.data.length);
    for (const job of page.data) jobs.push({ ...job, listKind: kind });
  }
  if (filters.name) jobs = jobs.filter((job) => (job.name || "").toLowerCase().includes(filters.name) || job.id.includes(filters.name));
  await classify(jobs);
  if (filters.kind === "experiment" || filters.kind === "import") jobs = jobs.filter((job) => job.listKind === filters.kind);
  jobs.sort((a, b) => new Date(b.created_at) - new Date(a.created_at));
  render(jobs);
  listState.className = "muted";
  listState.textContent = jobs.length
    ? `${jobs.length} job${jobs.length === 1 ? "" : "s"} shown${more ? ` (${more} older ones not loaded: narrow the filter)` : ""}.`
    : "No jobs match.";
  if (!jobs.length) listState.append(" ", el("a", { href: "/ui/submit" }, "Submit one"), ".");
  return jobs.some((job) => !isFinished(job.status) || ["queued", "running"].includes(job.analysis));
}

function pageOf(job) {
  return `/ui/${job.listKind}s/${job.id}`;
}

function row(job) {
  const comparable = job.listKind === "experiment" || job.listKind === "import";
  const title = displayName(job, job.listKind, job.title || "(unnamed)");
  const pick = comparable ? el("input", { type: "checkbox", "aria-label": `compare ${title}`, checked: picked.has(job.id), dataset: { id: job.id } }) : null;
  const status = badge(job.status);
  if (job.error) status.title = job.error;
  const value = fraction(job.progress, job.status);
  return el(
    "tr",
    { dataset: { id: job.id, kind: job.listKind, status: job.status } },
    el("td", { class: "pick" }, pick),
    el("td", { class: "kind", "data-label": "kind" }, job.listKind),
    el("td", { class: "name" }, el("a", { href: pageOf(job) }, title), el("br"), el("code", { class: "id" }, job.id)),
    el("td", { class: "status" }, status),
    el("td", { class: "progress-col" }, bar(value, job.status), el("small", { class: "muted" }, progressText(job.progress, job.status))),
    el("td", { class: "analysis", "data-label": "analysis" }, job.analysis === "none" ? "–" : job.analysis),
    el("td", { class: "owner", "data-label": "owner" }, job.owner),
    el("td", { class: "created", "data-label": "created", title: job.created_at }, el("span", { class: "date" }, when(job.created_at)), el("small", { class: "muted" }, ago(job.created_at))),
  );
}

function render(jobs) {
  tbody.replaceChildren(...jobs.map(row));
  for (const id of [...picked]) if (!jobs.some((job) => job.id === id)) picked.delete(id);
  updateCompare();
}

function updateCompare() {
  compareButton.disabled = picked.size !== 2;
  compareButton.textContent = `Compare selected (${picked.size}/2)`;
}

tbody.addEventListener("change", (event) => {
  const box = event.target;
  if (box.type !== "checkbox") return;
  if (box.checked) picked.add(box.dataset.id);
  else picked.delete(box.dataset.id);
  updateCompare();
});

compareButton.addEventListener("click", () => {
  const [a, b] = [...picked];
  window.location.href = `/ui/compare?${new URLSearchParams({ a, b })}`;
});

async function refresh() {
  clearTimeout(timer);
  let busy = true;
  try {
    busy = await load();
  } catch (error) {
    listState.className = "error";
    listState.textContent = `Could not load the jobs: ${error.message}`;
  }
  timer = setTimeout(refresh, busy ? BUSY_REFRESH_MS : IDLE_REFRESH_MS);
}

// Filtering keeps the URL shareable (the server renders the same filters from it) without reloading.
function applyFilters(event) {
  if (event) event.preventDefault();
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value && !(name === "kind" && value === "all")) query.set(name, value);
  history.replaceState(null, "", query.toString() ? `/?${query}` : "/");
  refresh();
}

let typing = null;
form.addEventListener("submit", applyFilters);
form.addEventListener("change", () => applyFilters());
form.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(applyFilters, 300);
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});

refresh();
