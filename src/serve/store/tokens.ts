import { createHash, randomBytes } from "node:crypto";
import { ConflictError, UserError } from "../../errors.js";
import type { Sql } from "./sql.js";

export type Role = "admin" | "reviewer" | "annotator";
export const ROLES: readonly Role[] = ["admin", "reviewer", "annotator"];

/** Who is calling: a token's identity. Authorship compares `id`; `name` is for people. */
export interface Token {
  id: number;
  name: string;
  role: Role;
  projectId: number | null;
}

export interface TokenInfo extends Token {
  project: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A new secret: 32 random bytes, base64url, with a prefix that says what it is. */
export const newSecret = (prefix: string) => `${prefix}_${randomBytes(32).toString("base64url")}`;

const DAY = 86400_000;
/** How long a browser session lasts (never past its token's expiry). */
export const SESSION_DAYS = 30;
/** How often a token's last use is written at most (a write per request would be wasteful). */
const TOUCH_MS = 60_000;

/** The longest a token may live. */
const MAX_LIFETIME = 3650 * DAY;
const TOKEN_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._@+-]{0,63}$/u;
const ACTIVE = "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)";
const TOKEN_COLUMNS = "t.id, t.name, t.role, t.project_id AS projectId";

/**
 * Tokens and what is made from them: browser sessions and single-use login codes. Only hashes
 * are stored. A revoked or expired token stops working at once, with every session and code made
 * from it.
 */
export class TokenStore {
  private readonly touched = new Map<number, number>();

  constructor(private readonly sql: Sql) {}

