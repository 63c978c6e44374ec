// Talking to the public /v1 API from the browser: the API key, JSON calls, the event
// stream, figures and downloads. Every request goes through apiFetch, which adds
// "Authorization: Bearer <key>" when a key is stored and, on a 401, asks for a key once
// (however many requests met the 401 at the same time) and repeats the request with it.

const KEY_STORAGE = "lesde.apiKey";

export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage disabled: work without a key
  }
}

function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: the key lives until the page closes */
  }
  sessionKey = key;
}

let sessionKey = storedKey();
let pendingPrompt = null; // one prompt answers every request waiting on a key

function keyPanel() {
  return document.getElementById("api-key");
}

function askForKey(message) {
  if (pendingPrompt) return pendingPrompt;
  pendingPrompt = new Promise((resolve) => {
    const panel = keyPanel();
    document.getElementById("api-key-message").textContent = message;
    panel.hidden = false;
    const input = panel.elements.key;
    input.value = "";
    input.focus();
    panel.onsubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      storeKey(key);
      panel.hidden = true;
      pendingPrompt = null;
      showKeyToggle();
      resolve(key);
    };
  });
  return pendingPrompt;
}

function showKeyToggle() {
  const toggle = document.getElementById("api-key-toggle");
  if (!toggle) return;
  toggle.hidden = !sessionKey;
  toggle.onclick = () => {
    keyPanel().hidden = !keyPanel().hidden;
  };
  document.getElementById("api-key-forget").onclick = () => {
    storeKey("");
    keyPanel().hidden = true;
    toggle.hidden = true;
  };
}

export async function apiFetch(path, options = {}) {
  for (;;) {
    const headers = new Headers(options.headers || {});
    if (sessionKey) headers.set("Authorization", `Bearer ${sessionKey}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    const body = await response.json().catch(() => ({}));
    const reason = typeof body.detail === "string" ? body.detail : "an API key is required";
    await askForKey(sessionKey ? `The stored key was refused (${reason}). Enter another:` : `This server needs an API key (${reason}).`);
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super(errorMessage(status, body));
    this.status = status;
    this.body = body;
  }
}

// The gateway answers errors as {"message": "field: reason", "detail": [...]} (422) or {"detail": "..."}.
export function errorMessage(status, body) {
  if (body && typeof body.message === "string") return body.message;
  if (body && typeof body.detail === "string") return body.detail;
  if (body && body.detail !== undefined) return JSON.stringify(body.detail);
  return `HTTP ${status}`;
}

export async function apiJson(path, options = {}) {
  const response = await apiFetch(path, options);
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export function postJson(path, payload) {
  return apiJson(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
}

// Server-Sent Events read through fetch (EventSource cannot send the Authorization header).
// Yields {event, data, id} with data parsed from JSON; returns when the server closes the stream.
export async function* serverEvents(path, signal) {
  const response = await apiFetch(path, { headers: { Accept: "text/event-stream" }, signal });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseEvent(block);
      if (message) yield message;
    }
  }
}

function parseEvent(block) {
  let event = "message";
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue; // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (!data.length) return null;
  return { event, id, data: JSON.parse(data.join("\n")) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Show the PNG at url in img: fetched (so the key goes with it) and shown as a blob.
// A 202 means the figure is being rendered: ask again a few times.
export async function showImage(img, url) {
  for (let attempt = 0; attempt < 30; attempt++) {
    const response = await apiFetch(url);
    if (response.status === 202) {
      await sleep(2000);
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    const blob = await response.blob();
    const loaded = new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error(`${url} is not an image`));
    });
    img.src = URL.createObjectURL(blob);
    return loaded;
  }
  throw new Error(`${url} was still being rendered after a minute`);
}

// Links to /v1 downloads work as plain links on an open server; with a key, a click
// fetches the file with the key and saves it under the name the server gives.
export function keyedDownloads(root) {
  root.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-download]");
    if (!link || !sessionKey) return;
    event.preventDefault();
    const response = await apiFetch(link.href);
    if (!response.ok) {
      alert(errorMessage(response.status, await response.json().catch(() => null)));
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const named = /filename="?([^";]+)"?/.exec(disposition);
    const save = document.createElement("a");
    save.href = URL.createObjectURL(await response.blob());
    save.download = named ? named[1] : link.href.split("/").pop();
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(save.href), 60_000);
  });
}

showKeyToggle();
