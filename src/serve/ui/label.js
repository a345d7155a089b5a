// The labelling page: one item large, the next one already fetched, keys for everything.
// Keys: every class has one (1–9, 0, then letters; the digits themselves when the classes are
// digits), Enter accepts the model's guess, s skips, z undoes your last label, / filters classes.
// Keystrokes queue: pressed faster than the server answers, each still applies, in order, to the
// item on screen when its turn comes.
import { api, classKeys, clipView, h, pageHeaders, percent, projectPath, setChildren, toast } from "./util.js";

const AHEAD = 2; // the item shown and the one after it, both leased
const HEARTBEAT_MS = 30000;
const POLL_MS = 3000;

/** "1–9", "1–9, 0" or "1–9, 0, q–x": the keys that label, as runs. */
function keyRange(keys) {
  const run = (from, to) => (from === to ? [h("kbd", { text: from })] : [h("kbd", { text: from }), "–", h("kbd", { text: to })]);
  const digits = keys.filter((k) => /^[0-9]$/.test(k)), letters = keys.filter((k) => !/^[0-9]$/.test(k));
  const parts = [];
  if (digits.length) parts.push(digits.includes("0") && digits[0] !== "0" ? [run(digits[0], digits.at(-2)), ", ", h("kbd", { text: "0" })] : run(digits[0], digits.at(-1)));
  if (letters.length) parts.push(", ", run(letters[0], letters.at(-1)));
  return parts;
}

