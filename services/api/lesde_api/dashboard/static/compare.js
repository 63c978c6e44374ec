// Two experiments side by side: one table of the same numbers, then each figure as a pair.

import { apiJson, keyedDownloads, showImage } from "./api.js";
import { el } from "./format.js";
import { experimentRows, metricsTable } from "./metrics.js";

const ids = { A: document.body.dataset.a, B: document.body.dataset.b };
const stateLine = document.getElementById("compare-state");

async function load(id) {
  const record = await apiJson(`/v1/experiments/${id}`).catch((error) => {
    throw new Error(`${id}: ${error.message}`);
  });
  const analysis = await apiJson(`/v1/experiments/${id}/analysis?series=false`).catch((error) => {
    throw new Error(`${record.name || id} has no analysis to compare: ${error.message}`);
  });
  return { id, record, analysis };
}

function heading(side, job) {
  const cell = document.getElementById(`head-${side.toLowerCase()}`);
  cell.replaceChildren(`${side}: `, el("a", { href: `/ui/experiments/${job.id}` }, job.record.name || job.id), el("br"), el("code", { class: "id" }, job.id));
}

function rows(a, b) {
  const right = new Map(experimentRows(b.analysis).map(([section, label, value]) => [`${section}\u0000${label}`, value]));
  const merged = experimentRows(a.analysis).map(([section, label, value]) => [section, label, value, right.get(`${section}\u0000${label}`) ?? "–"]);
  return merged;
}

function figures(a, b) {
  const names = [...new Set([...Object.keys(a.analysis.figures || {}), ...Object.keys(b.analysis.figures || {})])];
  return names.map((name) =>
    el(
      "section",
      { class: "pair" },
      el("h2", {}, name),
      [a, b].map((job, index) => {
        const url = (job.analysis.figures || {})[name];
        const img = el("img", { alt: `${name} of ${job.record.name || job.id}`, dataset: { name, side: index ? "B" : "A" } });
        const caption = el("figcaption", {}, `${index ? "B" : "A"}: ${job.record.name || job.id}`);
        if (url) showImage(img, url).catch((error) => caption.append(` — ${error.message}`));
        return el("figure", {}, img, caption);
      }),
    ),
  );
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
  heading("A", a);
  heading("B", b);
  const table = document.getElementById("compare-table");
  table.tBodies[0].replaceWith(metricsTable(rows(a, b)).tBodies[0]);
  table.hidden = false;
  document.getElementById("compare-figures").replaceChildren(...figures(a, b));
  stateLine.textContent = "";
}

start();