  /** A new token; the secret is returned this once. A taken name is a ConflictError. */
  create(name: string, role: Role, projectId: number | null, expiresAt: number | null = null): { id: number; secret: string } {
    if (!TOKEN_NAME.test(name) || name !== name.normalize("NFKC") || /\s$|\s\s/.test(name)) {
      throw new UserError(
        `a token's name is 1–64 letters, digits, single spaces and . _ @ + -, starting with a letter or digit; got ${JSON.stringify(name.slice(0, 80))}`,
      );
    }
    if (!ROLES.includes(role)) throw new UserError(`a token's role is one of ${ROLES.join(", ")}; got ${JSON.stringify(role)}`);
    // Admins see every project: a project on an admin token would look like a limit and not be one.
    if (role === "admin" && projectId !== null) throw new UserError("an admin token is for every project; limit annotator and reviewer tokens with a project");
    if (expiresAt !== null && !(expiresAt > Date.now() && expiresAt <= Date.now() + MAX_LIFETIME)) throw new UserError("a token expires within ten years");
    // Names that differ only in case read as the same person in an export.
    const taken = this.list().find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (taken) throw new ConflictError(`a token named ${JSON.stringify(taken.name)} already exists; pick another name (names identify annotators in exports)`);
    const secret = newSecret("alf");
    const result = this.sql
      .statement("INSERT INTO tokens (name, role, project_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(name, role, projectId, sha256(secret), Date.now(), expiresAt);
    return { id: Number(result.lastInsertRowid), secret };
  }

  bySecret(secret: string, now = Date.now()): Token | undefined {
    const token = this.sql.statement(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.hash = ? AND ${ACTIVE}`).get(sha256(secret), now) as Token | undefined;
    if (token) this.touch(token.id, now);
    return token;
  }

  byName(name: string): TokenInfo | undefined {
    return this.list().find((t) => t.name === name);
  }

  /** The token of that name if it works now (neither revoked nor expired). */
  active(name: string, now = Date.now()): TokenInfo | undefined {
    const token = this.byName(name);
    return token && token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now) ? token : undefined;
  }

  list(): TokenInfo[] {
    return this.sql
      .statement(`SELECT ${TOKEN_COLUMNS}, p.name AS project, t.created_at AS createdAt, t.expires_at AS expiresAt, t.revoked_at AS revokedAt, t.last_used_at AS lastUsedAt
      FROM tokens t LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.id`)
      .all() as TokenInfo[];
  }

  /** Revoke a token by name: it, its sessions and its login codes stop working now. False if there is no such active token. */
  revoke(name: string, now = Date.now()): boolean {
    return this.sql.transaction(() => {
      const row = this.sql.statement("SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL").get(name) as { id: number } | undefined;
      if (!row) return false;
      this.sql.statement("UPDATE tokens SET revoked_at = ? WHERE id = ?").run(now, row.id);
      this.sql.statement("DELETE FROM sessions WHERE token_id = ?").run(row.id);
      this.sql.statement("DELETE FROM login_codes WHERE token_id = ?").run(row.id);
      return true;
    });
  }

  private touch(id: number, now: number): void {
    if (now - (this.touched.get(id) ?? 0) < TOUCH_MS) return;
    this.touched.set(id, now);
    this.sql.statement("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(now, id);
  }

  // --- sessions (the browser's cookie)

  createSession(tokenId: number, now = Date.now()): { secret: string; expiresAt: number } {
    const secret = newSecret("ses");
    const tokenExpiry = (this.sql.statement("SELECT expires_at AS e FROM tokens WHERE id = ?").get(tokenId) as { e: number | null }).e;
    const expiresAt = Math.min(now + SESSION_DAYS * DAY, tokenExpiry ?? Infinity);
    this.sql.statement("INSERT INTO sessions (hash, token_id, expires_at) VALUES (?, ?, ?)").run(sha256(secret), tokenId, expiresAt);
    return { secret, expiresAt };
  }

  bySession(secret: string, now = Date.now()): Token | undefined {
    const token = this.sql
      .statement(`SELECT ${TOKEN_COLUMNS} FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = ? AND s.expires_at > ? AND ${ACTIVE}`)
      .get(sha256(secret), now, now) as Token | undefined;
    if (token) this.touch(token.id, now);
    return token;
  }

  deleteSession(secret: string): void {
    this.sql.statement("DELETE FROM sessions WHERE hash = ?").run(sha256(secret));
  }

  // --- login codes (what a login link holds instead of the token)

  /** A single-use code for `tokenId`, valid for `hours`. */
  createLoginCode(tokenId: number, hours: number, now = Date.now()): string {
    const code = newSecret("code");
    this.sql.statement("INSERT INTO login_codes (hash, token_id, expires_at) VALUES (?, ?, ?)").run(sha256(code), tokenId, now + hours * 3600_000);
    return code;
  }

  /** The token a code logs in as, without using it up. */
  peekLoginCode(code: string, now = Date.now()): Token | undefined {
    return this.sql
      .statement(`SELECT ${TOKEN_COLUMNS} FROM login_codes c JOIN tokens t ON t.id = c.token_id WHERE c.hash = ? AND c.expires_at > ? AND ${ACTIVE}`)
      .get(sha256(code), now, now) as Token | undefined;
  }

  /** Use a code up: the token it logs in as, or undefined when it is unknown, used, expired or revoked. */
  takeLoginCode(code: string, now = Date.now()): Token | undefined {
    return this.sql.transaction(() => {
      const token = this.peekLoginCode(code, now);
      this.sql.statement("DELETE FROM login_codes WHERE hash = ?").run(sha256(code));
      return token;
    });
  }

  /** Forget expired sessions and login codes. */
  purgeExpired(now = Date.now()): { sessions: number; codes: number } {
    return {
      sessions: this.sql.statement("DELETE FROM sessions WHERE expires_at <= ?").run(now).changes,
      codes: this.sql.statement("DELETE FROM login_codes WHERE expires_at <= ?").run(now).changes,
    };
  }
}

/** When a token given `expires` (a duration such as 30d) stops working: null for never; a UserError naming `what` for anything else. */
export function expiryOf(expires: string | undefined, what: string, now = Date.now()): number | null {
  if (expires === undefined) return null;
  const lifetime = parseDuration(expires);
  if (lifetime === undefined) throw new UserError(`${what} takes a duration such as 30d, 12h or 90m (at most ten years); got ${JSON.stringify(expires)}`);
  return now + lifetime;
}

/**
 * A duration such as 30d, 12h, 90m or 2w, as milliseconds; undefined for anything else. Expiry and
 * login-link lifetimes are given this way.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { m: 60_000, min: 60_000, h: 3600_000, d: DAY, w: 7 * DAY }[m[2].toLowerCase() as "m"];
  const ms = Number(m[1]) * unit;
  return ms > 0 && ms <= MAX_LIFETIME ? ms : undefined;
}
