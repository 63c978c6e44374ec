// What the comparison computes, apart from the page: which spec fields differ, and the
// difference and ratio of two numbers. Pure functions (no DOM), so a test can import them.

import { number, PRECISION } from "./format.js";

// {dotted.path: value} of a spec: nested objects flattened, lists and other values kept whole
// (a list of layers differs as one field, not element by element).
export function flatten(value, prefix = "", out = {}) {
  const isObject = value !== null && typeof value === "object" && !Array.isArray(value);
  if (!isObject || (!Object.keys(value).length && prefix)) {
    if (prefix) out[prefix] = value;
    return out;
  }
  for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  return out;
}

// [{path, a, b}] for every field whose value differs between specs a and b, in a's field
// order then b's new ones; a field one spec lacks is undefined there.
export function specDiff(a, b) {
  const left = flatten(a || {});
  const right = flatten(b || {});
  const paths = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  return paths.filter((path) => JSON.stringify(left[path]) !== JSON.stringify(right[path])).map((path) => ({ path, a: left[path], b: right[path] }));
}

// A spec value as shown: JSON (so "1" and 1 differ visibly); "–" where the spec has no such field.
export function specValue(value) {
  return value === undefined ? "–" : JSON.stringify(value);
}

// The number a cell stands for (metrics.js measured), else null: text is never parsed back.
export function numberOf(cell) {
  return cell !== null && typeof cell === "object" && typeof cell.value === "number" && Number.isFinite(cell.value) ? cell.value : null;
}

// B − A, signed; a fraction shown in percent differs in percentage points. "–" unless both are numbers.
export function difference(a, b) {
  const [x, y] = [numberOf(a), numberOf(b)];
  if (x === null || y === null) return "–";
  const delta = y - x;
  if (delta === 0) return a.fraction ? "0 pp" : "0";
  if (Math.abs(delta) < PRECISION) return number(delta); // rounding noise: no sign to read into it
  const sign = delta > 0 ? "+" : "-"; // the hyphen-minus of every other number on the page
  const size = Math.abs(delta);
  return a.fraction ? `${sign}${(100 * size).toFixed(1)} pp` : `${sign}${number(size)}`;
}

// B / A, only where a ratio means something: both numbers positive (a ratio of a negative
// skill to a positive one, or anything over 0, says nothing).
export function ratio(a, b) {
  const [x, y] = [numberOf(a), numberOf(b)];
  if (x === null || y === null || !(x > 0) || !(y > 0)) return "–";
  return `${number(y / x)}×`;
}
