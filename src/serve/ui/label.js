// The labelling page: one item large, the next one already fetched, keys for everything.
// Keys: 1–9 label (0–9 when the classes are the digits), Enter accepts the model's guess, s skips,
// z undoes your last label.
import { api, classKeys, h, percent, projectPath, toast } from "./util.js";

const AHEAD = 2; // the item shown and the one after it, both leased
const HEARTBEAT_MS = 30000;

export async function labelPage(app, name) {
  const status = await api("GET", projectPath(name, "/status"));
  const classes = status.classes, keys = classKeys(classes);
  const ahead = []; // served items, ahead[0] is on screen
  const history = []; // item ids this page labelled, for undo
  let waiting = null; // why there is nothing to show
  let busy = false, mine = 0;

  const counters = h("div", { class: "stats" });
  const stage = h("div", { class: "stage", id: "stage" });
  const side = h("div", { class: "side" });
  const buttons = h("div", { class: "classes" }, classes.map((c, i) => h("button", { type: "button", "data-class": c, onclick: () => label(c) }, h("span", { text: c }), keys[i] ? h("kbd", { text: keys[i] }) : null)));
  app.replaceChildren(
    h("div", { class: "label-head" }, h("h1", {}, h("a", { href: `/p/${encodeURIComponent(name)}`, text: name })), counters),
    h("div", { class: "label-page" },
      h("div", {}, stage, buttons,
        h("div", { class: "keys" },
          h("span", {}, h("kbd", { text: keys.find(Boolean) ?? "1" }), "–", h("kbd", { text: keys.filter(Boolean).at(-1) ?? "9" }), " label"),
          h("span", {}, h("kbd", { text: "Enter" }), " accept the guess"),
          h("span", {}, h("kbd", { text: "s" }), " skip"),
          h("span", {}, h("kbd", { text: "z" }), " undo"))),
      side));

  const showCounters = (s) => counters.replaceChildren(
    h("div", { class: "stat", id: "labeled" }, h("b", { text: s.labeled.toLocaleString() }), h("span", { text: `of ${s.pool.toLocaleString()} labelled` })),
    h("div", { class: "stat", id: "queued" }, h("b", { text: s.queued }), h("span", { text: "queued" })),
    h("div", { class: "stat", id: "model" }, h("b", { text: s.modelVersion === null ? "–" : `v${s.modelVersion}` }), h("span", { text: "model" })),
    h("div", { class: "stat", id: "retrain" }, s.retraining ? h("span", { class: "spinner", title: "retraining" }) : null, h("span", { text: s.retraining ? " retraining…" : "" })),
    h("div", { class: "stat" }, h("b", { text: mine }), h("span", { text: "by you" })));
  showCounters(status);
  const poll = async () => {
    try {
      showCounters(await api("GET", projectPath(name, "/status")));
    } catch {
      // the next poll will tell
    }
  };
  setInterval(poll, 3000);

  /** Lease items until two are in hand (or the server has none). */
  async function fill() {
    while (ahead.length < AHEAD) {
      const served = await api("GET", projectPath(name, "/next"));
      if (!served.item) {
        waiting = served.reason;
        return;
      }
      waiting = null;
      if (served.display.kind === "image") new Image().src = served.display.url; // prefetch
      ahead.push(served);
    }
  }

  function show() {
    const current = ahead[0];
    for (const b of buttons.children) b.classList.toggle("suggested", !!current?.suggestion && b.dataset.class === current.suggestion.label);
    if (!current) {
      stage.replaceChildren(h("div", { class: "done" }, h("b", { text: waiting?.startsWith("nothing") ? "Nothing to label" : "Waiting for items" }), h("span", { text: waiting ?? "" })));
      side.replaceChildren();
      return;
    }
    stage.replaceChildren(h("div", { class: "item-id", text: current.item.id }), render(current.display));
    const s = current.suggestion, why = current.why;
    side.replaceChildren(
      h("div", { class: "card", id: "suggestion" }, h("div", { class: "muted", text: "The model's guess" }),
        s ? [h("div", { class: "guess", text: s.label }), h("div", { class: "confidence" }, h("div", { style: `width:${100 * s.confidence}%` })),
          h("div", { class: "muted" }, `${percent(s.confidence)} sure · `, h("kbd", { text: "Enter" }), " accepts")]
          : h("div", { class: "muted", text: "No model yet: the first one trains once every class has a label." })),
      h("div", { class: "card", id: "why" }, h("div", { class: "muted", text: "Why this item" }), whyText(why)));
  }

  function render(display) {
    if (display.kind === "image") {
      const img = h("img", { src: display.url, alt: ahead[0].item.id });
      img.addEventListener("load", () => img.classList.toggle("photo", img.naturalWidth > 96));
      return img;
    }
    if (display.kind === "text") return h("div", { class: "text", text: display.text });
    return h("div", {}, h("table", {},
      h("tr", {}, h("th", { text: "features" }), h("th", { text: "norm" }), h("th", { text: "min" }), h("th", { text: "mean" }), h("th", { text: "max" })),
      h("tr", {}, h("td", { class: "num", text: display.dim }), h("td", { class: "num", text: display.norm }), h("td", { class: "num", text: display.min }), h("td", { class: "num", text: display.mean }), h("td", { class: "num", text: display.max }))),
    h("h2", { style: "margin-top:18px", text: "Nearest labelled items" }),
    display.neighbours.length ? h("table", {}, display.neighbours.map((n) => h("tr", {}, h("td", { text: n.id }), h("td", { text: n.label }), h("td", { class: "num", text: `distance ${n.distance}` }))))
      : h("p", { class: "muted", text: "none labelled yet" }));
  }

  function whyText(why) {
    const lines = [];
    if (why.random) lines.push(h("p", {}, h("span", { class: "pill warn", text: "random" }), " Drawn at random so the model's accuracy can be estimated without bias."));
    else if (why.coldStart) lines.push(h("p", {}, h("span", { class: "pill accent", text: "cold start" }), " Part of a k-means cover of the pool: until every class has a label, items are spread over the whole space."));
    else if (why.strategy === "alfamix") {
      lines.push(h("p", {}, h("span", { class: "pill accent", text: "ALFA-Mix" }), ` Mixing it with labelled examples changes the model's prediction: it sits near a class boundary.`));
      if (why.flips?.length) lines.push(h("p", {}, "The anchors that flip it: ", h("b", { text: why.flips.join(", ") })));
    } else lines.push(h("p", {}, h("span", { class: "pill accent", text: why.strategy })));
    if (why.score !== null && why.score !== undefined) lines.push(h("p", { class: "muted", text: `score ${why.score}${why.scoreName ? ` (${why.scoreName})` : ""}` }));
    lines.push(h("p", { class: "muted", text: why.modelVersion === null ? "no model yet" : `model v${why.modelVersion}` }));
    return lines;
  }

  async function advance(action) {
    if (busy) return;
    busy = true;
    try {
      await action();
      await fill();
    } catch (e) {
      toast(e.message, true);
      if (e.status === 409 || e.status === 404) {
        ahead.shift(); // the lease was lost: go on with the next item
        await fill().catch(() => undefined);
      }
    } finally {
      busy = false;
      show();
    }
  }

  function flash(label) {
    const b = [...buttons.children].find((x) => x.dataset.class === label);
    b?.classList.add("flash");
    setTimeout(() => b?.classList.remove("flash"), 150);
  }

  const label = (value) => advance(async () => {
    const current = ahead[0];
    if (!current) return;
    flash(value);
    await api("POST", projectPath(name, "/labels"), { item: current.item.id, label: value, lease: current.lease });
    ahead.shift();
    history.push(current.item.id);
    mine++;
    toast(`${current.item.id}: ${value}`);
  });

  const skip = () => advance(async () => {
    const current = ahead[0];
    if (!current) return;
    await api("POST", projectPath(name, "/skip"), { item: current.item.id, lease: current.lease });
    ahead.shift();
    toast(`skipped ${current.item.id}`);
  });

  const undo = () => advance(async () => {
    const last = history.pop();
    if (last === undefined) return toast("Nothing to undo on this page");
    ahead.unshift(await api("DELETE", projectPath(name, `/labels/${encodeURIComponent(last)}`)));
    mine--;
    toast(`undone: ${last} is back`);
  });

  addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target instanceof HTMLInputElement) return;
    const k = keys.indexOf(e.key);
    if (k >= 0) label(classes[k]);
    else if (e.key === "Enter" && ahead[0]?.suggestion) label(ahead[0].suggestion.label);
    else if (e.key === "s" || e.key === "S") skip();
    else if (e.key === "z" || e.key === "Z") undo();
    else return;
    e.preventDefault();
  });

  // Keep the leases alive while the page is open; give them back when it closes.
  setInterval(() => {
    for (const s of ahead) api("POST", projectPath(name, "/heartbeat"), { item: s.item.id, lease: s.lease }).catch(() => undefined);
  }, HEARTBEAT_MS);
  addEventListener("pagehide", () => {
    for (const s of ahead) {
      fetch(projectPath(name, "/release"), { method: "POST", keepalive: true, credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify({ item: s.item.id, lease: s.lease }) });
    }
  });
  // With nothing to show, look again now and then (a retrain may bring a batch).
  setInterval(() => {
    if (!ahead.length && !busy && !waiting?.startsWith("nothing")) advance(async () => undefined);
  }, 3000);

  await fill().catch((e) => toast(e.message, true));
  show();
}
