// The projects list, a project's page (counters, the live accuracy curve, class counts) and the admin page.
import { api, classKeys, h, percent, projectPath, toast } from "./util.js";

export async function projectsPage(app, me) {
  const projects = await api("GET", "/api/projects");
  app.replaceChildren(
    h("h1", { text: "Projects" }),
    h("p", { class: "muted", text: projects.length ? "Pick a project to see its progress or to start labelling." : me.role === "admin" ? "No projects yet: create one on the Admin page or with alfamix project create." : "No projects are open to this token." }),
    h("div", { class: "grid" }, projects.map((p) => h("a", { class: "card", href: `/p/${encodeURIComponent(p.name)}`, style: "color: inherit" },
      h("h2", { text: p.name }),
      h("div", { class: "stats" },
        stat(p.labeled.toLocaleString(), "labelled"),
        stat(p.pool.toLocaleString(), "items"),
        stat(p.classes.length, "classes")),
      h("p", { class: "muted", text: `${p.strategy}, batches of ${p.batch} · ${p.classes.slice(0, 8).join(", ")}${p.classes.length > 8 ? ", …" : ""}` })))));
}

const stat = (value, label) => h("div", { class: "stat" }, h("b", { text: value }), h("span", { text: label }));

export async function projectPage(app, name) {
  const header = h("div");
  const curve = h("div", { class: "card" });
  const counts = h("div", { class: "card" });
  app.replaceChildren(header, h("div", { class: "grid" }, curve, counts));
  let timer;
  const refresh = async () => {
    let status, points;
    try {
      [status, points] = await Promise.all([api("GET", projectPath(name, "/status")), api("GET", projectPath(name, "/accuracy"))]);
    } catch (e) {
      app.replaceChildren(h("div", { class: "card" }, h("h1", { text: name }), h("p", { text: e.message })));
      clearInterval(timer);
      return;
    }
    header.replaceChildren(h("div", { class: "card" },
      h("div", { style: "display:flex; align-items:center; gap:16px; flex-wrap:wrap" },
        h("div", { style: "flex:1" }, h("h1", { text: status.name }), h("div", { class: "muted", text: `${status.strategy} picks batches of ${status.batch}; the model retrains as labels come in` })),
        h("a", { class: "button primary", href: `/p/${encodeURIComponent(name)}/label`, id: "start" }, "Start labelling ", h("kbd", { text: "Enter" }))),
      h("div", { class: "stats" },
        stat(`${status.labeled.toLocaleString()} / ${status.pool.toLocaleString()}`, "labelled"),
        stat(status.queued, "queued"),
        stat(status.modelVersion === null ? "–" : `v${status.modelVersion}`, "model"),
        stat(status.accuracyEstimate ? percent(status.accuracyEstimate.accuracy) : "–", status.accuracyEstimate ? `accuracy (est., n = ${status.accuracyEstimate.n})` : "accuracy (no estimate yet)"),
        h("div", { class: "stat" }, h("b", {}, status.retraining ? h("span", { class: "spinner" }) : "idle"), h("span", { text: status.retraining ? "retraining" : "retrainer" }))),
      h("p", { class: "muted", style: "margin-bottom:0" }, "Export labels: ",
        ["csv", "jsonl", "labelstudio"].map((f, i) => [i ? " · " : "", h("a", { href: projectPath(name, `/export?format=${f}`), text: f === "labelstudio" ? "Label Studio" : f.toUpperCase() })]))));
    curve.replaceChildren(h("h2", { text: "Live accuracy estimate" }),
      h("p", { class: "muted", text: "Each batch holds a few items drawn at random. The model's guesses on them, made before anyone labelled them, estimate its accuracy without bias: each point is a run of such items, with a 95% interval." }),
      accuracyChart(points));
    const max = Math.max(1, ...Object.values(status.classCounts)), keys = classKeys(status.classes);
    counts.replaceChildren(h("h2", { text: "Labels per class" }), h("table", {},
      status.classes.map((c, i) => h("tr", {},
        h("td", { style: "width:1%; white-space:nowrap" }, keys[i] ? h("kbd", { text: keys[i] }) : "", " ", c),
        h("td", {}, h("div", { class: "bar", style: `width:${(100 * (status.classCounts[c] ?? 0)) / max}%` })),
        h("td", { class: "num", text: (status.classCounts[c] ?? 0).toLocaleString() })))));
  };
  await refresh();
  timer = setInterval(refresh, 4000);
  addEventListener("keydown", (e) => {
    if (e.key === "Enter" && document.activeElement === document.body) location.href = `/p/${encodeURIComponent(name)}/label`;
  });
}

