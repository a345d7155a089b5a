// The projects list, a project's page (counters, the live accuracy curve, class counts, when
// to stop, agreement) and the admin page (tokens, projects, the audit log).
import { api, classKeys, download, h, percent, projectPath, setChildren, toast } from "./util.js";

export async function projectsPage(app, me) {
  const projects = await api("GET", "/api/projects");
  setChildren(app, 
    h("h1", { text: "Projects" }),
    h("p", { class: "muted", text: projects.length ? "Pick a project to see its progress or to start labelling." : me.role === "admin" ? "No projects yet: create one on the Admin page or with alfamix project create." : "No projects are open to this token." }),
    h("div", { class: "grid" }, projects.map((p) => h("a", { class: "card plain", href: `/p/${encodeURIComponent(p.name)}` },
      h("h2", { text: p.name }),
      h("div", { class: "stats" },
        stat(p.labeled.toLocaleString(), "labelled"),
        stat(p.pool.toLocaleString(), "items"),
        stat(p.classes.length, "classes")),
      h("p", { class: "muted", text: `${p.strategy}, batches of ${p.batch} · ${p.classes.slice(0, 8).join(", ")}${p.classes.length > 8 ? ", …" : ""}` })))));
}

const stat = (value, label, id) => h("div", { class: "stat", id }, h("b", { text: value }), h("span", { text: label }));
const kappa = (v) => (v === null ? "–" : v.toFixed(2));

export async function projectPage(app, name, me) {
  const header = h("div");
  const curve = h("div", { class: "card" });
  const counts = h("div", { class: "card" });
  const agreement = h("div", { class: "card", id: "agreement" });
  const stopping = h("div", { class: "card", id: "stopping" });
  // Admins import labels from a file: CSV id,label[,annotator], JSONL, or a Label Studio JSON export.
  const picker = h("input", { type: "file", accept: ".csv,.jsonl,.json", hidden: true, onchange: async () => {
    const file = picker.files[0];
    picker.value = "";
    if (!file) return;
    const format = /\.jsonl$/i.test(file.name) ? "jsonl" : /\.json$/i.test(file.name) ? "labelstudio" : "csv";
    try {
      const r = await api("POST", projectPath(name, `/import?format=${format}`), await file.text());
      toast(`Imported ${r.imported} labels from ${file.name}`);
    } catch (err) {
      toast(err.message, true);
    }
  } });
  const importer = h("span", {}, h("a", { href: "#", id: "import", onclick: (e) => {
    e.preventDefault();
    picker.click();
  }, text: "Import labels…" }), picker);
  setChildren(app, header, h("div", { class: "grid" }, curve, counts), stopping, agreement);
  let timer;
  const refresh = async () => {
    let status, points, agree;
    try {
      [status, points, agree] = await Promise.all([api("GET", projectPath(name, "/status")), api("GET", projectPath(name, "/accuracy")), api("GET", projectPath(name, "/agreement"))]);
    } catch (e) {
      setChildren(app, h("div", { class: "card" }, h("h1", { text: name }), h("p", { text: e.message })));
      clearInterval(timer);
      return;
    }
    const estimate = status.accuracyEstimate;
    const reviewer = me.role === "admin" || me.role === "reviewer";
    setChildren(header, h("div", { class: "card" },
      h("div", { class: "row" },
        h("div", { class: "grow" }, h("h1", { text: status.name }), h("div", { class: "muted", id: "phase", text: status.phase })),
        reviewer && status.overlap > 0 ? h("a", { class: "button", href: `/p/${encodeURIComponent(name)}/review`, id: "review" }, `Review (${status.openReviews})`) : null,
        h("a", { class: "button primary", href: `/p/${encodeURIComponent(name)}/label`, id: "start" }, "Start labelling ", h("kbd", { text: "Enter" }))),
      h("div", { class: "stats" },
        stat(`${status.labeled.toLocaleString()} / ${status.pool.toLocaleString()}`, "labelled"),
        stat(status.queued, "queued"),
        stat(status.modelVersion === null ? "–" : `v${status.modelVersion}`, "model"),
        // A small n is said, with its interval: "100%" alone at n = 2 would claim too much.
        stat(estimate ? `${percent(estimate.accuracy, 0)} (n = ${estimate.n})` : "–", estimate ? `accuracy est., 95% ${percent(estimate.low, 0)}–${percent(estimate.high, 0)}` : "accuracy (no estimate yet)", "estimate"),
        h("div", { class: "stat" }, h("b", {}, status.retraining ? h("span", { class: "spinner" }) : "idle"), h("span", { text: status.retraining ? "retraining" : "retrainer" }))),
      reviewer ? h("p", { class: "muted flush" }, "Export labels: ",
        ["csv", "jsonl", "labelstudio"].map((f, i) => [i ? " · " : "", h("a", { href: "#", class: "export", onclick: (e) => {
          e.preventDefault();
          download(projectPath(name, `/export?format=${f}`), `${name}-labels.${f === "labelstudio" ? "json" : f}`).catch((err) => toast(err.message, true));
        }, text: f === "labelstudio" ? "Label Studio" : f.toUpperCase() })]),
        me.role === "admin" ? [" · ", importer] : null) : null));
    setChildren(curve, h("h2", { text: "Live accuracy estimate" }),
      h("p", { class: "muted", text: "Each batch holds a few items drawn at random. The model's guesses on them, made before anyone labelled them, estimate its accuracy without bias: each point is a run of such items, with its 95% interval." }),
      accuracyChart(points));
    const max = Math.max(1, ...Object.values(status.classCounts)), keys = classKeys(status.classes);
    setChildren(counts, h("h2", { text: "Labels per class" }), h("table", {},
      status.classes.map((c, i) => h("tr", {},
        h("td", { class: "nowrap" }, keys[i] ? h("kbd", { text: keys[i] }) : "", " ", c),
        h("td", {}, h("div", { class: "bar", style: `width:${(100 * (status.classCounts[c] ?? 0)) / max}%` })),
        h("td", { class: "num", text: (status.classCounts[c] ?? 0).toLocaleString() })))));
    setChildren(stopping, stoppingCard(status.stopping));
    agreement.hidden = status.overlap === 0 && agree.items === 0;
    setChildren(agreement, agreementCard(agree, status));
  };
  await refresh();
  timer = setInterval(refresh, 4000);
  addEventListener("keydown", (e) => {
    if (e.key === "Enter" && document.activeElement === document.body) location.href = `/p/${encodeURIComponent(name)}/label`;
  });
}

