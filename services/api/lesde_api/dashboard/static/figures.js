// A figure as the pages show it: the PNG fetched as a blob (api.js showImage: the API key
// goes with it) at most as wide as its panel, a click on it opening it full size, and links
// to the same figure as PNG, SVG and PDF. The links are data-download links, so on a server
// with keys api.js keyedDownloads fetches them with the key like every other download.

import { showImage } from "./api.js";
import { el } from "./format.js";

export const FORMATS = ["png", "svg", "pdf"];

// The figure in another format: the PNG's URL with its extension swapped, its query (an
// options_key) kept, since the server serves every format of a figure under one name.
export function formatUrl(pngUrl, format) {
  const url = new URL(pngUrl, window.location.origin);
  url.pathname = url.pathname.replace(/\.png$/, `.${format}`);
  return url.pathname + url.search;
}

export function formatLinks(pngUrl, name) {
  return el(
    "span",
    { class: "formats" },
    FORMATS.map((format) => el("a", { href: formatUrl(pngUrl, format), download: true, dataset: { download: "", format }, title: `${name} as ${format.toUpperCase()}` }, format.toUpperCase())),
  );
}

// A <figure>: the image (not yet loaded), its caption text and the format links.
// Returns {node, img, caption, load}; load(url) shows the PNG at url (default: pngUrl) and
// makes the image a link to what it shows.
export function figureBlock({ pngUrl, name, alt, caption, dataset = {} }) {
  const img = el("img", { alt, dataset: { name, ...dataset } });
  const link = el("a", { href: pngUrl, target: "_blank", rel: "noopener", title: "open full size" }, img);
  const text = el("span", { class: "caption" }, caption);
  const captionNode = el("figcaption", {}, text, formatLinks(pngUrl, name));
  const load = async (url = pngUrl) => {
    await showImage(img, url);
    link.href = img.src; // the blob: opens full size without asking the server (and its key) again
  };
  const fail = (error) => text.append(el("span", { class: "error" }, ` — ${error.message}`));
  return { node: el("figure", {}, link, captionNode), img, load, fail };
}
