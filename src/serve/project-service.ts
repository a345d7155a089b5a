import { randomBytes } from "node:crypto";
import { setImmediate as yieldToEvents } from "node:timers/promises";
import { accuracyCurve, type AccuracyPoint } from "../eval/accuracy-estimate.js";
import { StoppingWatch, type StopSignal } from "./stopping-watch.js";
import { agreementReport, type AgreementReport } from "../eval/agreement.js";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { NeuralClassifier } from "../models/network.js";
import { Rng } from "../random.js";
import { itemDisplay, type ItemDisplay, type ReadMedia } from "./display.js";
import { GuessExplainer } from "./guess-terms.js";
import { badRequest, conflict, notFound } from "./http.js";
import type { Why } from "./queue/plan-batch.js";
import { Retrainer } from "./queue/retrainer.js";
import type { Check } from "./store/reviews.js";
import type { LabelRow, Lease, Project, QueueEntry, Store, StoredItem, Token } from "./store/store.js";

/** What an annotator is shown with an item, as `GET …/next` returns it. */
export interface ServedItem {
  item: { id: string };
  lease: string;
  expiresAt: string;
  /** "check": a second, blind label of an item someone else labelled (no guess is shown). */
  kind: "label" | "check";
  /** The current model's guess, when there is a model. */
  suggestion: { label: string; confidence: number } | null;
  why: Why & { score: number | null; modelVersion: number | null };
  display: ItemDisplay;
}

export interface ProjectStatus {
  name: string;
  pool: number;
  labeled: number;
  queued: number;
  leased: number;
  modelVersion: number | null;
  retraining: boolean;
  /** Until every class has a label, items come from TypiClust and no model is trained. */
  coldStart: boolean;
  /** What the queue is doing, in words, for the page's header. */
  phase: string;
  /** How long the last retrain (training and re-scoring the pool) took. */
  lastRetrainMs: number | null;
  accuracyEstimate: AccuracyPoint | null;
  /** The stopping criteria: small-text's on every model, ours on the accuracy estimate; whether each says stop, and why. */
  stopping: StopSignal[];
  classes: string[];
  classCounts: Record<string, number>;
  strategy: string;
  batch: number;
  overlap: number;
  /** Labels by the caller in this project. */
  mine: number;
  /** Items waiting for a second label, and disagreements waiting for review. */
  pendingChecks: number;
  openReviews: number;
}

export interface LabelInput {
  item: string;
  label: string;
  lease: string;
}
export interface LeaseInput {
  item: string;
  lease: string;
}
export interface ImportedLabel {
  id: string;
  label: string;
  annotator?: string;
  where: string;
}

/** Rows checked and staged between yields to the event loop while an import comes in. */
const IMPORT_CHUNK = 2000;
/** Imports under way get their own staging id. */
let imports = 0;

/**
 * One project's labelling loop in the server thread: leases from the queue, labels into the store,
 * second looks and their review, and retraining in its own thread once enough labels have come
 * in; the new batch replaces the queue when it is ready. Every method runs between awaits, so
 * each call is atomic (the import yields only while it validates, before it writes).
 */
export class ProjectService {
  private readonly retrainer = new Retrainer();
  private pool!: Matrix;
  private model?: { version: number; classifier: NeuralClassifier };
  /** Text projects on TF-IDF with a linear head: the n-grams behind each guess. */
  private readonly explainer?: GuessExplainer;
  private retraining?: Promise<void>;
  private readonly rng: Rng;
  private closed = false;
  /**
   * The labelled rows and their labels, and the count per class, kept in step with the store (the
   * only writer is this service): status and the neighbours read them instead of scanning labels.
   */
  private readonly labeledRows = new Map<number, string>();
  private readonly classCounts = new Map<string, number>();
  /** The live accuracy estimate, until a random-share label changes. */
  private curve?: AccuracyPoint[];
  private stopping!: StoppingWatch;

