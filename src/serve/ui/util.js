// Small helpers shared by the pages: the API, element building, messages.

/** A JSON API call with the session cookie; a non-2xx answer throws its one-line error. */
export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const error = new Error((data && data.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** h("div", { class: "x", onclick }, child, "text", …): an element. */
export function h(tag, attributes = {}, ...children) {
  const node = tag === "svg" || ["path", "line", "circle", "rect", "text", "g", "polyline", "polygon"].includes(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: the page's CSP allows no inline style attributes.
    else if (key === "style") node.style.cssText = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer;
/** A short message at the bottom of the page. */
export function toast(message, bad = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = bad ? "bad" : "";
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), bad ? 5000 : 2500);
}

export const percent = (v, digits = 1) => `${(100 * v).toFixed(digits)}%`;
export const projectPath = (name, rest = "") => `/api/projects/${encodeURIComponent(name)}${rest}`;

/** Keys after 1–9 and 0, in keyboard order; s and z are taken (skip, undo). */
const LETTER_KEYS = "qwertyuiopadfghjklxcvbnm";

/**
 * The key that labels each class: the class's own name when every class is a single digit (so
 * MNIST's "3" is the key 3), else 1–9 and 0 by position (CIFAR-10's tenth class is 0), then
 * letters; past those (over 34 classes) a class is picked with the filter box.
 */
export function classKeys(classes) {
  const digits = classes.every((c) => /^[0-9]$/.test(c)) && new Set(classes).size === classes.length;
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", ...LETTER_KEYS];
  return classes.map((c, i) => (digits ? c : keys[i] ?? null));
}

/**
 * Replace a node's children. Lists are flattened and null/false placeholders dropped: given to
 * replaceChildren itself, a list or a null would be printed as text ("null").
 */
export function setChildren(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
