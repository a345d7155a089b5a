import type Database from "better-sqlite3";
import { closeSync, existsSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { ConflictError, UserError } from "../../errors.js";
import { resolveStrategy, upgradeStrategyParams, type StrategyParams, type StrategySpec } from "../../strategies/registry.js";
import { AuditLog } from "./audit.js";
import { ReviewStore } from "./reviews.js";
import { migrate } from "./schema.js";
import { Sql } from "./sql.js";
import { TokenStore } from "./tokens.js";

export type { Role, Token, TokenInfo } from "./tokens.js";

/** Rows per embedding blob. */
export const CHUNK_ROWS = 4096;

export interface ProjectConfig {
  /** The strategy as people see it: the entry as written (`alfamix[select=kcenter]`) or its alias. */
  strategy: string;
  /** The registered strategy, and its parameters complete and checked (resolveStrategy): what batches are planned with. */
  strategyName: string;
  strategyParams: Record<string, unknown>;
  /** Items per batch the strategy picks. */
  batch: number;
  model: "linear" | "mlp";
  /** Share of each batch drawn at random (marked) for the unbiased accuracy estimate. */
  randomShare: number;
  /** Labels since the last retrain that start the next one. */
  retrainEvery: number;
  seed: number;
  leaseSeconds: number;
  /** Share of labelled items sent to a second annotator, blind, for agreement and review (0 in projects made before it existed). */
  overlap?: number;
}

/** A stored config under today's names: projects made before strategyParams hold the strategy flags' bag instead. */
function upgradeConfig(stored: ProjectConfig & { strategyOptions?: StrategyParams }): ProjectConfig {
  if (stored.strategyParams) return stored;
  const { strategyOptions, ...config } = stored;
  const spec = resolveStrategy(config.strategy, upgradeStrategyParams(strategyOptions));
  return { ...config, strategy: spec.label, strategyName: spec.name, strategyParams: spec.params };
}

/** A project's strategy, as it was resolved when the project was made. */
export function projectStrategy(config: ProjectConfig): StrategySpec {
  return { label: config.strategy, name: config.strategyName, params: config.strategyParams };
}

/** How an annotator sees an item. */
export type Display =
  | { kind: "media"; dir: string }
  | { kind: "path"; base: string }
  /** `termPushes`: a TF-IDF .text-model.json that made the rows, for showing the n-grams behind a linear head's guess. */
  | { kind: "text"; termPushes?: string }
  | { kind: "pixels"; height: number; width: number }
  | { kind: "features" };

/** An item as stored: its id, its media path or text (when the project keeps one), its key frames (clips). */
export interface StoredItem {
  id: string;
  display: string | null;
  keyFrames: string | null;
}

export interface Project {
  id: number;
  name: string;
  config: ProjectConfig;
  classes: string[];
  display: Display;
  dim: number;
  size: number;
  createdAt: number;
}

export interface LabelRow {
  row: number;
  label: string;
  annotator: string;
  /** The token that labelled it; null for initial and imported labels. */
  tokenId: number | null;
  createdAt: number;
  source: "annotator" | "import" | "initial" | "review";
  modelVersion: number | null;
  predicted: string | null;
  confidence: number | null;
  random: boolean;
}

export interface QueueEntry {
  row: number;
  score: number | null;
  why: string;
  random: boolean;
  modelVersion: number;
}

export interface Lease {
  row: number;
  lease: string;
  tokenId: number;
  expiresAt: number;
  /** "check": a second, blind label of an item labelled already. */
  kind: "label" | "check";
  /** What was shown with it (JSON), so that a held item can be served again unchanged. */
  why: string | null;
  score: number | null;
  servedAt: number;
  modelVersion: number | null;
  predicted: string | null;
  confidence: number | null;
  random: boolean;
}

export interface ModelRecord {
  version: number;
  createdAt: number;
  labels: number;
  trainAccuracy: number | null;
  kind: "model" | "cold-start";
  ms: number;
}

/** A model record with its weights, when it has any. */
export type StoredModel = ModelRecord & { params: Float32Array | null };

const LABEL_COLUMNS =
  "row, label, annotator, token_id AS tokenId, created_at AS createdAt, source, model_version AS modelVersion, predicted, confidence, random";
const LEASE_COLUMNS =
  "row, lease, token_id AS tokenId, expires_at AS expiresAt, kind, why, score, served_at AS servedAt, model_version AS modelVersion, predicted, confidence, random";
const withRandom = <T extends { random: number }>(r: T | undefined): (Omit<T, "random"> & { random: boolean }) | undefined =>
  r && { ...r, random: r.random === 1 };

/**
 * The labelling service's store: one SQLite file (WAL; a label is on disk when its commit
 * returns). The only place with SQL: this class holds the projects, items, labels, queue, leases
 * and models; `tokens`, `reviews` and `audit` hold the rest.
 */
export class Store {
  readonly db: Database.Database;
  readonly tokens: TokenStore;
  readonly reviews: ReviewStore;
  readonly audit: AuditLog;
  private readonly sqlite: Sql;

  constructor(
    readonly path: string,
    options: { readonly?: boolean } = {},
  ) {
    try {
      // A new database is made readable by its owner only: it holds every label and the token hashes.
      // (SQLite gives the WAL and shared-memory files the database file's mode.)
      if (!options.readonly && !existsSync(path)) closeSync(openSync(path, "wx", 0o600));
      // Loaded on first use (about 70 ms), not by every command.
      const SQLite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
      this.db = new SQLite(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    } catch (e) {
      throw new UserError(`${path}: cannot open the database (${(e as Error).message})`);
    }
    if (!options.readonly) {
      this.db.pragma("journal_mode = WAL");
      // FULL: every commit is fsynced, so an acknowledged label survives a crash or power loss.
      this.db.pragma("synchronous = FULL");
      this.db.pragma("busy_timeout = 5000");
      // better-sqlite3 turns foreign keys on by default: off while the schema is rebuilt.
      this.db.pragma("foreign_keys = OFF");
      migrate(this.db);
      this.db.pragma("foreign_keys = ON");
      // Imports are staged here a chunk at a time, then committed in one statement (see commitImport).
      // A temporary table is this connection's own: staging takes no lock on the database, and a
      // crash leaves nothing behind.
      this.db.exec(
        "CREATE TEMP TABLE IF NOT EXISTS import_rows (import_id INTEGER NOT NULL, ord INTEGER NOT NULL, row INTEGER NOT NULL, label TEXT NOT NULL, annotator TEXT NOT NULL, PRIMARY KEY (import_id, ord)) WITHOUT ROWID",
      );
    }
    this.sqlite = new Sql(this.db);
    this.tokens = new TokenStore(this.sqlite);
    this.reviews = new ReviewStore(this.sqlite);
    this.audit = new AuditLog(this.sqlite);
  }

  close(): void {
    this.db.close();
  }

  private sql(text: string): Database.Statement {
    return this.sqlite.statement(text);
  }

  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn);
  }

  // --- settings

  setting(key: string): string | undefined {
    return (this.sql("SELECT value FROM settings WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setSetting(key: string, value: string): void {
    this.sql("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  // --- projects and items

  /** Start a project's import (not visible until `finishImport`); a taken name is a UserError. */
  beginProject(p: Omit<Project, "id" | "createdAt">): number {
    const taken = this.sql("SELECT ready FROM projects WHERE name = ?").get(p.name) as { ready: number } | undefined;
    if (taken?.ready) throw new ConflictError(`a project named ${JSON.stringify(p.name)} already exists`);
    // An import that died half-way left an unready project: start it again.
    if (taken) this.sql("DELETE FROM projects WHERE name = ?").run(p.name);
    const result = this.sql("INSERT INTO projects (name, config, classes, display, dim, size, ready, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)").run(
      p.name,
      JSON.stringify(p.config),
      JSON.stringify(p.classes),
      JSON.stringify(p.display),
      p.dim,
      p.size,
      Date.now(),
    );
    return Number(result.lastInsertRowid);
  }

  /** Items `start..` with ids, displays, key frames (clips) and their embedding rows, as whole chunks (start is a multiple of CHUNK_ROWS). */
  addItems(projectId: number, start: number, ids: string[], displays: (string | null)[] | undefined, rows: Float32Array, keyFrames?: string[]): void {
    this.transaction(() => {
      const insert = this.sql("INSERT INTO items (project_id, row, item_id, display, key_frames) VALUES (?, ?, ?, ?, ?)");
      ids.forEach((id, i) => {
        try {
          insert.run(projectId, start + i, id, displays?.[i] ?? null, keyFrames?.[i] || null);
        } catch (e) {
          if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE")
            throw new UserError(`the pool repeats the id ${JSON.stringify(id)} (row ${start + i}); ids must be unique`);
          throw e;
        }
      });
      const insertChunk = this.sql("INSERT INTO embeddings (project_id, chunk, data) VALUES (?, ?, ?)");
      for (let c = 0; c * CHUNK_ROWS < ids.length; c++) {
        const rowsInChunk = Math.min(CHUNK_ROWS, ids.length - c * CHUNK_ROWS),
          dim = rows.length / ids.length;
        const part = rows.subarray(c * CHUNK_ROWS * dim, (c * CHUNK_ROWS + rowsInChunk) * dim);
        insertChunk.run(projectId, start / CHUNK_ROWS + c, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
      }
    });
  }

  /** A project and everything in it (its tokens too, by the foreign key). */
  deleteProject(projectId: number): void {
    this.sql("DELETE FROM projects WHERE id = ?").run(projectId);
  }

  finishImport(projectId: number, size: number): void {
    this.sql("UPDATE projects SET ready = 1, size = ? WHERE id = ?").run(size, projectId);
  }

  private toProject(row: {
    id: number;
    name: string;
    config: string;
    classes: string;
    display: string;
    dim: number;
    size: number;
    created_at: number;
  }): Project {
    return {
      id: row.id,
      name: row.name,
      config: upgradeConfig(JSON.parse(row.config)),
      classes: JSON.parse(row.classes),
      display: JSON.parse(row.display),
      dim: row.dim,
      size: row.size,
      createdAt: row.created_at,
    };
  }

  project(name: string): Project | undefined {
    const row = this.sql("SELECT * FROM projects WHERE name = ? AND ready = 1").get(name) as Parameters<Store["toProject"]>[0] | undefined;
    return row && this.toProject(row);
  }

  projects(): Project[] {
    return (this.sql("SELECT * FROM projects WHERE ready = 1 ORDER BY id").all() as Parameters<Store["toProject"]>[0][]).map((r) => this.toProject(r));
  }

  rowOf(projectId: number, itemId: string): number | undefined {
    return (this.sql("SELECT row FROM items WHERE project_id = ? AND item_id = ?").get(projectId, itemId) as { row: number } | undefined)?.row;
  }

  /** The rows of the ids that are in the project (one query for a whole chunk of ids). */
  rowsOf(projectId: number, ids: string[]): Map<string, number> {
    const found = this.sql("SELECT item_id AS id, row FROM items WHERE project_id = ? AND item_id IN (SELECT value FROM json_each(?))").all(
      projectId,
      JSON.stringify(ids),
    ) as { id: string; row: number }[];
    return new Map(found.map((r) => [r.id, r.row]));
  }

  item(projectId: number, row: number): StoredItem {
    return this.sql("SELECT item_id AS id, display, key_frames AS keyFrames FROM items WHERE project_id = ? AND row = ?").get(projectId, row) as StoredItem;
  }

  /** The whole pool's embeddings into `out` (size × dim), chunk by chunk. */
  readEmbeddings(projectId: number, out: Float32Array): void {
    let offset = 0;
    for (const { data } of this.sql("SELECT data FROM embeddings WHERE project_id = ? ORDER BY chunk").iterate(projectId) as Iterable<{ data: Buffer }>) {
      out.set(new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4), offset);
      offset += data.byteLength / 4;
    }
    if (offset !== out.length) throw new Error(`embeddings: expected ${out.length} values, the store holds ${offset}`);
  }

  // --- labels

  label(projectId: number, row: number): LabelRow | undefined {
    return withRandom(
      this.sql(`SELECT ${LABEL_COLUMNS} FROM labels WHERE project_id = ? AND row = ?`).get(projectId, row) as
        | (Omit<LabelRow, "random"> & { random: number })
        | undefined,
    );
  }

  /** Write labels (replacing any on the same rows) in arrival order, and take their rows out of the queue. */
  putLabels(projectId: number, labels: LabelRow[]): void {
    if (labels.length === 0) return;
    let seq = (this.sql("SELECT COALESCE(MAX(seq), 0) AS last FROM labels WHERE project_id = ?").get(projectId) as { last: number }).last;
    const insert =
      this.sql(`INSERT INTO labels (project_id, row, label, annotator, token_id, created_at, source, model_version, predicted, confidence, random, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (project_id, row) DO UPDATE SET label = excluded.label, annotator = excluded.annotator, token_id = excluded.token_id, created_at = excluded.created_at, source = excluded.source,
        model_version = excluded.model_version, predicted = excluded.predicted, confidence = excluded.confidence, random = excluded.random, seq = excluded.seq`);
    const first = seq + 1;
    for (const l of labels)
      insert.run(projectId, l.row, l.label, l.annotator, l.tokenId, l.createdAt, l.source, l.modelVersion, l.predicted, l.confidence, l.random ? 1 : 0, ++seq);
    if (labels.length === 1) this.sql("DELETE FROM queue WHERE project_id = ? AND row = ?").run(projectId, labels[0].row);
    else
      this.sql("DELETE FROM queue WHERE project_id = ? AND row IN (SELECT row FROM labels WHERE project_id = ? AND seq >= ?)").run(projectId, projectId, first);
  }

  putLabel(projectId: number, label: LabelRow): void {
    this.putLabels(projectId, [label]);
  }

  /** Stage rows of an import (`start` is the position of the first in the file). */
  stageImport(importId: number, start: number, rows: { row: number; label: string; annotator: string }[]): void {
    const insert = this.sql("INSERT INTO temp.import_rows (import_id, ord, row, label, annotator) VALUES (?, ?, ?, ?, ?)");
    this.transaction(() => rows.forEach((r, i) => insert.run(importId, start + i, r.row, r.label, r.annotator)));
  }

  /**
   * Write a staged import as labels, in file order after the project's last label, in one
   * statement (native SQLite: about 0.1 s for 67,000 labels, where a statement per label from
   * JavaScript took 0.4 s). Replaced items leave the queue and any lease, and lose any second look
   * or review.
   * Call inside a transaction; returns how many labels were written.
   */
  commitImport(projectId: number, importId: number, createdAt: number): number {
    const last = (this.sql("SELECT COALESCE(MAX(seq), 0) AS last FROM labels WHERE project_id = ?").get(projectId) as { last: number }).last;
    // In file order, so that of an item listed twice the last label wins (the upsert meets the first).
    const written =
      this.sql(`INSERT INTO labels (project_id, row, label, annotator, token_id, created_at, source, model_version, predicted, confidence, random, seq)
        SELECT ?, s.row, s.label, s.annotator, NULL, ?, 'import', NULL, NULL, NULL, 0, ? + s.ord + 1 FROM temp.import_rows s
        WHERE s.import_id = ? ORDER BY s.ord
      ON CONFLICT (project_id, row) DO UPDATE SET label = excluded.label, annotator = excluded.annotator, token_id = NULL, created_at = excluded.created_at, source = 'import',
        model_version = NULL, predicted = NULL, confidence = NULL, random = 0, seq = excluded.seq`).run(projectId, createdAt, last, importId).changes;
    // Leases go too: a held item that an import labelled would otherwise be served to its holder again and again.
    for (const table of ["queue", "checks", "reviews", "leases"]) {
      this.sql(`DELETE FROM ${table} WHERE project_id = ? AND row IN (SELECT row FROM temp.import_rows WHERE import_id = ?)`).run(projectId, importId);
    }
    return written;
  }

  dropImport(importId: number): void {
    this.sql("DELETE FROM temp.import_rows WHERE import_id = ?").run(importId);
  }

  /** A reviewer's decision replaces the label, keeping its place in the arrival order. */
  replaceLabel(projectId: number, row: number, label: string, by: { name: string; tokenId: number }, now: number): void {
    this.sql("UPDATE labels SET label = ?, annotator = ?, token_id = ?, source = 'review', created_at = ? WHERE project_id = ? AND row = ?").run(
      label,
      by.name,
      by.tokenId,
      now,
      projectId,
      row,
    );
  }

  deleteLabel(projectId: number, row: number): boolean {
    return this.sql("DELETE FROM labels WHERE project_id = ? AND row = ?").run(projectId, row).changes > 0;
  }

  /** How many labels `tokenId` made in the project (as annotator). */
  labelCountBy(projectId: number, tokenId: number): number {
    return (this.sql("SELECT COUNT(*) AS n FROM labels WHERE project_id = ? AND token_id = ?").get(projectId, tokenId) as { n: number }).n;
  }

  /** Every label as rows and class names, in arrival order. */
  trainingLabels(projectId: number): { rows: Int32Array; labels: string[] } {
    const all = this.sql("SELECT row, label FROM labels WHERE project_id = ? ORDER BY seq").all(projectId) as { row: number; label: string }[];
    return { rows: Int32Array.from(all, (r) => r.row), labels: all.map((r) => r.label) };
  }

  labelCount(projectId: number): number {
    return (this.sql("SELECT COUNT(*) AS n FROM labels WHERE project_id = ?").get(projectId) as { n: number }).n;
  }

  /** Labels in arrival order with their item ids, after arrival number `afterSeq`, at most `limit`; each with its `seq`. */
  exportLabels(projectId: number, afterSeq = 0, limit = -1): (LabelRow & { id: string; seq: number })[] {
    const columns = LABEL_COLUMNS.split(", ")
      .map((c) => `l.${c}`)
      .join(", ");
    return (
      this.sql(`SELECT i.item_id AS id, l.seq, ${columns} FROM labels l JOIN items i ON i.project_id = l.project_id AND i.row = l.row
        WHERE l.project_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`).all(projectId, afterSeq, limit) as (Omit<LabelRow, "random"> & {
        id: string;
        seq: number;
        random: number;
      })[]
    ).map((r) => withRandom(r)!);
  }

  /**
   * The project's labels a page at a time, all from one snapshot: a connection of its own in a
   * read transaction, so that an export streamed over many turns of the event loop is consistent
   * while labels keep coming in on the main connection.
   */
  *exportPages(projectId: number, pageSize: number): Generator<(LabelRow & { id: string })[]> {
    const reader = new Store(this.path, { readonly: true });
    try {
      reader.db.exec("BEGIN");
      for (let after = 0; ; ) {
        const page = reader.exportLabels(projectId, after, pageSize);
        if (page.length === 0) return;
        yield page;
        after = page[page.length - 1].seq;
      }
    } finally {
      if (reader.db.inTransaction) reader.db.exec("COMMIT");
      reader.close();
    }
  }

  /** Random-share labels with the guess shown, in arrival order (for the accuracy estimate). */
  randomShareLabels(projectId: number): { label: string; predicted: string; modelVersion: number; seq: number }[] {
    return this.sql(
      "SELECT label, predicted, model_version AS modelVersion, seq FROM labels WHERE project_id = ? AND random = 1 AND predicted IS NOT NULL ORDER BY seq",
    ).all(projectId) as { label: string; predicted: string; modelVersion: number; seq: number }[];
  }

  // --- the queue, leases and skips

  replaceQueue(projectId: number, entries: QueueEntry[]): void {
    this.transaction(() => {
      this.sql("DELETE FROM queue WHERE project_id = ?").run(projectId);
      const insert = this.sql("INSERT INTO queue (project_id, position, row, score, why, random, model_version) VALUES (?, ?, ?, ?, ?, ?, ?)");
      entries.forEach((e, i) => insert.run(projectId, i, e.row, e.score, e.why, e.random ? 1 : 0, e.modelVersion));
      // A new batch is a fresh start: what an annotator skipped before may be wanted now.
      this.sql("DELETE FROM skips WHERE project_id = ?").run(projectId);
    });
  }

  queueLength(projectId: number): number {
    return (
      this.sql(
        "SELECT COUNT(*) AS n FROM queue q WHERE q.project_id = ? AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.project_id = q.project_id AND l.row = q.row)",
      ).get(projectId) as { n: number }
    ).n;
  }

  /** The most wanted queued item nobody holds and this token has not skipped. */
  nextQueued(projectId: number, tokenId: number, now: number): QueueEntry | undefined {
    const r = this.sql(`SELECT q.row, q.score, q.why, q.random, q.model_version AS modelVersion FROM queue q
      WHERE q.project_id = ?
        AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.project_id = q.project_id AND l.row = q.row)
        AND NOT EXISTS (SELECT 1 FROM leases s WHERE s.project_id = q.project_id AND s.row = q.row AND s.expires_at > ?)
        AND NOT EXISTS (SELECT 1 FROM skips k WHERE k.project_id = q.project_id AND k.row = q.row AND k.token_id = ?)
      ORDER BY q.position LIMIT 1`).get(projectId, now, tokenId) as (Omit<QueueEntry, "random"> & { random: number }) | undefined;
    return r && { ...r, random: r.random === 1 };
  }

  /** Rows that are neither labelled nor held, from `start` on (wrapping), at most `limit`. */
  freeRowsFrom(projectId: number, start: number, limit: number, now: number): number[] {
    const query = `SELECT i.row FROM items i WHERE i.project_id = ? AND i.row >= ? AND i.row < ?
      AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.project_id = i.project_id AND l.row = i.row)
      AND NOT EXISTS (SELECT 1 FROM leases s WHERE s.project_id = i.project_id AND s.row = i.row AND s.expires_at > ?)
      ORDER BY i.row LIMIT ?`;
    const first = (this.sql(query).all(projectId, start, Number.MAX_SAFE_INTEGER, now, limit) as { row: number }[]).map((r) => r.row);
    if (first.length >= limit) return first;
    return [...first, ...(this.sql(query).all(projectId, 0, start, now, limit - first.length) as { row: number }[]).map((r) => r.row)];
  }

  /** Take the lease on `row` (replacing an expired one). The caller checks the row is free. */
  putLease(projectId: number, lease: Lease): void {
    this.sql(`INSERT INTO leases (project_id, row, lease, token_id, expires_at, kind, why, score, served_at, model_version, predicted, confidence, random) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (project_id, row) DO UPDATE SET lease = excluded.lease, token_id = excluded.token_id, expires_at = excluded.expires_at, kind = excluded.kind, why = excluded.why, score = excluded.score,
        served_at = excluded.served_at, model_version = excluded.model_version, predicted = excluded.predicted, confidence = excluded.confidence, random = excluded.random`).run(
      projectId,
      lease.row,
      lease.lease,
      lease.tokenId,
      lease.expiresAt,
      lease.kind,
      lease.why,
      lease.score,
      lease.servedAt,
      lease.modelVersion,
      lease.predicted,
      lease.confidence,
      lease.random ? 1 : 0,
    );
  }

  leaseOf(projectId: number, row: number): Lease | undefined {
    return withRandom(
      this.sql(`SELECT ${LEASE_COLUMNS} FROM leases WHERE project_id = ? AND row = ?`).get(projectId, row) as
        | (Omit<Lease, "random"> & { random: number })
        | undefined,
    );
  }

  /** The unexpired leases `tokenId` holds in the project, the earliest served first. */
  leasesHeldBy(projectId: number, tokenId: number, now: number): Lease[] {
    return (
      this.sql(`SELECT ${LEASE_COLUMNS} FROM leases WHERE project_id = ? AND token_id = ? AND expires_at > ? ORDER BY served_at, row`).all(
        projectId,
        tokenId,
        now,
      ) as (Omit<Lease, "random"> & { random: number })[]
    ).map((r) => withRandom(r)!);
  }

  /** A held lease's guess, brought up to the current model (the page shows the new guess). */
  updateLeaseGuess(projectId: number, row: number, guess: { modelVersion: number; predicted: string; confidence: number }): void {
    this.sql("UPDATE leases SET model_version = ?, predicted = ?, confidence = ? WHERE project_id = ? AND row = ?").run(
      guess.modelVersion,
      guess.predicted,
      guess.confidence,
      projectId,
      row,
    );
  }

  renewLease(projectId: number, row: number, lease: string, expiresAt: number): boolean {
    return this.sql("UPDATE leases SET expires_at = ? WHERE project_id = ? AND row = ? AND lease = ?").run(expiresAt, projectId, row, lease).changes > 0;
  }

  releaseLease(projectId: number, row: number): void {
    this.sql("DELETE FROM leases WHERE project_id = ? AND row = ?").run(projectId, row);
  }

  leasedCount(projectId: number, now: number): number {
    return (this.sql("SELECT COUNT(*) AS n FROM leases WHERE project_id = ? AND expires_at > ?").get(projectId, now) as { n: number }).n;
  }

  addSkip(projectId: number, row: number, tokenId: number): void {
    this.sql("INSERT OR IGNORE INTO skips (project_id, row, token_id) VALUES (?, ?, ?)").run(projectId, row, tokenId);
  }

  // --- models

  addModel(projectId: number, model: StoredModel): void {
    const params = model.params ? Buffer.from(model.params.buffer, model.params.byteOffset, model.params.byteLength) : null;
    this.sql("INSERT INTO models (project_id, version, created_at, labels, train_accuracy, kind, ms, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
      projectId,
      model.version,
      model.createdAt,
      model.labels,
      model.trainAccuracy,
      model.kind,
      model.ms,
      params,
    );
  }

  latestModel(projectId: number): ModelRecord | undefined {
    return this.sql(
      "SELECT version, created_at AS createdAt, labels, train_accuracy AS trainAccuracy, kind, ms FROM models WHERE project_id = ? ORDER BY version DESC LIMIT 1",
    ).get(projectId) as ModelRecord | undefined;
  }

  /** Every trained model's weights, in version order, with the labels it was trained on (to replay what followed from them). */
  *allWeights(projectId: number): Generator<{ version: number; labels: number; params: Float32Array }> {
    const rows = this.sql("SELECT version, labels, params FROM models WHERE project_id = ? AND params IS NOT NULL ORDER BY version").iterate(
      projectId,
    ) as Iterable<{
      version: number;
      labels: number;
      params: Buffer;
    }>;
    for (const row of rows) {
      yield {
        version: row.version,
        labels: row.labels,
        params: new Float32Array(row.params.buffer.slice(row.params.byteOffset, row.params.byteOffset + row.params.byteLength)),
      };
    }
  }

  models(projectId: number): ModelRecord[] {
    return this.sql(
      "SELECT version, created_at AS createdAt, labels, train_accuracy AS trainAccuracy, kind, ms FROM models WHERE project_id = ? ORDER BY version",
    ).all(projectId) as ModelRecord[];
  }
}