  private constructor(
    private readonly store: Store,
    readonly project: Project,
    private readonly onError: (e: Error) => void,
    private readonly readMedia: ReadMedia,
  ) {
    this.rng = new Rng(project.config.seed).child("serve");
    const { display, config, classes } = project;
    if (display.kind === "text" && display.termPushes && config.model === "linear") this.explainer = new GuessExplainer(display.termPushes, classes);
  }

  /**
   * Load the project's embeddings (in its retrain thread) and its newest model; plan a batch if
   * none is due yet. `readMedia` reads an item's text file (never the server's database).
   */
  static async open(store: Store, project: Project, onError: (e: Error) => void, readMedia: ReadMedia): Promise<ProjectService> {
    const service = new ProjectService(store, project, onError, readMedia);
    const { data, rows, labels } = await service.retrainer.load(store.path, project.id, project.size, project.dim);
    service.pool = matrix(project.size, project.dim, data);
    service.stopping = new StoppingWatch(service.pool, project.classes.length, project.config.seed);
    // The criteria's history is every model's predictions: replayed from the stored weights, in order.
    for (const stored of store.allWeights(project.id)) service.useModel(stored.version, stored.params, stored.labels);
    rows.forEach((r, i) => service.remember(r, labels[i]));
    service.maybeRetrain();
    return service;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.retraining?.catch(() => undefined);
    await this.retrainer.close();
  }

  /** Settles when the retrain under way (if any) has replaced the queue. */
  async idle(): Promise<void> {
    while (this.retraining) await this.retraining;
  }

  private get id(): number {
    return this.project.id;
  }

  // --- serving

  /**
   * The caller's next item: a second look they owe (overlap), else the most wanted queued item,
   * else any free item while a retrain is on its way. Someone holding `maxLeases` items already
   * gets the one they were served first again, so that nobody can hoard the queue.
   */
  async next(token: Token, maxLeases: number): Promise<ServedItem | { item: null; reason: string }> {
    const pid = this.id,
      now = Date.now();
    const held = this.store.leasesHeldBy(pid, token.id, now);
    if (held.length >= maxLeases) return this.served(held[0]);
    const checkRow = this.project.config.overlap ? this.store.reviews.nextCheck(pid, token.id, now) : undefined;
    if (checkRow !== undefined) {
      const why = JSON.stringify({ strategy: "second look", check: true } satisfies Why);
      return this.served(this.grant(token, { row: checkRow, score: null, why, random: false }, now, "check"));
    }
    let entry = this.store.nextQueued(pid, token.id, now);
    if (!entry) {
      // The queue ran dry (a retrain is on its way): any free item rather than nothing.
      this.maybeRetrain(true);
      const [row] = this.store.freeRowsFrom(pid, this.rng.int(this.project.size), 1, now);
      if (row === undefined) {
        const unlabeled = this.project.size - this.labeledRows.size;
        return {
          item: null,
          reason:
            unlabeled === 0
              ? "nothing to label: every item has a label"
              : `every one of the ${unlabeled} unlabelled items is being labelled by someone else; try again in a moment`,
        };
      }
      const waitingFor = this.store.latestModel(pid) ? "the model retrains" : "the first batch is planned";
      entry = { row, score: null, why: JSON.stringify({ strategy: `any free item while ${waitingFor}` } satisfies Why), random: false, modelVersion: 0 };
    }
    return this.served(this.grant(token, entry, now, "label"));
  }

  /** Lease `entry.row` to the caller, with the current model's guess (none on a second look). */
  private grant(token: Token, entry: Pick<QueueEntry, "row" | "why" | "score" | "random">, now: number, kind: Lease["kind"]): Lease {
    const suggestion = kind === "check" ? null : this.suggest(entry.row);
    const lease: Lease = {
      row: entry.row,
      lease: randomBytes(12).toString("base64url"),
      tokenId: token.id,
      expiresAt: now + this.project.config.leaseSeconds * 1000,
      kind,
      why: entry.why,
      score: entry.score,
      servedAt: now,
      modelVersion: suggestion ? this.model!.version : null,
      predicted: suggestion?.label ?? null,
      confidence: suggestion?.confidence ?? null,
      random: entry.random,
    };
    this.store.putLease(this.id, lease);
    return lease;
  }

