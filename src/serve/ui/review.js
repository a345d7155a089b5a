// The review page: disagreements between the two labels of an item labelled twice. A reviewer
// (or an admin) picks the label it should have; that one is exported, and both are kept.
import { api, clipView, h, projectPath, setChildren, toast } from "./util.js";

export async function reviewPage(app, name, me) {
  if (me.role === "annotator") {
    setChildren(app, h("div", { class: "card" }, h("h1", { text: "Review" }), h("p", { text: "This page needs a reviewer or admin token." })));
    return;
  }
  const status = await api("GET", projectPath(name, "/status"));
  const list = h("div", { id: "reviews" });
  const show = async () => {
    const reviews = await api("GET", projectPath(name, "/reviews?open=1"));
    setChildren(list, reviews.length ? reviews.map(card) : h("div", { class: "card done" }, h("b", { text: "Nothing to review" }), h("span", { text: "Every disagreement is settled." })));
  };
  const card = (r) => h("div", { class: "card review", "data-item": r.item },
    h("div", { class: "row" }, h("h2", { class: "grow", text: r.item }), h("span", { class: "muted", text: `${r.first.annotator}: ${r.first.label} · ${r.second.annotator}: ${r.second.label}` })),
    h("div", { class: "review-item" }, view(r)),
    h("div", { class: "classes" }, status.classes.map((c) => h("button", {
      type: "button", class: c === r.first.label || c === r.second.label ? "suggested" : "", "data-class": c,
      onclick: async () => {
        try {
          const reply = await api("POST", projectPath(name, "/reviews"), { item: r.item, label: c });
          toast(`${r.item}: ${c} (${reply.openReviews} left)`);
          await show();
        } catch (e) {
          toast(e.message, true);
        }
      },
    }, c))));
  const view = (r) => {
    if (r.display.kind === "image") return h("img", { src: r.display.url, alt: r.item });
    if (r.display.kind === "text") return h("div", { class: "text", text: r.display.text });
    if (r.display.kind === "video") return clipView(r.display, r.item);
    return h("p", { class: "muted", text: `${r.display.dim} features; nearest labelled: ${r.display.neighbours.map((n) => `${n.id} (${n.label})`).join(", ") || "none"}` });
  };
  setChildren(app, h("h1", {}, h("a", { href: `/p/${encodeURIComponent(name)}`, text: name }), " · review"),
    h("p", { class: "muted", text: "Items two annotators labelled differently. Pick the label each should have: it replaces the first label in exports, and the audit log keeps both." }), list);
  await show();
}
