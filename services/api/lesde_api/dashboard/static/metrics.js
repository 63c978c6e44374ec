// The summary numbers of an analysis JSON, as labelled rows: [section, label, value].
// One list for a job's page and for the comparison, so both show the same quantities.
// A value is text, or a cell from measured() that keeps the number it shows, so the
// comparison can subtract the numbers rather than parse the text.

import { el, number, percent, withError } from "./format.js";

// A cell showing text that stands for the number value (null: none, e.g. a fit at its bound);
// fraction: the value is a fraction shown in percent; note: a sentence under the value.
export function measured(value, text = number(value), { fraction = false, note = null } = {}) {
  return { value: typeof value === "number" && Number.isFinite(value) ? value : null, text, fraction, note };
}

// What a cell shows: its text, and its note on a line of its own.
export function cellContent(cell) {
  if (cell === null || cell === undefined) return "–";
  if (typeof cell !== "object" || !("text" in cell)) return cell;
  return cell.note ? [cell.text, el("small", { class: "explain" }, cell.note)] : cell.text;
}

const count = (value) => measured(value);
const meanStd = (entry) => (entry ? measured(entry.mean, withError(entry.mean, entry.std)) : "–");
// A fit that stopped at an end of its search range estimates nothing: say so rather than show the bound as r.
const rSlope = (tail) => (!tail ? "–" : tail.at_bound ? "at the fit's bound: no estimate" : measured(tail.r_slope, withError(tail.r_slope, tail.r_slope_se)));
const windowText = (w) => `[${number(w.window[0])}, ${number(w.window[1])}]${w.deciding ? " (deciding)" : ""}`;
const flag = (value) => (value === true ? "yes" : value === false ? "no" : "–");
const versus = (stats) => (stats ? measured(stats.final, `${percent(stats.final)} (chance ${percent(stats.final_baseline)})`, { fraction: true }) : "–");

export function experimentRows(a) {
  const models = (a.estimates && a.estimates.models) || {};
  const tails = a.tail_indices || {};
  const verdict = a.verdict || {};
  const imitation = a.imitation || {};
  const separability = a.separability || {};
  const collapse = a.neural_collapse || {};
  const rows = [
    ["Run", "iterations analysed", count(a.iterations_done ?? a.iterations)],
    ["Run", "trials", count(a.trials)],
    ["Run", "classes", (a.classes || []).join(", ")],
    ["Run", "partial (training still running)", flag(a.partial)],
    ["Accuracy", "training accuracy (final, mean ± std over trials)", meanStd(a.final && a.final.train_accuracy)],
    ["Accuracy", "validation accuracy (final)", meanStd(a.final && a.final.validation_accuracy)],
    ["Accuracy", "training loss (final)", meanStd(a.final && a.final.train_loss)],
    ["Accuracy", "validation loss (final)", meanStd(a.final && a.final.validation_loss)],
  ];
  for (const model of ["L", "I"]) {
    const m = models[model];
    if (!m) continue;
    rows.push(
      ["Rates (per iteration)", `alpha-hat, ${model}-model (tail mean)`, measured(m.alpha_tail_mean)],
      ["Rates (per iteration)", `beta-hat, ${model}-model (tail mean)`, measured(m.beta_tail_mean)],
      ["Rates (per iteration)", `Ahat, Bhat at the end, ${model}-model`, `${number(m.A_end)}, ${number(m.B_end)}`],
    );
  }
  const estimator = (a.estimates && a.estimates.estimator) || (a.options && a.options.estimator) || "";
  for (const name of ["A", "B", "Gamma"]) {
    rows.push([`Tail indices (${estimator}-model)`, `r of ${name} (slope fit ± 1 SE)`, rSlope(tails[name])]);
  }
  const figure4c = a.figure_4c || {};
  rows.push(
    ["Tail indices", "the paper's Figure 4c: min(r-hat_alpha, r-hat_beta), I-model, authors' formula", measured(figure4c.r_hat_min)],
    ["Tail indices", "the same on the L-model (ours)", measured(figure4c.L_model && figure4c.L_model.r_hat_min)],
    ["Verdict", `separability verdict (Theorem 3.1), Xbar by ${(a.labels && a.labels.option) || "trained"} label`, verdict.label || "–"],
    ["Verdict", "r_Gamma ± 1 SE (deciding window)", verdict.r_gamma == null && tails.Gamma && tails.Gamma.at_bound ? "at the fit's bound: no estimate" : measured(verdict.r_gamma, withError(verdict.r_gamma, verdict.se))],
  );
  for (const w of verdict.windows || []) {
    rows.push(["Verdict", `r_Gamma on ${windowText(w)}`, `${w.at_bound ? "at the fit's bound: no estimate" : withError(w.r, w.se)} (${w.label})`]);
  }
  rows.push(["Verdict", "why", verdict.why || verdict.reason || "–"]);
  const other = a.label_groupings && a.label_groupings.true;
  if (other && other.computed && a.labels && a.labels.option !== "true") {
    rows.push(["Verdict", "verdict with Xbar by true label", (other.verdict && other.verdict[estimator] && other.verdict[estimator].label) || "–"]);
  }
  for (const model of ["L", "I"]) {
    const fit = imitation[model];
    if (!fit) continue;
    if (fit.failed) {
      rows.push(["Imitation (LE-ODE)", `${model}-model`, `not run: ${fit.failed}`]);
      continue;
    }
    rows.push(
      ["Imitation (LE-ODE)", `nrmse, ${model}-model (holding Xbar(t0): ${number(fit.nrmse_hold)})`, measured(fit.nrmse)],
      ["Imitation (LE-ODE)", `skill 1 - nrmse/nrmse_hold, ${model}-model`, measured(fit.skill)],
      ["Imitation (LE-ODE)", `onset, share of the run scored, ${model}-model`, `t = ${number(fit.onset && fit.onset.iteration)}, ${percent(fit.scored_share)}`],
      ["Imitation (LE-ODE)", `class order agrees, ${model}-model`, flag(fit.all_orders_agree)],
    );
  }
  rows.push(
    ["Separability", "probe logits, final (separable trials)", versus(separability.probe)],
    ["Separability", "penultimate features, final", versus(separability.features)],
    ["Neural collapse", "NC1 of the features, initial → final", collapse.features ? `${number(collapse.features.initial.nc1)} → ${number(collapse.features.final.nc1)}` : "–"],
    ["Neural collapse", "ETF distance of the features, final", measured(collapse.features && collapse.features.final.etf_distance)],
  );
  return rows;
}