  /** A held lease as the page gets it (the same item, lease and guess each time it is asked for). */
  private async served(lease: Lease): Promise<ServedItem> {
    const why = JSON.parse(lease.why ?? "{}") as Why,
      item = this.store.item(this.id, lease.row);
    return {
      item: { id: item.id },
      lease: lease.lease,
      expiresAt: new Date(lease.expiresAt).toISOString(),
      kind: lease.kind,
      suggestion: lease.predicted === null ? null : { label: lease.predicted, confidence: lease.confidence! },
      why: { ...why, score: lease.score, modelVersion: lease.modelVersion ?? this.model?.version ?? null },
      display: await this.display(lease.row, item, lease.predicted !== null),
    };
  }

  private async display(row: number, item: StoredItem, withGuess = false): Promise<ItemDisplay> {
    const shown = await itemDisplay(this.project, item, this.pool, this.labeledRows, row, (r) => this.store.item(this.id, r).id, this.readMedia);
    if (withGuess && shown.kind === "text" && this.explainer && this.model) {
      shown.guessTerms = await this.explainer.explain(shown.text, gatherRows(this.pool, [row]), this.model.classifier);
    }
    return shown;
  }

  private suggest(row: number): { label: string; confidence: number } | null {
    if (!this.model) return null;
    const probs = this.model.classifier.predictProbs(gatherRows(this.pool, [row])).data;
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
    return { label: this.project.classes[best], confidence: Number(probs[best].toPrecision(4)) };
  }

  /** The pixels of a `pixels` project's row as 0–255 bytes (the demo draws digits from them). */
  pixels(itemId: string): Uint8Array {
    const row = this.rowOf(itemId),
      d = this.pool.cols,
      out = new Uint8Array(d);
    for (let j = 0; j < d; j++) out[j] = Math.max(0, Math.min(255, Math.round(this.pool.data[row * d + j] * 255)));
    return out;
  }

  /** The media path or text stored for an item. */
  itemDisplay(itemId: string): string | null {
    return this.store.item(this.id, this.rowOf(itemId)).display;
  }

  rowOf(itemId: string): number {
    const row = this.store.rowOf(this.id, itemId);
    if (row === undefined) throw notFound(`no item ${JSON.stringify(itemId)} in project ${JSON.stringify(this.project.name)}`);
    return row;
  }

  // --- labels, skips, leases

  /**
   * Record a label (or a second look's label): answered only once it is committed. The same label
   * again by the same token is a no-op. Authorship is the token's id, never a name.
   */
  label(token: Token, input: LabelInput): { ok: true; labeled: number; repeated: boolean } {
    const pid = this.id,
      row = this.rowOf(input.item);
    this.checkClass(input.label);
    const done = (repeated: boolean) => ({ ok: true as const, labeled: this.labeledRows.size, repeated });
    const check = this.store.reviews.check(pid, row);
    if (check && check.tokenId === token.id) {
      if (check.label === input.label) return done(true);
      throw conflict(`you gave item ${JSON.stringify(input.item)} a second label of ${JSON.stringify(check.label)}; undo it first`);
    }
    const held = this.store.leaseOf(pid, row);
    if (held?.kind === "check" && held.lease === input.lease) return this.recordCheck(token, row, input, check, done);
    const existing = this.store.label(pid, row);
    if (existing) {
      if (existing.tokenId === token.id && existing.label === input.label) return done(true);
      // Someone else's label is not shown: it may be the one a second look must not see.
      if (existing.tokenId !== token.id && token.role !== "admin") throw conflict(`item ${JSON.stringify(input.item)} is already labelled by someone else`);
      throw conflict(
        `item ${JSON.stringify(input.item)} is already labelled ${JSON.stringify(existing.label)} by ${existing.annotator}; undo that label first`,
      );
    }
    const lease = this.ownLease(token, row, input.lease);
    const now = Date.now();
    const labelRow: LabelRow = {
      row,
      label: input.label,
      annotator: token.name,
      tokenId: token.id,
      createdAt: now,
      source: "annotator",
      modelVersion: lease.modelVersion,
      predicted: lease.predicted,
      confidence: lease.confidence,
      random: lease.random,
    };
    this.store.transaction(() => {
      this.store.putLabel(pid, labelRow);
      this.store.releaseLease(pid, row);
      if (this.wantsSecondLook(row)) this.store.reviews.addCheck(pid, row, { tokenId: token.id, annotator: token.name, label: input.label });
      this.store.audit.append(token, "label", { project: this.project.name, item: input.item }, { label: input.label, guess: lease.predicted });
    });
    this.remember(row, input.label);
    if (lease.random) this.curve = undefined;
    this.maybeRetrain();
    return done(false);
  }

