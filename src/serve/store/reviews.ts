import type { Sql } from "./sql.js";

/** An item labelled twice: the first label and, once given, the second annotator's blind one. */
export interface Check {
  row: number;
  firstTokenId: number;
  firstAnnotator: string;
  firstLabel: string;
  tokenId: number | null;
  annotator: string | null;
  label: string | null;
  createdAt: number | null;
}

/** A disagreement between the two labels, open until an admin or reviewer resolves it. */
export interface Review {
  row: number;
  createdAt: number;
  resolvedLabel: string | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
}

const CHECK_COLUMNS =
  "row, first_token_id AS firstTokenId, first_annotator AS firstAnnotator, first_label AS firstLabel, token_id AS tokenId, annotator, label, created_at AS createdAt";

/** Second looks (overlap) and the review queue of their disagreements. */
export class ReviewStore {
  constructor(private readonly sql: Sql) {}

  /** Send a labelled item for a second, blind label. */
  addCheck(projectId: number, row: number, first: { tokenId: number; annotator: string; label: string }): void {
    this.sql
      .statement("INSERT OR REPLACE INTO checks (project_id, row, first_token_id, first_annotator, first_label) VALUES (?, ?, ?, ?, ?)")
      .run(projectId, row, first.tokenId, first.annotator, first.label);
  }

  check(projectId: number, row: number): Check | undefined {
    return this.sql.statement(`SELECT ${CHECK_COLUMNS} FROM checks WHERE project_id = ? AND row = ?`).get(projectId, row) as Check | undefined;
  }

  /** The first item awaiting a second label that `tokenId` did not label first, nobody holds, and it has not skipped. */
  nextCheck(projectId: number, tokenId: number, now: number): number | undefined {
    return (
      this.sql
        .statement(`SELECT c.row FROM checks c WHERE c.project_id = ? AND c.token_id IS NULL AND c.first_token_id != ?
        AND NOT EXISTS (SELECT 1 FROM leases s WHERE s.project_id = c.project_id AND s.row = c.row AND s.expires_at > ?)
        AND NOT EXISTS (SELECT 1 FROM skips k WHERE k.project_id = c.project_id AND k.row = c.row AND k.token_id = ?)
      ORDER BY c.row LIMIT 1`)
        .get(projectId, tokenId, now, tokenId) as { row: number } | undefined
    )?.row;
  }

  recordCheck(projectId: number, row: number, second: { tokenId: number; annotator: string; label: string }, now: number): void {
    this.sql
      .statement("UPDATE checks SET token_id = ?, annotator = ?, label = ?, created_at = ? WHERE project_id = ? AND row = ?")
      .run(second.tokenId, second.annotator, second.label, now, projectId, row);
  }

  /** Take back a second label: the item waits for one again. */
  clearCheck(projectId: number, row: number): void {
    this.sql
      .statement("UPDATE checks SET token_id = NULL, annotator = NULL, label = NULL, created_at = NULL WHERE project_id = ? AND row = ?")
      .run(projectId, row);
  }

  /** Forget the item's check and review (its first label was undone or overwritten). */
  forget(projectId: number, row: number): void {
    this.sql.statement("DELETE FROM checks WHERE project_id = ? AND row = ?").run(projectId, row);
    this.sql.statement("DELETE FROM reviews WHERE project_id = ? AND row = ?").run(projectId, row);
  }

  /** Every item labelled twice, with both labels. */
  completedChecks(projectId: number): Check[] {
    return this.sql.statement(`SELECT ${CHECK_COLUMNS} FROM checks WHERE project_id = ? AND label IS NOT NULL ORDER BY created_at`).all(projectId) as Check[];
  }

  pendingChecks(projectId: number): number {
    return (this.sql.statement("SELECT COUNT(*) AS n FROM checks WHERE project_id = ? AND label IS NULL").get(projectId) as { n: number }).n;
  }

  openReview(projectId: number, row: number, now: number): void {
    this.sql.statement("INSERT OR REPLACE INTO reviews (project_id, row, created_at) VALUES (?, ?, ?)").run(projectId, row, now);
  }

  deleteReview(projectId: number, row: number): void {
    this.sql.statement("DELETE FROM reviews WHERE project_id = ? AND row = ?").run(projectId, row);
  }

  review(projectId: number, row: number): Review | undefined {
    return this.sql
      .statement(
        "SELECT row, created_at AS createdAt, resolved_label AS resolvedLabel, resolved_by AS resolvedBy, resolved_at AS resolvedAt FROM reviews WHERE project_id = ? AND row = ?",
      )
      .get(projectId, row) as Review | undefined;
  }

  /** Reviews with their checks, open ones first, oldest first. */
  reviews(projectId: number, options: { open?: boolean; limit?: number } = {}): (Review & Check)[] {
    return this.sql
      .statement(`SELECT r.row, r.created_at AS createdAt, r.resolved_label AS resolvedLabel, r.resolved_by AS resolvedBy, r.resolved_at AS resolvedAt,
        c.first_token_id AS firstTokenId, c.first_annotator AS firstAnnotator, c.first_label AS firstLabel, c.token_id AS tokenId, c.annotator, c.label
      FROM reviews r JOIN checks c ON c.project_id = r.project_id AND c.row = r.row
      WHERE r.project_id = ? AND (? = 0 OR r.resolved_at IS NULL) ORDER BY r.resolved_at IS NOT NULL, r.created_at LIMIT ?`)
      .all(projectId, options.open ? 1 : 0, options.limit ?? 1000) as (Review & Check)[];
  }

  openReviewCount(projectId: number): number {
    return (this.sql.statement("SELECT COUNT(*) AS n FROM reviews WHERE project_id = ? AND resolved_at IS NULL").get(projectId) as { n: number }).n;
  }

  resolve(projectId: number, row: number, label: string, by: string, now: number): void {
    this.sql
      .statement("UPDATE reviews SET resolved_label = ?, resolved_by = ?, resolved_at = ? WHERE project_id = ? AND row = ?")
      .run(label, by, now, projectId, row);
  }
}