const CRITERIA = {
  "kappa-average": "Predictions settled (κ average)",
  "classification-change": "No prediction changed",
  "overall-uncertainty": "Model confident overall",
  "delta-f-score": "F-score settled (ΔF)",
  "estimate-gain": "Accuracy stopped rising (estimate)",
};

/** The stopping criteria: which say stop now, since when, and the figure each decided on. */
function stoppingCard(signals) {
  const firing = signals.filter((s) => s.stop);
  const summary = firing.length
    ? `${firing.length} of ${signals.length} criteria say you could stop labelling now. They are hints: check the accuracy estimate before you do.`
    : "No criterion says stop yet: keep labelling.";
  return [h("h2", { text: "When to stop" }), h("p", { class: "muted", text: summary }),
    h("table", {}, signals.map((s) => h("tr", { class: s.stop ? "stop" : "" },
      h("td", { class: "nowrap" }, h("span", { class: `pill ${s.stop ? "good" : ""}`, text: s.stop ? "stop" : "not yet" })),
      h("td", { class: "nowrap", text: CRITERIA[s.name] ?? s.name }),
      h("td", { class: "muted" }, s.why, s.firstStop ? ` · first said stop at ${s.firstStop.labels.toLocaleString()} labels (model v${s.firstStop.modelVersion})` : "")))),
  ];
}