  /** Whether a first label of `row` also goes to a second annotator: a fixed draw per item (same seed, same items). */
  private wantsSecondLook(row: number): boolean {
    const overlap = this.project.config.overlap ?? 0;
    return overlap > 0 && new Rng(this.project.config.seed).child(`overlap/${row}`).uniform() < overlap;
  }

  private recordCheck(
    token: Token,
    row: number,
    input: LabelInput,
    check: Check | undefined,
    done: (repeated: boolean) => { ok: true; labeled: number; repeated: boolean },
  ) {
    this.ownLease(token, row, input.lease);
    const pid = this.id;
    if (!check) throw conflict(`item ${JSON.stringify(input.item)} no longer needs a second label (its first label was undone)`);
    const now = Date.now(),
      agrees = check.firstLabel === input.label;
    this.store.transaction(() => {
      this.store.reviews.recordCheck(pid, row, { tokenId: token.id, annotator: token.name, label: input.label }, now);
      this.store.releaseLease(pid, row);
      if (!agrees) this.store.reviews.openReview(pid, row, now);
      this.store.audit.append(token, "check", { project: this.project.name, item: input.item }, { label: input.label, agrees });
    });
    return done(false);
  }

  /** 400 unless `label` is one of the project's classes; `where` names the place in an imported file. */
  private checkClass(label: string, where?: string): void {
    if (!this.project.classes.includes(label))
      throw badRequest(
        `${where ? `${where}: ` : ""}unknown label ${JSON.stringify(label)}; the project's classes are ${this.project.classes.map((c) => JSON.stringify(c)).join(", ")}`,
      );
  }

  /** The lease `lease` on `row`, checked to be this token's and unexpired. */
  private ownLease(token: Token, row: number, lease: string): Lease {
    const held = this.store.leaseOf(this.id, row);
    if (!held || held.lease !== lease) throw conflict("that lease is not held on this item (it expired and the item went to someone else, or it was released)");
    if (held.tokenId !== token.id) throw conflict("that lease belongs to someone else");
    if (held.expiresAt <= Date.now()) throw conflict("that lease has expired; ask for the next item");
    return held;
  }

  skip(token: Token, input: LeaseInput): { ok: true } {
    const row = this.rowOf(input.item);
    this.ownLease(token, row, input.lease);
    this.store.transaction(() => {
      this.store.releaseLease(this.id, row);
      this.store.addSkip(this.id, row, token.id);
    });
    return { ok: true };
  }

  /** Let go of an item without skipping it (the page was closed). Releasing twice is fine. */
  release(token: Token, input: LeaseInput): { ok: true } {
    const row = this.rowOf(input.item);
    const held = this.store.leaseOf(this.id, row);
    if (held && held.lease === input.lease && held.tokenId === token.id) this.store.releaseLease(this.id, row);
    return { ok: true };
  }