/** The estimate against labels: a line through the models' points with their Wilson intervals. */
function accuracyChart(points) {
  if (!points.length) return h("p", { class: "muted", text: "No estimate yet: it appears once random-share items have been labelled after the first model." });
  const W = 460, H = 220, L = 44, R = 12, T = 12, B = 34;
  const xs = points.map((p) => p.labels), xMin = Math.min(...xs), xMax = Math.max(xMin + 1, ...xs);
  const x = (v) => L + ((v - xMin) / (xMax - xMin)) * (W - L - R);
  const y = (v) => T + (1 - v) * (H - T - B);
  const svg = h("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": "accuracy estimate by number of labels" });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(h("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ec" }), h("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: percent(v, 0) }));
  }
  svg.append(h("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", text: "labels so far" }));
  for (const v of [xMin, xMax]) svg.append(h("text", { x: x(v), y: H - 18, "text-anchor": "middle", text: v.toLocaleString() }));
  const band = points.map((p) => `${x(p.labels)},${y(p.high)}`).concat(points.slice().reverse().map((p) => `${x(p.labels)},${y(p.low)}`));
  svg.append(h("polygon", { points: band.join(" "), fill: "#2f6fdb", "fill-opacity": 0.12 }));
  svg.append(h("polyline", { points: points.map((p) => `${x(p.labels)},${y(p.accuracy)}`).join(" "), fill: "none", stroke: "#2f6fdb", "stroke-width": 2 }));
  for (const p of points) {
    const dot = h("circle", { cx: x(p.labels), cy: y(p.accuracy), r: 4, fill: "#2f6fdb" });
    const models = p.models[0] === p.models[1] ? `model v${p.models[0]}` : `models v${p.models[0]}–v${p.models[1]}`;
    dot.append(h("title", {}, `${percent(p.accuracy)} right on ${p.n} random items (${p.correct}/${p.n}; 95% interval ${percent(p.low)}–${percent(p.high)}), ${models}, up to ${p.labels} labels`));
    svg.append(dot);
  }
  return svg;
}

export async function adminPage(app, me) {
  if (me.role !== "admin") {
    app.replaceChildren(h("div", { class: "card" }, h("h1", { text: "Admin" }), h("p", { text: "This page needs an admin token." })));
    return;
  }
  const [tokens, projects] = await Promise.all([api("GET", "/api/tokens"), api("GET", "/api/projects")]);
  const created = h("div");
  const tokenRow = (t) => h("tr", {}, h("td", { text: t.name }), h("td", { text: t.role }), h("td", { text: t.project ?? "every project" }), h("td", { text: new Date(t.createdAt).toLocaleString() }));
  const tokenTable = h("table", {},
    h("tr", {}, h("th", { text: "name" }), h("th", { text: "role" }), h("th", { text: "project" }), h("th", { text: "created" })),
    tokens.map(tokenRow));
  const tokenForm = h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target));
    try {
      const t = await api("POST", "/api/tokens", { name: data.name, role: data.role, project: data.project || null });
      const link = `${location.origin}/login?token=${t.token}`;
      tokenTable.append(tokenRow({ ...t, createdAt: Date.now() }));
      created.replaceChildren(h("p", {}, `Token for ${t.name} (shown once; only its hash is kept). Login link:`), h("div", { class: "secret", text: link }),
        h("p", {}, h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(link).then(() => toast("Copied")) }, "Copy link")));
    } catch (err) {
      toast(err.message, true);
    }
  } },
  h("label", { text: "Name" }), h("input", { name: "name", required: true, placeholder: "who it is for" }),
  h("label", { text: "Role" }), h("select", { name: "role" }, h("option", { value: "annotator", text: "annotator" }), h("option", { value: "admin", text: "admin" })),
  h("label", { text: "Project" }), h("select", { name: "project" }, h("option", { value: "", text: "every project" }), projects.map((p) => h("option", { value: p.name, text: p.name }))),
  h("div", { class: "full" }, h("button", { class: "primary", type: "submit" }, "Create token")));

  const field = (label, name, attrs = {}) => [h("label", { text: label }), h("input", { name, ...attrs })];
  const projectForm = h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ""));
    for (const k of ["batch", "randomShare"]) if (data[k] !== undefined) data[k] = Number(data[k]);
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
  ...field("Pool file", "pool", { required: true, placeholder: "path on the server: emb.npy, pool.csv, …" }),
  ...field("Labelled file", "labeled", { placeholder: "optional: labels so far (id,label)" }),
  ...field("Classes", "classes", { placeholder: "a,b,c (default: those of the labelled file)" }),
  h("label", { text: "Strategy" }), h("select", { name: "strategy" }, ["alfamix", "entropy", "margin", "least-confidence", "badge", "coreset", "random"].map((s) => h("option", { value: s, text: s }))),
  ...field("Batch", "batch", { type: "number", min: 1, placeholder: "50" }),
  ...field("Random share", "randomShare", { type: "number", min: 0, max: 1, step: 0.01, placeholder: "0.1" }),
  ...field("Media folder", "media", { placeholder: "optional: DIR with DIR/<id>.jpg|png" }),
  ...field("Text column", "textColumn", { placeholder: "optional: a pool column with each item's text" }),
  h("div", { class: "full" }, h("button", { class: "primary", type: "submit" }, "Create project")));

  app.replaceChildren(h("h1", { text: "Admin" }), h("div", { class: "grid" },
    h("div", { class: "card" }, h("h2", { text: "New token" }), tokenForm, created),
    h("div", { class: "card" }, h("h2", { text: "New project" }), projectForm)),
  h("div", { class: "card" }, h("h2", { text: "Tokens" }), tokenTable));
}
