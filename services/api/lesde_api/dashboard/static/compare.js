// Two experiments side by side: how their specs differ, one table of the same numbers with
// their differences, then each figure as a pair drawn on shared axes.

import { ApiError, apiJson, keyedDownloads } from "./api.js";
import { difference, ratio, specDiff, specValue } from "./diff.js";
import { figureBlock } from "./figures.js";
import { displayName, el } from "./format.js";
import { experimentRows, metricsTable } from "./metrics.js";

const ids = { A: document.body.dataset.a, B: document.body.dataset.b };
const stateLine = document.getElementById("compare-state");
const byId = (id) => document.getElementById(id);
const nameOf = (job) => displayName(job.record, "experiment", job.id);

async function load(id) {
  const record = await apiJson(`/v1/experiments/${id}`).catch((error) => {
    throw new Error(`${id}: ${error.message}`);
  });
  const analysis = await apiJson(`/v1/experiments/${id}/analysis?series=false`).catch((error) => {
    throw new Error(`${record.name || id} has no analysis to compare: ${error.message}`);
  });
  return { id, record, analysis };
}

function sideLabel(side, job) {
  return [`${side}: `, el("a", { href: `/ui/experiments/${job.id}` }, nameOf(job)), el("br"), el("code", { class: "id" }, job.id)];
}

function heading(side, job) {
  byId(`head-${side.toLowerCase()}`).replaceChildren(...sideLabel(side, job));
}

// -- specs ------------------------------------------------------------------------------

function showSpecDiff(a, b) {
  const fields = specDiff(a.record.spec, b.record.spec);
  const table = byId("spec-diff");
  const sides = table.tHead.querySelectorAll("th.side");
  sides[0].replaceChildren(...sideLabel("A", a));
  sides[1].replaceChildren(...sideLabel("B", b));
  table.tBodies[0].replaceChildren(
    ...fields.map(({ path, a: left, b: right }) =>
      el(
        "tr",
        { dataset: { path } },
        el("th", { scope: "row" }, el("code", {}, path)),
        el("td", { "data-label": "A" }, el("code", {}, specValue(left))),
        el("td", { "data-label": "B" }, el("code", {}, specValue(right))),
      ),
    ),
  );
  table.hidden = !fields.length;
  byId("specs-identical").hidden = Boolean(fields.length);
  byId("spec-diff-panel").hidden = false;
}

// -- numbers ----------------------------------------------------------------------------

// A's rows with B's value of the same quantity, then B − A and B / A.
function rows(a, b) {
  const right = new Map(experimentRows(b.analysis).map(([section, label, value]) => [`${section}\u0000${label}`, value]));
  return experimentRows(a.analysis).map(([section, label, value]) => {
    const other = right.get(`${section}\u0000${label}`) ?? "–";
    return [section, label, value, other, difference(value, other), ratio(value, other)];
  });
}

function showNumbers(a, b) {
  heading("A", a);
  heading("B", b);
  const table = byId("compare-table");
  const body = metricsTable(rows(a, b), null, ["A", "B", "B − A", "B / A"]).tBodies[0];
  // A difference or ratio that does not exist takes no line in the narrow (card) layout.
  for (const cell of body.querySelectorAll("td:nth-of-type(3), td:nth-of-type(4)")) cell.classList.toggle("none", cell.textContent === "–");
  table.tBodies[0].replaceWith(body);
  table.hidden = false;
  byId("numbers-panel").hidden = false;
}

// -- figures ----------------------------------------------------------------------------

// The figure drawn with the axes limits it shares with the same figure of the other
// experiment (the union of both), so a pair reads on one scale.
function sharedUrl(pngUrl, otherId) {
  const url = new URL(pngUrl, window.location.origin);
  url.searchParams.set("share_axes_with", otherId);
  return url.pathname + url.search;
}

// Shows the figure on shared axes; a server that does not know share_axes_with yet answers
// 400/422: then the plain figure. Resolves to whether the axes are shared.
async function loadShared(figure, pngUrl, otherId) {
  try {
    await figure.load(sharedUrl(pngUrl, otherId));
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && [400, 422].includes(error.status))) throw error;
    await figure.load(pngUrl);
    return false;
  }
}

function pair(name, a, b) {
  const urls = [a, b].map((job) => (job.analysis.figures || {})[name]);
  const both = urls.every(Boolean);
  const note = el("p", { class: "scales muted", hidden: true }, "separate scales: this server draws each figure on its own axes");
  const node = el("section", { class: "pair", dataset: { name } }, el("h3", {}, name));
  const loads = [a, b].map((job, index) => {
    const side = index ? "B" : "A";
    if (!urls[index]) {
      node.append(el("p", { class: "muted" }, `${side}: no figure ${name}`));
      return null;
    }
    const figure = figureBlock({ pngUrl: urls[index], name, alt: `${name} of ${nameOf(job)}`, caption: `${side}: ${nameOf(job)}`, dataset: { side } });
    node.append(figure.node);
    const loading = both ? loadShared(figure, urls[index], (index ? a : b).id) : figure.load().then(() => false);
    return loading.catch((error) => {
      figure.fail(error);
      return null;
    });
  });
  node.append(note);
  // Said once both are drawn: "separate" where either is on its own axes (only a pair can share).
  Promise.all(loads).then((shared) => {
    const drawn = shared.filter((value) => value !== null);
    if (!both || !drawn.length) return;
    node.dataset.scales = drawn.every(Boolean) ? "shared" : "separate";
    note.hidden = node.dataset.scales === "shared";
  });
  return node;
}

function showFigures(a, b) {
  const names = [...new Set([...Object.keys(a.analysis.figures || {}), ...Object.keys(b.analysis.figures || {})])];
  byId("compare-figures").replaceChildren(...names.map((name) => pair(name, a, b)));
  byId("figures-panel").hidden = !names.length;
}

async function start() {
  if (!ids.A || !ids.B) return;
  keyedDownloads(document.querySelector("main"));
  stateLine.textContent = "Loading…";
  let a;
  let b;
  try {
    [a, b] = await Promise.all([load(ids.A), load(ids.B)]);
  } catch (error) {
    stateLine.className = "error";
    stateLine.textContent = error.message;
    return;
  }
  showSpecDiff(a, b);
  showNumbers(a, b);
  showFigures(a, b);
  stateLine.textContent = "";
}

start();