export async function labelPage(app, name) {
  let status = await api("GET", projectPath(name, "/status"));
  const classes = status.classes, keys = classKeys(classes);
  const ahead = []; // served items, ahead[0] is on screen
  const history = []; // item ids this page labelled, for undo
  let waiting = null; // why there is nothing to show
  let pending = 0; // queued keystrokes not yet done
  let changes = 0; // answers to labels, skips and undos so far: a poll sent before the last one is stale

  const counters = h("div", { class: "stats" });
  const phase = h("div", { class: "phase muted", id: "phase" });
  const stage = h("div", { class: "stage", id: "stage" });
  const side = h("div", { class: "side" });
  const buttons = h("div", { class: "classes" }, classes.map((c, i) => h("button", { type: "button", "data-class": c, onclick: () => labelWith(() => c) }, h("span", { text: c }), keys[i] ? h("kbd", { text: keys[i] }) : null)));
  const filter = classes.length > 10 ? h("input", { id: "filter", type: "search", placeholder: "type to filter the classes (/), Enter picks the first", autocomplete: "off" }) : null;
  const keyNames = keys.filter(Boolean);
  setChildren(app, 
    h("div", { class: "label-head" }, h("h1", {}, h("a", { href: `/p/${encodeURIComponent(name)}`, text: name })), counters),
    phase,
    h("div", { class: "label-page" },
      h("div", {}, stage, filter, buttons,
        h("div", { class: "keys" },
          h("span", {}, keyRange(keyNames), " label"),
          h("span", {}, h("kbd", { text: "Enter" }), " accept the guess"),
          h("span", {}, h("kbd", { text: "s" }), " skip"),
          h("span", {}, h("kbd", { text: "z" }), " undo"),
          filter ? h("span", {}, h("kbd", { text: "/" }), " filter") : null)),
      side));

  function showCounters() {
    const s = status;
    setChildren(counters, 
      h("div", { class: "stat", id: "labeled" }, h("b", { text: s.labeled.toLocaleString() }), h("span", { text: `of ${s.pool.toLocaleString()} labelled` })),
      h("div", { class: "stat", id: "queued" }, h("b", { text: s.queued }), h("span", { text: "queued" })),
      h("div", { class: "stat", id: "model" }, h("b", { text: s.modelVersion === null ? "–" : `v${s.modelVersion}` }), h("span", { text: "model" })),
      h("div", { class: "stat", id: "mine" }, h("b", { text: s.mine }), h("span", { text: "by you" })));
    setChildren(phase, s.retraining || s.coldStart ? h("span", { class: "spinner" }) : null, " ", s.phase);
  }
  showCounters();

  const poll = async () => {
    const asked = changes;
    let fresh;
    try {
      fresh = await api("GET", projectPath(name, "/status"));
    } catch {
      return; // the next poll will tell
    }
    if (asked !== changes) return; // a label landed meanwhile: this answer is older than what is shown
    const newModel = fresh.modelVersion !== status.modelVersion;
    status = fresh;
    showCounters();
    if (newModel) await refreshGuesses();
  };
  setInterval(poll, POLL_MS);

  /** A new model: bring the guesses of the held items up to date (the heartbeat does it). */
  async function refreshGuesses() {
    for (const s of ahead.filter((x) => x.kind === "label")) {
      try {
        const beat = await api("POST", projectPath(name, "/heartbeat"), { item: s.item.id, lease: s.lease });
        s.suggestion = beat.suggestion;
        s.why.modelVersion = beat.modelVersion;
      } catch {
        // the lease is gone: labelling it will say so
      }
    }
    show();
  }

  /** Lease items until two are in hand (or the server has none). */
  async function fill() {
    while (ahead.length < AHEAD) {
      const served = await api("GET", projectPath(name, "/next"));
      if (!served.item) {
        waiting = served.reason;
        return;
      }
      waiting = null;
      if (ahead.some((x) => x.lease === served.lease)) return; // we hold all we may: the server gave one back
      if (served.display.kind === "image") new Image().src = served.display.url; // prefetch
      ahead.push(served);
    }
  }

  function show() {
    const current = ahead[0];
    for (const b of buttons.children) b.classList.toggle("suggested", !!current?.suggestion && b.dataset.class === current.suggestion.label);
    if (!current) {
      setChildren(stage, h("div", { class: "done" }, h("b", { text: waiting?.startsWith("nothing") ? "Nothing to label" : "Waiting for items" }), h("span", { text: waiting ?? "" })));
      setChildren(side);
      return;
    }
    setChildren(stage, h("div", { class: "item-id", text: current.item.id }), render(current.display), pending > 1 ? h("div", { class: "pending", text: `${pending - 1} more keys queued` }) : null);
    setChildren(side, h("div", { class: "card", id: "suggestion" }, guessCard(current)), h("div", { class: "card", id: "why" }, h("div", { class: "muted", text: "Why this item" }), whyText(current.why)));
  }

  function guessCard(item) {
    const s = item.suggestion;
    if (item.kind === "check") return [h("div", { class: "muted", text: "Second look" }), h("p", { text: "Someone else labelled this item too. Label it as you see it: the two labels are compared, and a disagreement goes to review." })];
    if (s) return [h("div", { class: "muted", text: "The model's guess" }), h("div", { class: "guess", text: s.label }), h("div", { class: "confidence" }, h("div", { style: `width:${100 * s.confidence}%` })),
      h("div", { class: "muted" }, `${percent(s.confidence)} sure · `, h("kbd", { text: "Enter" }), " accepts"), guessTerms(item.display.guessTerms, s.label)];
    if (status.modelVersion === null) {
      const labelled = classes.filter((c) => status.classCounts[c]).length;
      return [h("div", { class: "muted", text: "The model's guess" }), h("p", { class: "muted", text: labelled === classes.length
        ? "The first model is training: its guesses appear in a moment. Press a class key meanwhile."
        : `No model yet: the first one trains once every class has a label (${labelled} of ${classes.length} classes have one). Press a class key.` })];
    }
    return [h("div", { class: "muted", text: "The model's guess" }), h("p", { class: "muted", text: "No guess for this item. Press a class key." })];
  }

  function render(display) {
    if (display.kind === "image") {
      const img = h("img", { src: display.url, alt: ahead[0].item.id });
      img.addEventListener("load", () => img.classList.toggle("photo", img.naturalWidth > 96));
      return img;
    }
    if (display.kind === "text") return h("div", { class: "text", tabindex: "0" }, marked(display.text, display.guessTerms));
    if (display.kind === "video") return clipView(display, ahead[0].item.id);
    return h("div", {}, h("table", {},
      h("tr", {}, h("th", { text: "features" }), h("th", { text: "norm" }), h("th", { text: "min" }), h("th", { text: "mean" }), h("th", { text: "max" })),
      h("tr", {}, h("td", { class: "num", text: display.dim }), h("td", { class: "num", text: display.norm }), h("td", { class: "num", text: display.min }), h("td", { class: "num", text: display.mean }), h("td", { class: "num", text: display.max }))),
    h("h2", { class: "gap", text: "Nearest labelled items" }),
    display.neighbours.length ? h("table", {}, display.neighbours.map((n) => h("tr", {}, h("td", { text: n.id }), h("td", { text: n.label }), h("td", { class: "num", text: `distance ${n.distance}` }))))
      : h("p", { class: "muted", text: "none labelled yet" }));
  }

  /** The words that pushed the guess, strongest first (text projects on TF-IDF with a linear head). */
  function guessTerms(terms, label) {
    if (!terms?.terms.length) return null;
    return h("div", { class: "guess-terms" }, h("div", { class: "muted", text: `Why ${label} rather than ${terms.against}:` }),
      terms.terms.slice(0, 6).map((t) => h("span", { class: "term", title: `adds ${t.weight} to the score of ${label} over ${terms.against}`, text: t.term })));
  }

  /** The text with the n-grams behind the guess marked; where two overlap, the stronger wins. */
  function marked(text, terms) {
    if (!terms?.terms.length) return text;
    const spans = terms.terms.flatMap((t) => t.spans.map(([start, end]) => ({ start, end, t }))).sort((a, b) => b.t.weight - a.t.weight);
    const kept = [];
    for (const span of spans) if (!kept.some((k) => span.start < k.end && k.start < span.end)) kept.push(span);
    kept.sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const { start, end, t } of kept) {
      parts.push(text.slice(at, start), h("mark", { title: `"${t.term}" pushed the guess over ${terms.against} (+${t.weight})`, text: text.slice(start, end) }));
      at = end;
    }
    parts.push(text.slice(at));
    return parts;
  }

  function whyText(why) {
    const lines = [];
    if (why.check) lines.push(h("p", {}, h("span", { class: "pill accent", text: "second look" }), " A share of items is labelled twice, blind, to measure agreement."));
    else if (why.random) lines.push(h("p", {}, h("span", { class: "pill warn", text: "random" }), " Drawn at random so the model's accuracy can be estimated without bias."));
    else if (why.coldStart) lines.push(h("p", {}, h("span", { class: "pill accent", text: "cold start" }), " Picked by TypiClust: until every class has a label there is no model, so the queue takes the most typical item of the clusters with the fewest labels, spreading over the whole space."));
    else if (why.strategy === "alfamix") {
      lines.push(h("p", {}, h("span", { class: "pill accent", text: "ALFA-Mix" }), " Mixing it with labelled examples changes the model's prediction: it sits near a class boundary."));
      if (why.flips?.length) lines.push(h("p", {}, "The anchors that flip it: ", h("b", { text: why.flips.join(", ") })));
    } else if (why.strategy === "undone") lines.push(h("p", {}, h("span", { class: "pill", text: "undone" }), " You took your label back: label it again."));
    else lines.push(h("p", {}, h("span", { class: "pill accent", text: why.strategy })));
    if (why.score !== null && why.score !== undefined) lines.push(h("p", { class: "muted", text: `score ${why.score}${why.scoreName ? `: ${why.scoreName}` : ""}` }));
    lines.push(h("p", { class: "muted", text: why.modelVersion === null ? "no model yet" : `model v${why.modelVersion}` }));
    return lines;
  }

  /** Run `action` after every key pressed before it; a failure is shown and the queue goes on. */
  let chain = Promise.resolve();
  function enqueue(action) {
    pending++;
    show();
    chain = chain.then(action).catch((e) => toast(e.message, true)).finally(() => {
      pending--;
      show();
    });
  }

  function flash(label) {
    const b = [...buttons.children].find((x) => x.dataset.class === label);
    b?.classList.add("flash");
    setTimeout(() => b?.classList.remove("flash"), 150);
  }

  /** Label the item on screen when this key's turn comes, with the class `choose` picks for it (null: a hint instead). */
  const labelWith = (choose) => enqueue(async () => {
    if (!ahead.length) await fill();
    const current = ahead[0];
    if (!current) return toast(waiting ?? "Nothing to label right now", true);
    const value = choose(current);
    if (value === null) return toast("No guess for this item yet: press the key of its class", true);
    flash(value);
    ahead.shift(); // the next item shows at once; the label is sent meanwhile
    show();
    try {
      const reply = await api("POST", projectPath(name, "/labels"), { item: current.item.id, label: value, lease: current.lease });
      changes++;
      history.push(current.item.id);
      status = { ...status, labeled: reply.labeled, mine: status.mine + (reply.repeated || current.kind === "check" ? 0 : 1) };
      showCounters();
      toast(`${current.item.id}: ${value}`);
    } catch (e) {
      // Not saved (no server, logged out, a server error): the item stays on screen.
      if (e.status === undefined || e.status === 401 || e.status >= 500) ahead.unshift(current);
      throw e;
    } finally {
      await fill().catch(() => undefined);
    }
  });

  const skip = () => enqueue(async () => {
    const current = ahead[0];
    if (!current) return;
    ahead.shift();
    show();
    try {
      await api("POST", projectPath(name, "/skip"), { item: current.item.id, lease: current.lease });
      changes++;
      toast(`skipped ${current.item.id}`);
    } finally {
      await fill().catch(() => undefined);
    }
  });

  const undo = () => enqueue(async () => {
    const last = history.pop();
    if (last === undefined) return toast("Nothing to undo on this page");
    const back = await api("DELETE", projectPath(name, `/labels/${encodeURIComponent(last)}`));
    changes++;
    ahead.unshift(back);
    if (back.kind === "label") status = { ...status, labeled: status.labeled - 1, mine: status.mine - 1 };
    showCounters();
    toast(`undone: ${last} is back`);
  });

  addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target === filter) {
      if (e.key === "Escape") {
        filter.value = "";
        applyFilter();
        filter.blur();
      } else if (e.key === "Enter") {
        const first = [...buttons.children].find((b) => !b.hidden);
        if (first) labelWith(() => first.dataset.class);
        filter.value = "";
        applyFilter();
      } else return;
      e.preventDefault();
      return;
    }
    if (e.target instanceof HTMLInputElement) return;
    const k = keys.indexOf(e.key);
    if (k >= 0) labelWith(() => classes[k]);
    else if (e.key === "Enter") labelWith((item) => item.suggestion?.label ?? null);
    else if (e.key === "s" || e.key === "S") skip();
    else if (e.key === "z" || e.key === "Z") undo();
    else if (e.key === "/" && filter) filter.focus();
    else return;
    e.preventDefault();
  });

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    for (const b of buttons.children) b.hidden = q !== "" && !b.dataset.class.toLowerCase().includes(q);
  }
  filter?.addEventListener("input", applyFilter);

  // Keep the leases alive while the page is open; give them back when it closes.
  setInterval(() => {
    for (const s of ahead) api("POST", projectPath(name, "/heartbeat"), { item: s.item.id, lease: s.lease }).catch(() => undefined);
  }, HEARTBEAT_MS);
  addEventListener("pagehide", () => {
    for (const s of ahead) {
      fetch(projectPath(name, "/release"), { method: "POST", keepalive: true, credentials: "same-origin", headers: { ...pageHeaders(), "content-type": "application/json" }, body: JSON.stringify({ item: s.item.id, lease: s.lease }) });
    }
  });
  // With nothing to show, look again now and then (a retrain may bring a batch).
  setInterval(() => {
    if (!ahead.length && pending === 0 && !waiting?.startsWith("nothing")) enqueue(fill);
  }, POLL_MS);

  await fill().catch((e) => toast(e.message, true));
  show();
}