/** Agreement between annotators on the items labelled twice. */
function agreementCard(a, status) {
  const head = [h("h2", { text: "Agreement" }),
    h("p", { class: "muted", text: `${percent(status.overlap, 0)} of labelled items go to a second annotator, blind. ${a.items} labelled twice so far, ${status.pendingChecks} waiting for a second label, ${status.openReviews} disagreements open.` })];
  if (a.items === 0) return head;
  return [...head,
    h("div", { class: "stats" }, stat(percent(a.observed, 0), "agree"), stat(kappa(a.alpha), "Krippendorff's α")),
    h("div", { class: "grid start" },
      h("table", {}, h("tr", {}, h("th", { text: "annotators" }), h("th", { class: "num", text: "items" }), h("th", { class: "num", text: "agree" }), h("th", { class: "num greek", text: "Cohen's κ" })),
        a.pairs.map((p) => h("tr", {}, h("td", { text: p.annotators.join(" · ") }), h("td", { class: "num", text: p.items }), h("td", { class: "num", text: percent(p.observed, 0) }), h("td", { class: "num", text: kappa(p.kappa) })))),
      h("table", {}, h("tr", {}, h("th", { text: "class" }), h("th", { class: "num", text: "items" }), h("th", { class: "num", text: "agree" }), h("th", { class: "num greek", text: "κ (one vs rest)" })),
        a.classes.filter((c) => c.items > 0).map((c) => h("tr", {}, h("td", { text: c.label }), h("td", { class: "num", text: c.items }), h("td", { class: "num", text: c.observed === null ? "–" : percent(c.observed, 0) }), h("td", { class: "num", text: kappa(c.kappa) })))))];
}

/** The estimate against labels: each run of random items a point with its Wilson interval (a bar), joined by a line. */
function accuracyChart(points) {
  if (!points.length) return h("p", { class: "muted", text: "No estimate yet: it appears once random-share items have been labelled after the first model." });
  const W = 460, H = 220, L = 44, R = 12, T = 12, B = 34;
  const xs = points.map((p) => p.labels), xMin = Math.min(...xs), xMax = Math.max(xMin + 1, ...xs);
  // A single point sits in the middle rather than on the axis.
  const x = (v) => (points.length === 1 ? (L + W - R) / 2 : L + ((v - xMin) / (xMax - xMin)) * (W - L - R));
  const y = (v) => T + (1 - v) * (H - T - B);
  const svg = h("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": "accuracy estimate by number of labels" });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(h("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ec" }), h("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: percent(v, 0) }));
  }
  svg.append(h("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", text: "labels so far" }));
  for (const v of points.length === 1 ? [xMin] : [xMin, xMax]) svg.append(h("text", { x: x(v), y: H - 18, "text-anchor": "middle", text: v.toLocaleString() }));
  if (points.length > 1) {
    const band = points.map((p) => `${x(p.labels)},${y(p.high)}`).concat(points.slice().reverse().map((p) => `${x(p.labels)},${y(p.low)}`));
    svg.append(h("polygon", { points: band.join(" "), fill: "#2f6fdb", "fill-opacity": 0.12 }));
    svg.append(h("polyline", { points: points.map((p) => `${x(p.labels)},${y(p.accuracy)}`).join(" "), fill: "none", stroke: "#2f6fdb", "stroke-width": 2 }));
  }
  for (const p of points) {
    const cx = x(p.labels);
    svg.append(h("line", { x1: cx, x2: cx, y1: y(p.low), y2: y(p.high), stroke: "#2f6fdb", "stroke-width": 1.5, class: "interval" }),
      h("line", { x1: cx - 4, x2: cx + 4, y1: y(p.low), y2: y(p.low), stroke: "#2f6fdb" }), h("line", { x1: cx - 4, x2: cx + 4, y1: y(p.high), y2: y(p.high), stroke: "#2f6fdb" }));
    const dot = h("circle", { cx, cy: y(p.accuracy), r: 4, fill: "#2f6fdb" });
    const models = p.models[0] === p.models[1] ? `model v${p.models[0]}` : `models v${p.models[0]}–v${p.models[1]}`;
    dot.append(h("title", {}, `${percent(p.accuracy)} right on ${p.n} random items (${p.correct}/${p.n}; 95% interval ${percent(p.low)}–${percent(p.high)}), ${models}, up to ${p.labels} labels`));
    // The n beside its dot, below it near the top edge so that it is never cut off.
    svg.append(dot, h("text", { x: cx + 7, y: y(p.accuracy) < T + 14 ? y(p.accuracy) + 14 : y(p.accuracy) - 6, text: `n = ${p.n}` }));
  }
  return svg;
}

