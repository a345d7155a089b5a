// The labelling service's pages: one small app, routed by path, talking only to /api.
import { api, forgetPageKey, h, setChildren, takePageKey } from "./util.js";
import { adminPage, projectPage, projectsPage } from "./pages.js";
import { reviewPage } from "./review.js";
import { labelPage } from "./label.js";

const app = document.getElementById("app");

async function start() {
  takePageKey();
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    setChildren(app, h("div", { class: "card narrow" },
      h("h1", { text: "Log in" }),
      h("p", {}, "Open the login link you were given. An admin makes one with ",
        h("code", { text: "alfamix token link --db FILE --name NAME" }), " (a link works once)."),
      e.status === 401 ? null : h("p", { class: "muted", text: e.message })));
    return;
  }
  setChildren(document.getElementById("nav"),
    h("a", { href: "/", text: "Projects" }),
    me.role === "admin" ? h("a", { href: "/admin", text: "Admin" }) : null,
    h("span", { class: "who" }, `${me.name} · ${me.role}`),
    // Logging out is a POST from this page (a link could be followed by another site's page).
    h("form", { method: "post", action: "/logout", class: "logout", onsubmit: forgetPageKey }, h("button", { type: "submit", class: "link", text: "log out" })));
  const path = location.pathname;
  const project = /^\/p\/([^/]+)(\/label|\/review)?$/.exec(path);
  if (project && project[2] === "/label") return labelPage(app, decodeURIComponent(project[1]));
  if (project && project[2] === "/review") return reviewPage(app, decodeURIComponent(project[1]), me);
  if (project) return projectPage(app, decodeURIComponent(project[1]), me);
  if (path === "/admin") return adminPage(app, me);
  // One project and an annotator: go straight to it.
  if (me.projects.length === 1 && me.role !== "admin") return location.replace(`/p/${encodeURIComponent(me.projects[0])}`);
  return projectsPage(app, me);
}

start().catch((e) => setChildren(app, h("div", { class: "card" }, h("h1", { text: "Something went wrong" }), h("p", { text: e.message }), h("p", {}, h("a", { href: "/", text: "Back to the projects" })))));