  /**
   * Keep a lease alive. When a newer model exists than the one whose guess came with the item,
   * the guess is brought up to date (and recorded: the item is still unlabelled, so the accuracy
   * estimate stays unbiased).
   */
  heartbeat(token: Token, input: LeaseInput): { expiresAt: string; suggestion: { label: string; confidence: number } | null; modelVersion: number | null } {
    const row = this.rowOf(input.item);
    const held = this.ownLease(token, row, input.lease);
    const expiresAt = Date.now() + this.project.config.leaseSeconds * 1000;
    this.store.renewLease(this.id, row, input.lease, expiresAt);
    let suggestion = held.predicted === null ? null : { label: held.predicted, confidence: held.confidence! };
    let modelVersion = held.modelVersion;
    if (held.kind === "label" && this.model && this.model.version !== held.modelVersion) {
      suggestion = this.suggest(row)!;
      modelVersion = this.model.version;
      this.store.updateLeaseGuess(this.id, row, { modelVersion, predicted: suggestion.label, confidence: suggestion.confidence });
    }
    return { expiresAt: new Date(expiresAt).toISOString(), suggestion, modelVersion };
  }

  /**
   * Take back a label: one's own (an admin may take back anyone's), or one's own second label of
   * an item. The item comes back leased to the caller (within `maxLeases`).
   */
  async undo(token: Token, itemId: string, maxLeases: number): Promise<ServedItem> {
    const pid = this.id,
      row = this.rowOf(itemId),
      now = Date.now();
    // The item comes back leased: past the limit, the lease served longest ago goes back to the queue.
    const held = this.store.leasesHeldBy(pid, token.id, now);
    const release = () => {
      for (const old of held.slice(0, Math.max(0, held.length - maxLeases + 1))) this.store.releaseLease(pid, old.row);
    };
    const where = { project: this.project.name, item: itemId };
    const check = this.store.reviews.check(pid, row);
    if (check && check.tokenId === token.id) {
      let lease!: Lease;
      this.store.transaction(() => {
        release();
        this.store.reviews.clearCheck(pid, row);
        this.store.reviews.deleteReview(pid, row);
        this.store.audit.append(token, "undo", where, { secondLabel: check.label });
        lease = this.grant(
          token,
          { row, why: JSON.stringify({ strategy: "second look", check: true } satisfies Why), score: null, random: false },
          now,
          "check",
        );
      });
      return this.served(lease);
    }
    const existing = this.store.label(pid, row);
    if (!existing) throw notFound(`item ${JSON.stringify(itemId)} has no label to undo`);
    if (existing.tokenId !== token.id && token.role !== "admin")
      throw conflict(`item ${JSON.stringify(itemId)} was labelled by ${existing.annotator}; only they (or an admin) can undo it`);
    let lease!: Lease;
    this.store.transaction(() => {
      release();
      this.store.deleteLabel(pid, row);
      this.store.reviews.forget(pid, row);
      this.store.audit.append(token, "undo", where, { label: existing.label, by: existing.annotator });
      lease = this.grant(token, { row, why: JSON.stringify({ strategy: "undone" } satisfies Why), score: null, random: existing.random }, now, "label");
    });
    this.forget(row);
    if (existing.random) this.curve = undefined;
    return this.served(lease);
  }

