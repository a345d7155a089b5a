import { escapeHtml } from "./http.js";

/** A page of the login flow: plain HTML with the app's style sheet (the CSP allows no inline style or script). */
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · alfamix</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/style.css"></head>
<body><header class="top"><a class="brand" href="/">alfamix</a></header><main><div class="card narrow">${body}</div></main></body></html>`;
}

export const messagePage = (title: string, text: string) => page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);

/** What a login link opens: whom it logs in as (and who is logged in now), and one button. */
export function loginPage(o: { code: string; next: string; name: string; role: string; current?: string }): string {
  const switching = o.current !== undefined && o.current !== o.name;
  return page(
    "Log in",
    `<h1>Log in as ${escapeHtml(o.name)}</h1>
<p class="muted">${escapeHtml(o.role)}${switching ? ` · this browser is logged in as <b>${escapeHtml(o.current!)}</b> now; the link switches it to ${escapeHtml(o.name)}` : ""}</p>
<form method="post" action="/login"><input type="hidden" name="code" value="${escapeHtml(o.code)}"><input type="hidden" name="next" value="${escapeHtml(o.next)}">
<button class="primary" type="submit" id="login" autofocus>${switching ? "Switch to" : "Log in as"} ${escapeHtml(o.name)}</button></form>
<p class="muted note">The link works once: keep using this browser, or ask for a new link.</p>`,
  );
}

export const logoutPage = () =>
  page("Log out", `<h1>Log out</h1><form method="post" action="/logout"><button class="primary" type="submit" id="logout" autofocus>Log out</button></form>`);

/** A used link opened in a browser that is logged in already. */
export const continuePage = (name: string, next: string) =>
  page(
    "Logged in",
    `<h1>You are logged in as ${escapeHtml(name)}</h1>
<p class="muted">That login link was used already; this browser keeps its session.</p><p><a class="button primary" id="continue" href="${escapeHtml(next)}">Continue</a></p>`,
  );
