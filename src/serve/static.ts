import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { HttpError } from "./http.js";

/** The browser UI's files, served by the package itself (no CDN: it works offline). */
const UI_DIR = new URL("../../../src/serve/ui/", import.meta.url);
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
const ASSETS = new Map<string, { type: string; body: Buffer }>();

function asset(name: string): { type: string; body: Buffer } {
  let found = ASSETS.get(name);
  if (!found) {
    const extension = name.slice(name.lastIndexOf("."));
    found = { type: TYPES[extension] ?? "application/octet-stream", body: readFileSync(new URL(name, UI_DIR)) };
    ASSETS.set(name, found);
  }
  return found;
}

/** /assets/<file> from the UI folder; every page path (/, /p/…, /admin) gets the one-page app. */
export function serveAsset(path: string, response: ServerResponse): void {
  let name = "index.html";
  if (path.startsWith("/assets/")) {
    name = path.slice("/assets/".length);
    if (!/^[a-z0-9-]+\.(js|css|svg)$/.test(name)) throw new HttpError(404, `no asset ${JSON.stringify(name)}`);
  } else if (!(path === "/" || path === "/admin" || /^\/p\/[^/]+(\/label|\/review)?$/.test(path))) {
    throw new HttpError(404, `no page at ${path}`);
  }
  let file;
  try {
    file = asset(name);
  } catch {
    throw new HttpError(404, `no asset ${JSON.stringify(name)}`);
  }
  response.writeHead(200, {
    "content-type": file.type,
    "content-length": file.body.length,
    "cache-control": name === "index.html" ? "no-cache" : "max-age=60",
  });
  response.end(file.body);
}