  /**
   * Labels from a file (an admin's import), committed at once: a bad one and nothing is written.
   * The file may name annotators; its labels belong to no token. Rows are checked and staged in
   * chunks that yield to the event loop, so the server keeps answering; only the final commit is
   * one statement (about 0.1 s for a 1 MB file).
   */
  async importLabels(token: Token, labels: ImportedLabel[], format: string): Promise<{ imported: number }> {
    const pid = this.id,
      importId = ++imports,
      rows = new Int32Array(labels.length);
    try {
      for (let start = 0; start < labels.length; start += IMPORT_CHUNK) {
        if (start > 0) await yieldToEvents();
        if (this.closed) throw new Error("the project closed during an import");
        const chunk = labels.slice(start, start + IMPORT_CHUNK);
        const found = this.store.rowsOf(
          pid,
          chunk.map((l) => l.id),
        );
        const staged = chunk.map((l, i) => {
          const row = found.get(l.id);
          if (row === undefined) throw badRequest(`${l.where}: no item ${JSON.stringify(l.id)} in project ${JSON.stringify(this.project.name)}`);
          this.checkClass(l.label, l.where);
          rows[start + i] = row;
          return { row, label: l.label, annotator: l.annotator ?? token.name };
        });
        this.store.stageImport(importId, start, staged);
      }
      this.store.transaction(() => {
        this.store.commitImport(pid, importId, Date.now());
        this.store.audit.append(token, "import", { project: this.project.name }, { labels: labels.length, format });
      });
    } finally {
      this.store.dropImport(importId);
    }
    labels.forEach((l, i) => this.remember(rows[i], l.label));
    this.curve = undefined;
    this.maybeRetrain();
    return { imported: labels.length };
  }

  // --- review

  /** Disagreements with both labels (open ones first), for the review page. */
  async reviews(open: boolean): Promise<
    {
      item: string;
      first: { annotator: string; label: string };
      second: { annotator: string; label: string };
      resolved: { label: string; by: string; at: string } | null;
      display: ItemDisplay;
    }[]
  > {
    const out = [];
    for (const r of this.store.reviews.reviews(this.id, { open, limit: 200 })) {
      const item = this.store.item(this.id, r.row);
      out.push({
        item: item.id,
        first: { annotator: r.firstAnnotator, label: r.firstLabel },
        second: { annotator: r.annotator!, label: r.label! },
        resolved: r.resolvedAt === null ? null : { label: r.resolvedLabel!, by: r.resolvedBy!, at: new Date(r.resolvedAt).toISOString() },
        display: await this.display(r.row, item),
      });
    }
    return out;
  }

  /** Settle a disagreement: `label` becomes the item's label (the one exported); both earlier labels stay in the history. */
  resolve(token: Token, input: { item: string; label: string }): { ok: true; openReviews: number } {
    const pid = this.id,
      row = this.rowOf(input.item);
    this.checkClass(input.label);
    const review = this.store.reviews.review(pid, row),
      check = this.store.reviews.check(pid, row);
    if (!review || !check) throw notFound(`item ${JSON.stringify(input.item)} has no disagreement to review`);
    const now = Date.now();
    this.store.transaction(() => {
      this.store.replaceLabel(pid, row, input.label, { name: token.name, tokenId: token.id }, now);
      this.store.reviews.resolve(pid, row, input.label, token.name, now);
      this.store.audit.append(
        token,
        "review",
        { project: this.project.name, item: input.item },
        { label: input.label, first: check.firstLabel, second: check.label, previous: review.resolvedLabel },
      );
    });
    this.remember(row, input.label);
    this.curve = undefined;
    return { ok: true, openReviews: this.store.reviews.openReviewCount(pid) };
  }

  agreement(): AgreementReport {
    const pairs = this.store.reviews
      .completedChecks(this.id)
      .map((c) => ({ first: { annotator: c.firstAnnotator, label: c.firstLabel }, second: { annotator: c.annotator!, label: c.label! } }));
    return agreementReport(pairs, this.project.classes);
  }

  // --- retraining

