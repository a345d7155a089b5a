// Small helpers shared by the pages: the API, element building, messages.

const PAGE_KEY = "alfamix.page-key";

/**
 * The session's page key: it arrives in the fragment of the login redirect (#k=…) and is kept in
 * localStorage, which no page of another origin can read or write; every API call sends it, so a
 * session cookie pushed in by another page opens nothing.
 */
export function takePageKey() {
  const m = /(?:^#|&)k=([\w-]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem(PAGE_KEY, m[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }
}
export const forgetPageKey = () => localStorage.removeItem(PAGE_KEY);
export const pageHeaders = () => ({ "x-alfamix-page": localStorage.getItem(PAGE_KEY) ?? "" });

/** A JSON API call with the session cookie and the page key; a non-2xx answer throws its one-line error. */
export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { ...pageHeaders(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  } catch {
    throw new Error("The server cannot be reached; nothing was saved. Check the connection and try again.");
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const message = response.status === 401 && path !== "/api/me"
      ? "You are logged out (your access was revoked or expired, or you logged in elsewhere): open a new login link. Nothing was saved."
      : (data && data.error) || `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** Download an API file (an export) with the page key, as a file of `name`. */
export async function download(path, name) {
  const response = await fetch(path, { credentials: "same-origin", headers: pageHeaders() });
  if (!response.ok) throw new Error(((await response.json().catch(() => null)) ?? {}).error ?? `${response.status} ${response.statusText}`);
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
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

/**
 * A clip: the player (muted, looping, with controls) and under it a strip of its key frames, so
 * most clips can be labelled at a glance. A click on a frame pauses the player there.
 */
export function clipView(display, id) {
  const player = h("video", { src: display.url, autoplay: true, loop: true, muted: true, controls: true, playsinline: true, preload: "auto", "aria-label": `clip ${id}` });
  player.muted = true; // the attribute alone sets only the default
  const strip = h("div", { class: "key-frames" });
  const caption = h("div", { class: "muted key-caption" });
  drawKeyFrames(display, player, strip, caption).catch(() => {
    caption.textContent = "The clip's frames cannot be shown here.";
  });
  return h("div", { class: "clip" }, player, strip, caption);
}

const once = (target, event) => new Promise((resolve, reject) => {
  target.addEventListener(event, resolve, { once: true });
  target.addEventListener("error", reject, { once: true });
});

/** Draw each key frame from a second, hidden player (seeking the visible one would interrupt it). */
async function drawKeyFrames(display, player, strip, caption) {
  const probe = document.createElement("video");
  probe.muted = true;
  probe.preload = "auto";
  probe.src = display.url;
  await once(probe, "loadedmetadata");
  const chosen = display.keyFrames?.length > 0;
  // Without chosen frames (a video model's embeddings), four frames spread evenly.
  const times = chosen ? display.keyFrames : [0.125, 0.375, 0.625, 0.875].map((f) => f * probe.duration);
  caption.textContent = chosen
    ? "Key frames: the frames nearest the centres of the clip's frame embeddings, in time order. Click one to pause there."
    : "Frames spread evenly over the clip. Click one to pause there.";
  const width = 132, height = Math.round((width * probe.videoHeight) / probe.videoWidth) || 99;
  for (const time of times) {
    const canvas = h("canvas", { width, height });
    const frame = h("button", {
      type: "button", class: "key-frame", tabindex: "-1", title: `jump to ${time.toFixed(2)} s`,
      onclick: (e) => { player.pause(); player.currentTime = time; e.currentTarget.blur(); },
    }, canvas, h("span", { text: `${time.toFixed(1)} s` }));
    strip.append(frame);
    // Just past the frame's own time, so the frame that starts there is the one drawn.
    probe.currentTime = Math.min(time + 0.001, probe.duration);
    await once(probe, "seeked");
    canvas.getContext("2d").drawImage(probe, 0, 0, width, height);
  }
  probe.removeAttribute("src");
  probe.load();
}
