// The labelling service's pages: one small app, routed by path, talking only to /api.
import { api, h } from "./util.js";
import { adminPage, projectPage, projectsPage } from "./pages.js";
import { labelPage } from "./label.js";

const app = document.getElementById("app");

async function start() {
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    app.replaceChildren(h("div", { class: "card" },
      h("h1", { text: "Log in" }),
      h("p", {}, "Open the login link you were given (", h("code", { text: "/login?token=…" }), "). An admin makes one with ",
        h("code", { text: "alfamix token create --db FILE --name NAME --role annotator" }), "."),
      e.status === 401 ? null : h("p", { class: "muted", text: e.message })));
    return;
  }
  document.getElementById("nav").replaceChildren(
    h("a", { href: "/", text: "Projects" }),
    me.role === "admin" ? h("a", { href: "/admin", text: "Admin" }) : null,
    h("span", { class: "who" }, `${me.name} · ${me.role} · `, h("a", { href: "/logout", text: "log out" })));
  const path = location.pathname;
  const project = /^\/p\/([^/]+)(\/label)?$/.exec(path);
  if (project && project[2]) return labelPage(app, decodeURIComponent(project[1]));
  if (project) return projectPage(app, decodeURIComponent(project[1]));
  if (path === "/admin") return adminPage(app, me);
  // One project and an annotator: go straight to it.
  if (me.projects.length === 1 && me.role !== "admin") return location.replace(`/p/${encodeURIComponent(me.projects[0])}`);
  return projectsPage(app, me);
}

start();
