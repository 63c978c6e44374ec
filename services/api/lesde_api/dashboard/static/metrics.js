// The summary numbers of an analysis JSON, as labelled rows: [section, label, value].
// One list for a job's page and for the comparison, so both show the same quantities.

import { el, number, percent, withError } from "./format.js";

const meanStd = (entry) => (entry ? withError(entry.mean, entry.std) : "–");
// A fit that stopped at an end of its search range estimates nothing: say so rather than show the bound as r.
const rSlope = (tail) => (!tail ? "–" : tail.at_bound ? "at the fit's bound: no estimate" : withError(tail.r_slope, tail.r_slope_se));
const windowText = (w) => `[${number(w.window[0])}, ${number(w.window[1])}]${w.deciding ? " (deciding)" : ""}`;
const flag = (value) => (value === true ? "yes" : value === false ? "no" : "–");
const versus = (stats) => (stats ? `${percent(stats.final)} (chance ${percent(stats.final_baseline)})` : "–");

export function experimentRows(a) {
  const models = (a.estimates && a.estimates.models) || {};
  const tails = a.tail_indices || {};
  const verdict = a.verdict || {};
  const imitation = a.imitation || {};
  const separability = a.separability || {};
  const collapse = a.neural_collapse || {};
  const rows = [
    ["Run", "iterations analysed", number(a.iterations_done ?? a.iterations)],
    ["Run", "trials", number(a.trials)],
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
      ["Rates (per iteration)", `alpha-hat, ${model}-model (tail mean)`, number(m.alpha_tail_mean)],
      ["Rates (per iteration)", `beta-hat, ${model}-model (tail mean)`, number(m.beta_tail_mean)],
      ["Rates (per iteration)", `Ahat, Bhat at the end, ${model}-model`, `${number(m.A_end)}, ${number(m.B_end)}`],
    );
  }
  const estimator = (a.estimates && a.estimates.estimator) || (a.options && a.options.estimator) || "";
  for (const name of ["A", "B", "Gamma"]) {
    rows.push([`Tail indices (${estimator}-model)`, `r of ${name} (slope fit ± 1 SE)`, rSlope(tails[name])]);
  }
  const figure4c = a.figure_4c || {};
  rows.push(
    ["Tail indices", "the paper's Figure 4c: min(r-hat_alpha, r-hat_beta), I-model, authors' formula", number(figure4c.r_hat_min)],
    ["Tail indices", "the same on the L-model (ours)", number(figure4c.L_model && figure4c.L_model.r_hat_min)],
    ["Verdict", `separability verdict (Theorem 3.1), Xbar by ${(a.labels && a.labels.option) || "trained"} label`, verdict.label || "–"],
    ["Verdict", "r_Gamma ± 1 SE (deciding window)", verdict.r_gamma == null && tails.Gamma && tails.Gamma.at_bound ? "at the fit's bound: no estimate" : withError(verdict.r_gamma, verdict.se)],
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
      ["Imitation (LE-ODE)", `nrmse, ${model}-model (holding Xbar(t0): ${number(fit.nrmse_hold)})`, number(fit.nrmse)],
      ["Imitation (LE-ODE)", `skill 1 - nrmse/nrmse_hold, ${model}-model`, number(fit.skill)],
      ["Imitation (LE-ODE)", `onset, share of the run scored, ${model}-model`, `t = ${number(fit.onset && fit.onset.iteration)}, ${percent(fit.scored_share)}`],
      ["Imitation (LE-ODE)", `class order agrees, ${model}-model`, flag(fit.all_orders_agree)],
    );
  }
  rows.push(
    ["Separability", "probe logits, final (separable trials)", versus(separability.probe)],
    ["Separability", "penultimate features, final", versus(separability.features)],
    ["Neural collapse", "NC1 of the features, initial → final", collapse.features ? `${number(collapse.features.initial.nc1)} → ${number(collapse.features.final.nc1)}` : "–"],
    ["Neural collapse", "ETF distance of the features, final", number(collapse.features && collapse.features.final.etf_distance)],
  );
  return rows;
}

// Scalar top-level entries (numbers, strings, booleans) of any other summary (simulations, sweeps).
export function scalarRows(summary, skip = []) {
  return Object.entries(summary)
    .filter(([name, value]) => !skip.includes(name) && value !== null && ["number", "string", "boolean"].includes(typeof value))
    .map(([name, value]) => ["", name.replaceAll("_", " "), typeof value === "boolean" ? flag(value) : number(value)]);
}

// A table of rows, a heading row whenever the section changes; values: one column per job.
export function metricsTable(sections, headings = null) {
  const table = el("table", { class: "metrics" });
  if (headings) table.append(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "quantity"), headings.map((heading) => el("th", { scope: "col" }, heading)))));
  const body = el("tbody");
  let section = null;
  for (const [name, label, ...values] of sections) {
    if (name && name !== section) {
      section = name;
      body.append(el("tr", { class: "section" }, el("th", { colspan: values.length + 1, scope: "rowgroup" }, name)));
    }
    body.append(el("tr", {}, el("th", { scope: "row" }, label), values.map((value) => el("td", {}, value))));
  }
  table.append(body);
  return table;
}
