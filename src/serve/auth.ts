import type { IncomingMessage } from "node:http";
import { HttpError } from "./http.js";
import type { Project, Store, Token } from "./store/store.js";

export const SESSION_COOKIE = "alfamix_session";

/** The caller's token: `Authorization: Bearer TOKEN`, or the browser's session cookie. */
export function authenticate(store: Store, request: IncomingMessage): Token | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? store.tokenBySecret(m[1]) : undefined;
  }
  const session = cookies(request)[SESSION_COOKIE];
  return session ? store.tokenBySession(session) : undefined;
}

export function cookies(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** The Set-Cookie value of a session: HttpOnly (no script reads it), SameSite=Strict (no other site sends it). */
export function sessionCookie(secret: string, days = 30): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(secret)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${days * 86400}`;
}

/** 401 without a token; the token otherwise. */
export function requireToken(token: Token | undefined): Token {
  if (!token) throw new HttpError(401, "this needs a token: send Authorization: Bearer TOKEN (alfamix token create), or log in with /login?token=TOKEN");
  return token;
}

export function requireAdmin(token: Token | undefined): Token {
  const t = requireToken(token);
  if (t.role !== "admin") throw new HttpError(403, "this needs an admin token");
  return t;
}

/** 403 when an annotator's token is for another project. */
export function requireProjectAccess(token: Token | undefined, project: Project): Token {
  const t = requireToken(token);
  if (t.role !== "admin" && t.projectId !== null && t.projectId !== project.id) throw new HttpError(403, `this token is not for project ${JSON.stringify(project.name)}`);
  return t;
}

/** Projects a token may see. */
export function visibleProjects(token: Token, projects: Project[]): Project[] {
  return token.role === "admin" || token.projectId === null ? projects : projects.filter((p) => p.id === token.projectId);
}
