import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { badRequest, forbidden, HttpError, notFound } from "./http.js";
import type { Project, Store, Token } from "./store/store.js";

export const SESSION_COOKIE = "alfamix_session";
/** Over HTTPS: a __Host- cookie cannot be set by a sibling subdomain, nor without Secure. */
export const SECURE_SESSION_COOKIE = "__Host-alfamix_session";

/** The caller: who (a token) and how (a bearer header, or the browser's session cookie). */
export interface Caller {
  token: Token | undefined;
  /** Whether the credential came with the request by itself (a cookie): then it needs the CSRF checks. */
  viaCookie: boolean;
  /** Whether a cookie's request also carried the page key of its session (see pageKey). */
  pageKeyMatches: boolean;
}

/** The header in which the app sends its page key. */
export const PAGE_KEY_HEADER = "x-alfamix-page";

/**
 * A session's page key: the app keeps it in localStorage, which only pages of this origin (this
 * scheme, host and port) can read, and sends it with every API call. Cookies are not kept apart
 * by port: a page on another port of the same host can push a session cookie of its own into the
 * browser (or read ours on its own port), but it cannot know or set the key, so such a cookie
 * opens nothing.
 */
export const pageKey = (sessionSecret: string) => createHash("sha256").update(`page:${sessionSecret}`).digest("base64url").slice(0, 32);

/** `Authorization: Bearer TOKEN` (API clients), else the session cookie (the browser). */
export function authenticate(store: Store, request: IncomingMessage): Caller {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return { token: m ? store.tokens.bySecret(m[1]) : undefined, viaCookie: false, pageKeyMatches: false };
  }
  const session = sessionOf(request);
  if (!session) return { token: undefined, viaCookie: false, pageKeyMatches: false };
  return { token: store.tokens.bySession(session), viaCookie: true, pageKeyMatches: request.headers[PAGE_KEY_HEADER] === pageKey(session) };
}

/** The session cookie's secret (under the __Host- name over HTTPS), if any. */
export function sessionOf(request: IncomingMessage): string | undefined {
  const jar = cookies(request);
  return jar[SECURE_SESSION_COOKIE] ?? jar[SESSION_COOKIE];
}

/** The request's cookies; a malformed %-escape is a 400. */
export function cookies(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      throw badRequest(`the cookie ${JSON.stringify(part.slice(0, i).trim())} has a malformed %-escape`);
    }
  }
  return out;
}

/**
 * The Set-Cookie value of a session: HttpOnly (no script reads it), SameSite=Strict (no other
 * site sends it), Secure when the page came over HTTPS.
 */
export function sessionCookie(secret: string, expiresAt: number, secure: boolean): string {
  const seconds = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  return `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${encodeURIComponent(secret)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${seconds}${secure ? "; Secure" : ""}`;
}

export const clearedCookie = (secure: boolean) =>
  `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? "; Secure" : ""}`;

/** Who may call a route: any token, a reviewer (or admin), or an admin only. */
export type Access = "token" | "reviewer" | "admin";

/** 401 without a token, 403 below the route's role; the token otherwise. */
export function requireAccess(token: Token | undefined, access: Access): Token {
  if (!token)
    throw new HttpError(401, "this needs a token: send Authorization: Bearer TOKEN (alfamix token create), or open a login link (alfamix token link)");
  if (access === "admin" && token.role !== "admin") throw forbidden("this needs an admin token");
  if (access === "reviewer" && token.role === "annotator") throw forbidden("this needs a reviewer or admin token");
  return token;
}

/**
 * The project, when the token may see it. A project-scoped token gets the same 404 for another
 * project whether it exists or not, so that it cannot learn other projects' names.
 */
export function projectFor(token: Token, project: Project | undefined, name: string): Project {
  if (!project || (token.role !== "admin" && token.projectId !== null && token.projectId !== project.id)) throw notFound(`no project ${JSON.stringify(name)}`);
  return project;
}

/** Projects a token may see. */
export function visibleProjects(token: Token, projects: Project[]): Project[] {
  return token.role === "admin" || token.projectId === null ? projects : projects.filter((p) => p.id === token.projectId);
}
