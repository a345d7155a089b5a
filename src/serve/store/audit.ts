import type { Sql } from "./sql.js";

export type AuditAction =
  | "label"
  | "undo"
  | "check"
  | "review"
  | "import"
  | "token-create"
  | "token-revoke"
  | "token-link"
  | "project-create"
  | "project-delete"
  | "login"
  | "logout";

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: AuditAction;
  project: string | null;
  item: string | null;
  detail: Record<string, unknown> | null;
}

/** Who did what: an append-only table (triggers refuse UPDATE and DELETE). */
export class AuditLog {
  constructor(private readonly sql: Sql) {}

  /** One entry; call it inside the transaction that makes the change, so the two commit together. */
  append(
    actor: { name: string; id: number | null },
    action: AuditAction,
    where: { project?: string; item?: string } = {},
    detail?: Record<string, unknown>,
  ): void {
    this.sql
      .statement("INSERT INTO audit (at, actor, token_id, action, project, item, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(Date.now(), actor.name, actor.id, action, where.project ?? null, where.item ?? null, detail === undefined ? null : JSON.stringify(detail));
  }

  /** Newest first: `limit` entries before id `before` (paging), optionally of one project. */
  list(options: { limit?: number; before?: number; project?: string } = {}): AuditEntry[] {
    const rows = this.sql
      .statement(`SELECT id, at, actor, action, project, item, detail FROM audit
      WHERE id < ? AND (? IS NULL OR project = ?) ORDER BY id DESC LIMIT ?`)
      .all(options.before ?? Number.MAX_SAFE_INTEGER, options.project ?? null, options.project ?? null, options.limit ?? 100) as (Omit<AuditEntry, "detail"> & {
      detail: string | null;
    })[];
    return rows.map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) }));
  }
}
