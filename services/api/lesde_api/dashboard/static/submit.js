// The submit page: an experiment spec as JSON, a simulation form, a CSV import. Each posts
// to the public API and, once accepted (202), opens the new job's page.

import { ApiError, apiFetch, postJson } from "./api.js";
import { showMessage } from "./format.js";

const byId = (id) => document.getElementById(id);

function submitting(formId, errorId, send) {
  const form = byId(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    showMessage(byId(errorId), "");
    button.disabled = true;
    try {
      window.location.href = await send(form);
    } catch (error) {
      showMessage(byId(errorId), error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

// -- experiment: a JSON editor --------------------------------------------------------------

const editor = byId("spec-json");
const check = byId("spec-check");

function parsedSpec() {
  try {
    return { spec: JSON.parse(editor.value) };
  } catch (error) {
    return { error: `not valid JSON: ${error.message}` };
  }
}

function checkSpec() {
  const { error } = parsedSpec();
  showMessage(check, error || "valid JSON", error ? "error" : "muted");
  return !error;
}

editor.addEventListener("input", checkSpec);
editor.addEventListener("keydown", (event) => {
  if (event.key !== "Tab" || event.shiftKey) return; // Tab indents; Shift+Tab leaves the editor
  event.preventDefault();
  editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
});
byId("spec-format").addEventListener("click", () => {
  const { spec } = parsedSpec();
  if (spec) editor.value = JSON.stringify(spec, null, 2);
  checkSpec();
});
checkSpec();

submitting("experiment-form", "experiment-error", async () => {
  const { spec, error } = parsedSpec();
  if (error) throw new Error(error);
  const job = await postJson("/v1/experiments", spec);
  return `/ui/experiments/${job.id}`;
});

// -- simulation: a form whose bounds the server took from the spec -------------------------

submitting("simulation-form", "simulation-error", async (form) => {
  const spec = {};
  for (const input of form.querySelectorAll("input, select")) {
    if (input.tagName === "SELECT") spec[input.name] = input.value;
    else {
      const value = input.dataset.integer === "true" ? parseInt(input.value, 10) : parseFloat(input.value);
      spec[input.name] = input.dataset.schedule ? { kind: input.dataset.schedule, value } : value;
    }
  }
  const job = await postJson("/v1/simulations", spec);
  return `/ui/simulations/${job.id}`;
});

// -- import: a CSV upload ---------------------------------------------------------------------

submitting("import-form", "import-error", async (form) => {
  const data = new FormData(form);
  for (const name of ["classes", "name"]) if (!data.get(name)) data.delete(name);
  const response = await apiFetch("/v1/imports", { method: "POST", body: data });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return `/ui/imports/${body.id}`;
});
