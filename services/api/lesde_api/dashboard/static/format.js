// Building the page from API data: elements (text only, never HTML from data), numbers,
// times, status badges and progress bars.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Below this a float is rounding noise (an ETF distance of two class means, a difference of
// equal numbers): printed as 3e-17 it would read as a result, so it is shown as zero, saying so.
export const PRECISION = 1e-12;

export function number(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  if (value !== 0 && Math.abs(value) < PRECISION) return "0 (below 1e-12)";
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return value.toLocaleString("en-US");
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(2);
  return value.toLocaleString("en-US", { maximumSignificantDigits: digits + 1 });
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)} %`;
}

export function withError(value, error) {
  return error === null || error === undefined ? number(value) : `${number(value)} ± ${number(error, 2)}`;
}

export function bytes(size) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return date.toLocaleString("en-GB", { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function ago(iso) {
  if (!iso) return "";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  return seconds < 5 ? "just now" : `${duration(Math.max(seconds, 0))} ago`;
}

export const FINISHED = ["succeeded", "failed", "cancelled"];

export function isFinished(status) {
  return FINISHED.includes(status);
}

export function setBadge(node, status) {
  node.textContent = status || "–";
  node.dataset.status = status || "";
  node.className = "badge";
}

export function badge(status) {
  const node = el("span");
  setBadge(node, status);
  return node;
}

// The fraction done (0 to 1) of a progress object {done, total, unit, rate, eta_seconds}.
export function fraction(progress, status) {
  if (status === "succeeded") return 1;
  if (!progress || !progress.total) return 0;
  return Math.min(1, progress.done / progress.total);
}

export function progressText(progress, status) {
  if (!progress) return "";
  const parts = [`${number(progress.done)} / ${number(progress.total)} ${progress.unit}`];
  if (progress.rate && !isFinished(status)) parts.push(`${number(progress.rate, 3)} ${progress.unit === "steps" ? "steps" : "trial-it"}/s`);
  if (progress.eta_seconds && !isFinished(status)) parts.push(`ETA ${duration(progress.eta_seconds)}`);
  return parts.join(" · ");
}

// Set a bar (a .bar element holding a .fill) to a fraction, for people and for scripts.
export function setBar(bar, value, status) {
  const pct = Math.round(1000 * value) / 10;
  bar.querySelector(".fill").style.width = `${pct}%`;
  bar.setAttribute("aria-valuenow", String(pct));
  bar.dataset.fraction = String(value);
  bar.dataset.status = status || "";
}

export function bar(value, status) {
  const node = el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 }, el("div", { class: "fill" }));
  setBar(node, value, status);
  return node;
}

export function showMessage(node, text, kind = "notice") {
  node.textContent = text;
  node.className = kind;
  node.hidden = !text;
}

// -- names -------------------------------------------------------------------------------

// What a job is called on every page (the list, its own page, the comparison): its name;
// an unnamed simulation is called after its spec ("sde, I-model, K = 2"), anything else
// unnamed gets fallback. kind: "simulation" or "simulations" (the list's or the API's word).
export function displayName(job, kind, fallback = "(unnamed)") {
  if (job.name) return job.name;
  const title = kind && kind.startsWith("simulation") ? simulationTitle(job.spec) : "";
  return title || fallback;
}

function runTitle(spec) {
  return `${spec.mode}, ${spec.model}-model, K = ${spec.classes}`;
}

// A phase diagram's spec is {base, grid}; a single simulation's has mode, model and classes.
export function simulationTitle(spec) {
  if (!spec) return "";
  if (spec.grid) return spec.base && spec.base.mode ? `phase diagram (${spec.grid.kind}), ${runTitle(spec.base)}` : "phase diagram";
  return spec.mode ? runTitle(spec) : "";
}