// Scalar top-level entries (numbers, strings, booleans) of any other summary (simulations, sweeps).
export function scalarRows(summary, skip = []) {
  return Object.entries(summary)
    .filter(([name, value]) => !skip.includes(name) && value !== null && ["number", "string", "boolean"].includes(typeof value))
    .map(([name, value]) => ["", name.replaceAll("_", " "), typeof value === "boolean" ? flag(value) : number(value)]);
}

const last = (series) => (Array.isArray(series) && series.length ? series[series.length - 1] : null);

// What a separable fraction is a fraction of, at which time, and what its ends mean: a bare
// "0" read as a failure of the simulation rather than as "no run separated".
function separableNote(value, runs, time) {
  const at = time === null || time === undefined ? "the final time" : `the final time t = ${number(time)}`;
  const runsText = runs ? `${number(runs)} simulated runs` : "simulated runs";
  const reading = value === 0 ? "0: in none of them were they" : value === 1 ? "1: in all of them" : runs ? `here in ${Math.round(value * runs)} of them` : `here in ${percent(value)} of them`;
  return `Fraction of the ${runsText} whose classes are all pairwise linearly separable (exact LP test) at ${at}; ${reading}.`;
}

// ETF distance of two class means: centred, they are m and -m, a simplex ETF at any scale.
const etfNote = (classes) => (classes === 2 ? "K = 2: two centred class means always form a simplex ETF, so this is 0 by construction." : null);

// A simulation's result (GET /v1/simulations/{id}/analysis): a single run's, or a phase diagram's.
export function simulationRows(summary) {
  if (Array.isArray(summary.grid)) return phaseDiagramRows(summary);
  const fraction = summary.final_separable_fraction;
  const time = last(summary.separable_times) ?? last(summary.times);
  const etf = last(summary.etf_distance);
  return [
    ["Run", "mode", summary.mode],
    ["Run", "model", summary.model ? `${summary.model}-model` : "–"],
    ["Run", "classes K", count(summary.classes)],
    ["Run", "dimension p", count(summary.dim)],
    ["Run", "runs", count(summary.runs)],
    ["Run", "final time", count(time)],
    ["Result", "separable fraction, final", measured(fraction, number(fraction), { note: fraction === null || fraction === undefined ? null : separableNote(fraction, summary.runs, time) })],
    ["Result", "ETF distance of the class means, final (mean over runs)", measured(etf, number(etf), { note: etfNote(summary.classes) })],
  ];
}

function phaseDiagramRows(summary) {
  const fractions = (summary.separable_fraction || []).filter((value) => typeof value === "number");
  const points = (summary.x || []).map((x, i) => `${number(x)} → ${number((summary.separable_fraction || [])[i])}`).join(", ");
  return [
    ["Grid", "grid", `${summary.grid_kind} (${(summary.grid || []).length} points)`],
    ["Grid", "x", summary.x_label],
    ["Grid", "x of the theory's transition", count(summary.critical)],
    ["Grid", "runs per point", count(summary.runs)],
    ["Grid", "final time", count(summary.final_time)],
    ["Result", "separable fraction per point (x → fraction)", measured(null, points || "–", { note: `Each is the fraction of the ${number(summary.runs)} runs at that point whose classes are all pairwise linearly separable (exact LP test) at the final time t = ${number(summary.final_time)}; 0: in none of them were they.` })],
    ["Result", "points where some run separated", `${fractions.filter((value) => value > 0).length} of ${fractions.length}`],
  ];
}

// A table of rows, a heading row whenever the section changes; values: one column per job.
// labels name the value columns on each cell (data-label), for the narrow layout that shows
// every row as a card (dashboard.css).
export function metricsTable(sections, headings = null, labels = headings) {
  const table = el("table", { class: "metrics" });
  if (headings) table.append(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "quantity"), headings.map((heading) => el("th", { scope: "col" }, heading)))));
  const body = el("tbody");
  let section = null;
  for (const [name, label, ...values] of sections) {
    if (name && name !== section) {
      section = name;
      body.append(el("tr", { class: "section" }, el("th", { colspan: values.length + 1, scope: "rowgroup" }, name)));
    }
    body.append(el("tr", {}, el("th", { scope: "row" }, label), values.map((value, i) => el("td", { "data-label": labels ? labels[i] : null }, cellContent(value)))));
  }
  table.append(body);
  return table;
}
