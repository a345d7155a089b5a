import type Database from "better-sqlite3";

/**
 * The schema, as numbered migrations: a database is brought up to date on open, each migration
 * in its own transaction, its number kept in `PRAGMA user_version`. Append; never edit one that
 * has shipped.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,          -- JSON: strategy, batch, model, random share, retrain cadence, seed
    classes TEXT NOT NULL,         -- JSON array; keys 1–9 follow this order
    display TEXT NOT NULL,         -- JSON: how an item is shown (media, path, text, pixels, features)
    dim INTEGER NOT NULL,
    size INTEGER NOT NULL,
    ready INTEGER NOT NULL DEFAULT 0,  -- 1 once the import finished
    created_at INTEGER NOT NULL
  );
  CREATE TABLE items (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    display TEXT,                  -- a media path or a text, when the project shows one per item
    PRIMARY KEY (project_id, row)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX items_by_id ON items (project_id, item_id);
  -- The pool's embedding rows, CHUNK_ROWS rows per blob (float32, little-endian), so that loading
  -- a 10⁶-row pool reads a few hundred blobs instead of a million.
  CREATE TABLE embeddings (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (project_id, chunk)
  ) WITHOUT ROWID;
  CREATE TABLE labels (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    label TEXT NOT NULL,
    annotator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    source TEXT NOT NULL,          -- annotator | import | initial
    model_version INTEGER,         -- the model whose guess was shown, if any
    predicted TEXT,
    confidence REAL,
    random INTEGER NOT NULL DEFAULT 0,  -- drawn at random for the unbiased accuracy estimate
    seq INTEGER NOT NULL,          -- order of arrival
    PRIMARY KEY (project_id, row)
  ) WITHOUT ROWID;
  CREATE INDEX labels_by_seq ON labels (project_id, seq);
  CREATE TABLE queue (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    score REAL,
    why TEXT NOT NULL,             -- JSON: strategy, score name, flipping classes, random, cold start
    random INTEGER NOT NULL,
    model_version INTEGER NOT NULL,
    PRIMARY KEY (project_id, position)
  ) WITHOUT ROWID;
  CREATE INDEX queue_by_row ON queue (project_id, row);
  CREATE TABLE leases (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    lease TEXT NOT NULL UNIQUE,
    token_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    model_version INTEGER,         -- the guess shown with the item, kept for the accuracy estimate
    predicted TEXT,
    confidence REAL,
    random INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, row)
  ) WITHOUT ROWID;
  CREATE TABLE skips (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    PRIMARY KEY (project_id, token_id, row)
  ) WITHOUT ROWID;
  CREATE TABLE models (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    labels INTEGER NOT NULL,       -- labelled items it was trained on
    train_accuracy REAL,
    kind TEXT NOT NULL,            -- model | cold-start
    ms INTEGER NOT NULL,
    params BLOB,                   -- the trained weights (float32), so a restart serves guesses at once
    PRIMARY KEY (project_id, version)
  ) WITHOUT ROWID;
  CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'annotator')),
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,     -- sha256 of the token; the token itself is never stored
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,         -- sha256 of the cookie value
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

/** Bring `db` up to the latest schema. */
export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the database was written by a newer alfamix (schema ${current}; this one knows ${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