const when = (t) => (t ? new Date(t).toLocaleString() : "–");

export async function adminPage(app, me) {
  if (me.role !== "admin") {
    setChildren(app, h("div", { class: "card" }, h("h1", { text: "Admin" }), h("p", { text: "This page needs an admin token." })));
    return;
  }
  const projects = await api("GET", "/api/projects");
  const created = h("div", { id: "created" });
  const tokenTable = h("table", { id: "tokens" });
  const showTokens = async () => {
    const tokens = await api("GET", "/api/tokens");
    const now = Date.now();
    setChildren(tokenTable, 
      h("tr", {}, ["name", "role", "project", "created", "last used", "expires", "status", ""].map((t) => h("th", { text: t }))),
      tokens.map((t) => {
        const state = t.revokedAt ? "revoked" : t.expiresAt && t.expiresAt <= now ? "expired" : "active";
        return h("tr", { "data-token": t.name }, h("td", { text: t.name }), h("td", { text: t.role }), h("td", { text: t.project ?? "every project" }), h("td", { text: when(t.createdAt) }),
          h("td", { text: when(t.lastUsedAt) }), h("td", { text: t.expiresAt ? when(t.expiresAt) : "never" }), h("td", {}, h("span", { class: `pill ${state === "active" ? "good" : "warn"}`, text: state })),
          h("td", { class: "nowrap" }, state === "active" ? [
            h("button", { type: "button", class: "small", onclick: () => newLink(t.name) }, "login link"), " ",
            h("button", { type: "button", class: "small danger", onclick: () => revoke(t.name) }, "revoke")] : null));
      }));
  };
  const showLink = (title, link, secret) => setChildren(created,
    h("p", {}, title), h("div", { class: "secret", id: "login-link", text: link }),
    h("p", {}, h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(link).then(() => toast("Copied")) }, "Copy link"),
      h("span", { class: "muted", text: " The link works once, within a day. Send it to the person; it never holds the token itself." })),
    secret ? h("details", {}, h("summary", { text: "API token (for scripts: Authorization: Bearer …), shown once" }), h("div", { class: "secret", id: "api-token", text: secret })) : null);
  const newLink = async (name) => {
    try {
      const r = await api("POST", `/api/tokens/${encodeURIComponent(name)}/link`);
      showLink(`A new login link for ${name}:`, r.login);
    } catch (err) {
      toast(err.message, true);
    }
  };
  const revoke = async (name) => {
    if (!confirm(`Revoke ${name}? The token and every session made from it stop working at once.`)) return;
    try {
      await api("DELETE", `/api/tokens/${encodeURIComponent(name)}`);
      toast(`Revoked ${name}`);
      await Promise.all([showTokens(), showAudit()]);
    } catch (err) {
      toast(err.message, true);
    }
  };

  const tokenForm = h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target));
    try {
      const t = await api("POST", "/api/tokens", { name: data.name, role: data.role, project: data.project || null, expires: data.expires || null });
      showLink(`Token for ${t.name} (${t.role}). Login link:`, t.login, t.token);
      e.target.reset();
      await Promise.all([showTokens(), showAudit()]);
    } catch (err) {
      toast(err.message, true);
    }
  } },
  h("label", { text: "Name" }), h("input", { name: "name", required: true, placeholder: "who it is for (unique)" }),
  h("label", { text: "Role" }), h("select", { name: "role" }, ["annotator", "reviewer", "admin"].map((r) => h("option", { value: r, text: r }))),
  h("label", { text: "Project" }), h("select", { name: "project" }, h("option", { value: "", text: "every project" }), projects.map((p) => h("option", { value: p.name, text: p.name }))),
  h("label", { text: "Expires after" }), h("input", { name: "expires", placeholder: "never (or 30d, 12h)" }),
  h("div", { class: "full" }, h("button", { class: "primary", type: "submit" }, "Create token")));

  const field = (label, name, attrs = {}) => [h("label", { text: label }), h("input", { name, ...attrs })];
  const projectForm = h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ""));
    for (const k of ["batch", "randomShare", "overlap"]) if (data[k] !== undefined) data[k] = Number(data[k]);
    const button = e.target.querySelector("button");
    button.disabled = true;
    try {
      const p = await api("POST", "/api/projects", data);
      toast(`Created ${p.name}: ${p.pool} items`);
      location.href = `/p/${encodeURIComponent(p.name)}`;
    } catch (err) {
      toast(err.message, true);
    } finally {
      button.disabled = false;
    }
  } },
  ...field("Name", "name", { required: true, placeholder: "e.g. birds" }),
  ...field("Pool file", "pool", { required: true, placeholder: "inside the data root: emb.npy, pool.csv, …" }),
  ...field("Labelled file", "labeled", { placeholder: "optional: labels so far (id,label)" }),
  ...field("Classes", "classes", { placeholder: "a,b,c (default: those of the labelled file)" }),
  h("label", { text: "Strategy" }), h("select", { name: "strategy" }, ["alfamix", "entropy", "margin", "least-confidence", "badge", "coreset", "random"].map((s) => h("option", { value: s, text: s }))),
  ...field("Batch", "batch", { type: "number", min: 1, placeholder: "50" }),
  ...field("Random share", "randomShare", { type: "number", min: 0, max: 1, step: 0.01, placeholder: "0.1" }),
  ...field("Overlap", "overlap", { type: "number", min: 0, max: 1, step: 0.01, placeholder: "0 (0.05: one item in 20 labelled twice)" }),
  ...field("Media folder", "media", { placeholder: "optional: DIR with DIR/<id>.jpg|png|txt" }),
  ...field("Text column", "textColumn", { placeholder: "optional: a pool column with each item's text" }),
  h("div", { class: "full" }, h("button", { class: "primary", type: "submit" }, "Create project")));

  const audit = h("table", { id: "audit" });
  let oldest;
  const auditRow = (e) => h("tr", {}, h("td", { class: "nowrap", text: new Date(e.at).toLocaleString() }), h("td", { text: e.actor }), h("td", {}, h("span", { class: "pill", text: e.action })),
    h("td", { text: [e.project, e.item].filter(Boolean).join(" / ") }), h("td", { class: "muted", text: e.detail ? Object.entries(e.detail).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ") : "" }));
  const more = h("button", { type: "button", onclick: async () => {
    const page = await api("GET", `/api/audit?limit=50&before=${oldest}`);
    audit.append(...page.map(auditRow));
    if (page.length) oldest = page.at(-1).id;
    more.hidden = page.length < 50;
  } }, "Older");
  const showAudit = async () => {
    const page = await api("GET", "/api/audit?limit=50");
    oldest = page.at(-1)?.id;
    setChildren(audit, h("tr", {}, ["when", "who", "what", "where", "details"].map((t) => h("th", { text: t }))), page.map(auditRow));
    more.hidden = page.length < 50;
  };

  setChildren(app, h("h1", { text: "Admin" }), h("div", { class: "grid" },
    h("div", { class: "card" }, h("h2", { text: "New token" }), tokenForm, created),
    h("div", { class: "card" }, h("h2", { text: "New project" }),
      h("p", { class: "muted" }, "Files are read inside the server's data root, ", h("code", { text: me.dataRoot }), ": give paths relative to it (serve --data-root changes it)."), projectForm)),
  h("div", { class: "card" }, h("h2", { text: "Tokens" }), tokenTable),
  h("div", { class: "card" }, h("div", { class: "row" }, h("h2", { class: "grow", text: "Audit log" }), h("a", { href: "#", onclick: (e) => {
      e.preventDefault();
      download("/api/audit?limit=100000&format=jsonl", "alfamix-audit.jsonl").catch((err) => toast(err.message, true));
    }, text: "export (JSONL)" })),
    h("p", { class: "muted", text: "Who labelled, undid, reviewed, imported, created or revoked what, and when. Append-only." }), audit, more));
  await Promise.all([showTokens(), showAudit()]);
}
