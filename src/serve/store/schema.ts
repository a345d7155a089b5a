import type Database from "better-sqlite3";

/**
 * The schema, as numbered migrations: a database is brought up to date on open, each migration
 * in its own transaction, its number kept in `PRAGMA user_version`. Append; never edit one that
 * has shipped.
 */
export const MIGRATIONS: string[] = [
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
  // 2: identity is the token's id, tokens have a lifecycle, login links hold single-use codes,
  // annotators hold several leases (kept with what was shown, so a held item can be served again),
  // items may get a second blind label, disagreements are reviewed, and every change is audited.
  `
  CREATE TABLE tokens_v2 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,     -- one name, one token, for ever (a revoked token keeps its name)
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'annotator')),
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,            -- NULL: never
    revoked_at INTEGER,
    last_used_at INTEGER
  );
  -- Names were not unique before: a repeated name keeps its first token and the others get '#id'.
  INSERT INTO tokens_v2 (id, name, role, project_id, hash, created_at)
    SELECT id, CASE WHEN id = (SELECT MIN(id) FROM tokens t WHERE t.name = tokens.name) THEN name ELSE name || '#' || id END,
      role, project_id, hash, created_at FROM tokens;
  DROP TABLE tokens;
  ALTER TABLE tokens_v2 RENAME TO tokens;
  CREATE TABLE login_codes (
    hash TEXT PRIMARY KEY,         -- sha256 of the code; deleted when it is used
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ALTER TABLE labels ADD COLUMN token_id INTEGER;   -- who labelled; NULL for initial and imported labels
  UPDATE labels SET token_id = (SELECT id FROM tokens t WHERE t.name = labels.annotator)
    WHERE source = 'annotator';
  CREATE INDEX labels_by_token ON labels (project_id, token_id, seq);
  -- The accuracy estimate reads the random-share labels only (a tenth of them, by default).
  CREATE INDEX labels_random ON labels (project_id, seq) WHERE random = 1;
  ALTER TABLE leases ADD COLUMN kind TEXT NOT NULL DEFAULT 'label';  -- label | check (a second, blind label)
  ALTER TABLE leases ADD COLUMN why TEXT;
  ALTER TABLE leases ADD COLUMN score REAL;
  ALTER TABLE leases ADD COLUMN served_at INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX leases_by_token ON leases (project_id, token_id, expires_at);
  -- Overlap: a share of labelled items goes to a second annotator, who does not see the first label.
  CREATE TABLE checks (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    first_token_id INTEGER NOT NULL,
    first_annotator TEXT NOT NULL,
    first_label TEXT NOT NULL,
    token_id INTEGER,              -- the second annotator, once they have labelled it
    annotator TEXT,
    label TEXT,
    created_at INTEGER,
    PRIMARY KEY (project_id, row)
  ) WITHOUT ROWID;
  -- Disagreements between the two, resolved by an admin or a reviewer.
  CREATE TABLE reviews (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_label TEXT,
    resolved_by TEXT,
    resolved_at INTEGER,
    PRIMARY KEY (project_id, row)
  ) WITHOUT ROWID;
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,           -- the token's name, or "cli"
    token_id INTEGER,
    action TEXT NOT NULL,          -- label | undo | check | review | import | token-create | token-revoke | project-create | login | logout
    project TEXT,
    item TEXT,
    detail TEXT                    -- JSON
  );
  CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  -- What the CLI should know of the running service (the URL login links point at).
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  `
  ALTER TABLE items ADD COLUMN key_frames TEXT;  -- a clip's key-frame times in seconds, space-separated (embed --video's .keyframes)
  `,
];

/**
 * Bring `db` up to the latest schema. Foreign keys are off while it runs (SQLite's recipe for
 * rebuilding a table: dropping the old `tokens` must not cascade into sessions); the caller turns
 * them on afterwards.
 */
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