  /**
   * Start a retrain when none is running and one is due: no batch planned yet, every class just
   * got its first label, enough labels since the last plan, or (`dry`) the queue ran out.
   */
  maybeRetrain(dry = false): void {
    if (this.retraining || this.closed) return;
    const pid = this.id;
    const latest = this.store.latestModel(pid);
    const labeled = this.labeledRows.size;
    // The label that completes the classes ends the cold start at once: the first model is due.
    const coldStartOver = latest?.kind === "cold-start" && labeled > latest.labels && this.hasEveryClass();
    const due =
      !latest ||
      coldStartOver ||
      labeled - latest.labels >= this.project.config.retrainEvery ||
      (dry && labeled > latest.labels && labeled < this.project.size);
    if (!due || (latest && labeled === this.project.size)) return;
    const version = (latest?.version ?? 0) + 1;
    // The thread reads the labels itself: for a large project that read alone would stall the server.
    this.retraining = this.retrainer
      .plan({ dbPath: this.store.path, projectId: pid, version, classes: this.project.classes, config: this.project.config })
      .then((planned) => {
        if (this.closed) return;
        this.store.transaction(() => {
          this.store.replaceQueue(pid, planned.entries);
          this.store.addModel(pid, {
            version,
            createdAt: Date.now(),
            labels: planned.labels,
            trainAccuracy: planned.trainAccuracy ?? null,
            kind: planned.kind,
            ms: Math.round(planned.ms),
            params: planned.params ?? null,
          });
        });
        if (planned.params) this.useModel(version, planned.params, planned.labels);
      })
      .catch((e: Error) => this.onError(e))
      .finally(() => {
        this.retraining = undefined;
        // Labels that came in meanwhile may already call for the next one.
        if (!this.closed) this.maybeRetrain();
      });
  }

  private hasEveryClass(): boolean {
    return this.project.classes.every((c) => this.classCounts.get(c));
  }

  private remember(row: number, label: string): void {
    this.forget(row);
    this.labeledRows.set(row, label);
    this.classCounts.set(label, (this.classCounts.get(label) ?? 0) + 1);
  }

  private forget(row: number): void {
    const old = this.labeledRows.get(row);
    if (old === undefined) return;
    this.labeledRows.delete(row);
    this.classCounts.set(old, this.classCounts.get(old)! - 1);
  }

  /** Serve a new model's guesses, and let the stopping criteria see it. */
  private useModel(version: number, params: Float32Array, labels: number): void {
    const { dim, classes, config } = this.project;
    const classifier = new NeuralClassifier(dim, classes.length, { hidden: config.model === "linear" ? [] : [256], seed: config.seed });
    classifier.setWeights(params);
    this.model = { version, classifier };
    this.stopping.observe(version, labels, classifier);
  }

  // --- reporting

  status(token: Token): ProjectStatus {
    const pid = this.id;
    const curve = this.accuracyCurve();
    const classCounts = Object.fromEntries(this.project.classes.map((c) => [c, this.classCounts.get(c) ?? 0]).filter(([, n]) => n));
    const coldStart = !this.hasEveryClass();
    const retraining = this.retraining !== undefined;
    const missing = this.project.classes.filter((c) => !classCounts[c]);
    const phase = coldStart
      ? `cold start until every class has a label (TypiClust: typical items of the least-labelled clusters); no label yet for ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`
      : retraining
        ? this.model
          ? "retraining on the new labels; the current batch is served meanwhile"
          : "training the first model; any free item is served meanwhile"
        : `${this.project.config.strategy} picks each batch of ${this.project.config.batch}`;
    return {
      name: this.project.name,
      pool: this.project.size,
      labeled: this.labeledRows.size,
      queued: this.store.queueLength(pid),
      leased: this.store.leasedCount(pid, Date.now()),
      modelVersion: this.model?.version ?? null,
      retraining,
      coldStart,
      phase,
      lastRetrainMs: this.store.latestModel(pid)?.ms ?? null,
      accuracyEstimate: curve.length ? curve[curve.length - 1] : null,
      stopping: this.stopping.signals(curve),
      classes: this.project.classes,
      classCounts,
      strategy: this.project.config.strategy,
      batch: this.project.config.batch,
      overlap: this.project.config.overlap ?? 0,
      mine: this.store.labelCountBy(pid, token.id),
      pendingChecks: this.store.reviews.pendingChecks(pid),
      openReviews: this.store.reviews.openReviewCount(pid),
    };
  }

  accuracyCurve(): AccuracyPoint[] {
    this.curve ??= accuracyCurve(this.store.randomShareLabels(this.id));
    return this.curve;
  }
}
