import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNpy } from "../src/data/npy.js";
import { Rng } from "../src/random.js";
import type { Store } from "../src/serve/store/store.js";
import type { Role } from "../src/serve/store/tokens.js";

export const CLASSES = ["ant", "bee", "cat"];

/**
 * A pool of `n` items in 3 well-separated classes (8 features), as pool.npy with pool.ids beside
 * it, and labeled.csv with one labelled item per class. Returns the paths and the true labels.
 */
export function writePool(dir: string, n: number, seed = 1): { pool: string; labeled: string; truth: Map<string, string> } {
  const rng = new Rng(seed),
    d = 8;
  const x = new Float32Array(n * d),
    truth = new Map<string, string>();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal(j === k ? 2.5 : 0, 1);
    ids.push(`item-${i}`);
    truth.set(`item-${i}`, CLASSES[k]);
  }
  const pool = join(dir, "pool.npy");
  writeFileSync(pool, encodeNpy(x, [n, d]));
  writeFileSync(join(dir, "pool.ids"), ids.join("\n") + "\n");
  const labeled = join(dir, "labeled.csv");
  writeFileSync(labeled, "id,label\nitem-0,ant\nitem-1,bee\nitem-2,cat\n");
  return { pool, labeled, truth };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** An HTTP client for the API with a bearer token (or none). */
export function client(url: string, token?: string) {
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    raw?: string,
    type = "application/json",
  ): Promise<Reply<T>> => {
    const response = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined || raw !== undefined ? { "content-type": type } : {}) },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (an export): the text itself
    }
    return { status: response.status, body: parsed as T };
  };
  return {
    get: <T = Record<string, unknown>>(path: string) => call<T>("GET", path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown) => call<T>("POST", path, body),
    raw: <T = Record<string, unknown>>(path: string, text: string, type?: string) => call<T>("POST", path, undefined, text, type),
    delete: <T = Record<string, unknown>>(path: string) => call<T>("DELETE", path),
  };
}

export type Served = {
  item: { id: string } | null;
  lease: string;
  kind: "label" | "check";
  reason?: string;
  suggestion: { label: string; confidence: number } | null;
  why: Record<string, unknown>;
};

/** A token's secret, made as `alfamix token create` makes it. */
export const newToken = (store: Store, name: string, role: Role = "annotator", projectId: number | null = null) =>
  store.tokens.create(name, role, projectId).secret;

/** What a logged-in page sends with its API calls: the session cookie and the page key. */
export interface Session {
  cookie: string;
  "x-alfamix-page": string;
}

/**
 * Log a browser-less client in as the token behind `code` (the login link's two steps: the page,
 * then its form's POST from this origin); the session cookie and the page key from the redirect.
 */
export async function loginCookie(url: string, code: string): Promise<Session> {
  const page = await fetch(`${url}/login?code=${encodeURIComponent(code)}`);
  if (page.status !== 200) throw new Error(`login page: ${page.status}`);
  const posted = await fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ code }).toString(),
  });
  if (posted.status !== 303) throw new Error(`login: ${posted.status} ${await posted.text()}`);
  const key = /#k=([\w-]+)$/.exec(posted.headers.get("location") ?? "")?.[1];
  if (!key) throw new Error(`login: no page key in ${posted.headers.get("location")}`);
  return { cookie: posted.headers.get("set-cookie")!.split(";")[0], "x-alfamix-page": key };
}

/** Poll until `check` holds (the retrain thread works on its own time); fails after `ms`. */
export async function eventually<T>(what: string, fn: () => Promise<T>, check: (value: T) => boolean, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (check(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
