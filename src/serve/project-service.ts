import { randomBytes } from "node:crypto";
import { gatherRows, matrix, type Matrix } from "../linalg/matrix.js";
import { NeuralClassifier } from "../models/network.js";
import { Rng } from "../random.js";
import { badRequest, conflict, notFound } from "./http.js";
import type { Why } from "./queue/plan-batch.js";
import { Retrainer } from "./queue/retrainer.js";
import type { LabelRow, Project, QueueEntry, Store, Token } from "./store/store.js";

/** What an annotator is shown with an item, as `GET …/next` returns it. */
export interface ServedItem {
  item: { id: string };
  lease: string;
  expiresAt: string;
  /** The current model's guess, when there is a model. */
  suggestion: { label: string; confidence: number } | null;
  why: Why & { score: number | null; modelVersion: number | null };
  display: ItemDisplay;
}

export type ItemDisplay =
  | { kind: "image"; url: string }
  | { kind: "text"; text: string }
  | { kind: "features"; dim: number; norm: number; min: number; max: number; mean: number; neighbours: { id: string; label: string; distance: number }[] };

/** The model's accuracy on a run of random-share items, guessed before they were labelled. */
export interface AccuracyPoint {
  /** Labels in the project when the last item of the run was labelled. */
  labels: number;
  /** Items in the run, and how many the model guessed right. */
  n: number;
  correct: number;
  accuracy: number;
  /** Wilson 95% interval. */
  low: number;
  high: number;
  /** The model versions that made the guesses. */
  models: [number, number];
}

export interface ProjectStatus {
  name: string;
  pool: number;
  labeled: number;
  queued: number;
  leased: number;
  modelVersion: number | null;
  retraining: boolean;
  /** How long the last retrain (training and re-scoring the pool) took. */
  lastRetrainMs: number | null;
  accuracyEstimate: AccuracyPoint | null;
  classes: string[];
  classCounts: Record<string, number>;
  strategy: string;
  batch: number;
}

const LABEL_FIELDS = (body: unknown) => body as { item?: unknown; label?: unknown; lease?: unknown };

/**
 * One project's labelling loop in the server thread: leases from the queue, labels into the store,
 * and retraining in its own thread once enough labels have come in; the new batch replaces the
 * queue when it is ready. Everything here runs between awaits, so each call is atomic.
 */
export class ProjectService {
  private readonly retrainer = new Retrainer();
  private pool!: Matrix;
  private model?: { version: number; classifier: NeuralClassifier };
  private retraining?: Promise<void>;
  private readonly rng: Rng;
  private closed = false;
  /** The labelled rows and their labels, kept in step with the store, for neighbours. */
  private labeledRows = new Map<number, string>();

  private constructor(private readonly store: Store, readonly project: Project, private readonly onError: (e: Error) => void) {
    this.rng = new Rng(project.config.seed).child("serve");
  }

  /** Load the project's embeddings (in its retrain thread) and its newest model; plan a batch if none is due yet. */
  static async open(store: Store, project: Project, onError: (e: Error) => void): Promise<ProjectService> {
    const service = new ProjectService(store, project, onError);
    const data = await service.retrainer.load(store.path, project.id, project.size, project.dim);
    service.pool = matrix(project.size, project.dim, data);
    const weights = store.latestWeights(project.id);
    if (weights) service.useModel(weights.version, weights.params);
    const { rows, labels } = store.trainingLabels(project.id);
    rows.forEach((r, i) => service.labeledRows.set(r, labels[i]));
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

  // --- serving

  next(token: Token): ServedItem | { item: null; reason: string } {
    const pid = this.project.id, now = Date.now();
    let entry = this.store.nextQueued(pid, token.id, now);
    if (!entry) {
      // The queue ran dry (a retrain is on its way): any free item rather than nothing.
      this.maybeRetrain(true);
      const [row] = this.store.freeRowsFrom(pid, this.rng.int(this.project.size), 1, now);
      if (row === undefined) {
        const unlabeled = this.project.size - this.store.labelCount(pid);
        return { item: null, reason: unlabeled === 0 ? "nothing to label: every item has a label" : `every one of the ${unlabeled} unlabelled items is being labelled by someone else; try again in a moment` };
      }
      entry = { row, score: null, why: JSON.stringify({ strategy: "any free item while the model retrains" } satisfies Why), random: false, modelVersion: this.model?.version ?? 0 };
    }
    return this.lease(token, entry, now);
  }

  private lease(token: Token, entry: QueueEntry, now: number): ServedItem {
    const suggestion = this.suggest(entry.row);
    const lease = randomBytes(12).toString("base64url"), expiresAt = now + this.project.config.leaseSeconds * 1000;
    this.store.putLease(this.project.id, {
      row: entry.row, lease, tokenId: token.id, expiresAt, modelVersion: suggestion ? this.model!.version : null,
      predicted: suggestion?.label ?? null, confidence: suggestion?.confidence ?? null, random: entry.random,
    });
    const why = JSON.parse(entry.why) as Why;
    return {
      item: { id: this.store.item(this.project.id, entry.row).id }, lease, expiresAt: new Date(expiresAt).toISOString(), suggestion,
      why: { ...why, score: entry.score, modelVersion: this.model?.version ?? null },
      display: this.display(entry.row),
    };
  }

  private suggest(row: number): { label: string; confidence: number } | null {
    if (!this.model) return null;
    const probs = this.model.classifier.predictProbs(gatherRows(this.pool, [row])).data;
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
    return { label: this.project.classes[best], confidence: Number(probs[best].toPrecision(4)) };
  }

  private display(row: number): ItemDisplay {
    const kind = this.project.display.kind;
    const { id, display } = this.store.item(this.project.id, row);
    if (kind === "text") return { kind: "text", text: display ?? "" };
    if (kind !== "features") return { kind: "image", url: `/api/projects/${encodeURIComponent(this.project.name)}/items/${encodeURIComponent(id)}/media` };
    const d = this.pool.cols, x = this.pool.data.subarray(row * d, (row + 1) * d);
    let min = Infinity, max = -Infinity, sum = 0, sq = 0;
    for (let j = 0; j < d; j++) {
      min = Math.min(min, x[j]);
      max = Math.max(max, x[j]);
      sum += x[j];
      sq += x[j] * x[j];
    }
    // The three nearest labelled items (Euclidean), to show what it resembles.
    const nearest: { row: number; distance: number }[] = [];
    for (const r of this.labeledRows.keys()) {
      const y = this.pool.data.subarray(r * d, (r + 1) * d);
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (x[j] - y[j]) ** 2;
      nearest.push({ row: r, distance: Math.sqrt(dist) });
      if (nearest.length > 3) nearest.sort((a, b) => a.distance - b.distance).pop();
    }
    nearest.sort((a, b) => a.distance - b.distance);
    const round = (v: number) => Number(v.toPrecision(4));
    return {
      kind: "features", dim: d, norm: round(Math.sqrt(sq)), min: round(min), max: round(max), mean: round(sum / d),
      neighbours: nearest.map((n) => ({ id: this.store.item(this.project.id, n.row).id, label: this.labeledRows.get(n.row)!, distance: round(n.distance) })),
    };
  }

  /** The pixels of a `pixels` project's row as 0–255 bytes (the demo draws digits from them). */
  pixels(itemId: string): Uint8Array {
    const row = this.rowOf(itemId), d = this.pool.cols, out = new Uint8Array(d);
    for (let j = 0; j < d; j++) out[j] = Math.max(0, Math.min(255, Math.round(this.pool.data[row * d + j] * 255)));
    return out;
  }

  /** The media path or text stored for an item. */
  itemDisplay(itemId: string): string | null {
    return this.store.item(this.project.id, this.rowOf(itemId)).display;
  }

  rowOf(itemId: unknown): number {
    if (typeof itemId !== "string" || itemId === "") throw badRequest('expected "item": the id of an item, as a string');
    const row = this.store.rowOf(this.project.id, itemId);
    if (row === undefined) throw notFound(`no item ${JSON.stringify(itemId)} in project ${JSON.stringify(this.project.name)}`);
    return row;
  }

  // --- labels, skips, leases

  /** Record a label: answered only once it is committed; the same label again by the same annotator is a no-op. */
  label(token: Token, body: unknown): { ok: true; labeled: number; repeated: boolean } {
    const { item, label, lease } = LABEL_FIELDS(body);
    const row = this.rowOf(item);
    if (typeof label !== "string" || !this.project.classes.includes(label)) {
      throw badRequest(`unknown label ${JSON.stringify(label)}; the project's classes are ${this.project.classes.map((c) => JSON.stringify(c)).join(", ")}`);
    }
    const existing = this.store.label(this.project.id, row);
    if (existing) {
      if (existing.annotator === token.name && existing.label === label) return { ok: true, labeled: this.store.labelCount(this.project.id), repeated: true };
      throw conflict(`item ${JSON.stringify(item)} is already labelled ${JSON.stringify(existing.label)} by ${existing.annotator}; undo that label first`);
    }
    const held = this.ownLease(token, row, lease);
    const labelRow: LabelRow = {
      row, label, annotator: token.name, createdAt: Date.now(), source: "annotator",
      modelVersion: held.modelVersion, predicted: held.predicted, confidence: held.confidence, random: held.random,
    };
    this.store.transaction(() => {
      this.store.putLabel(this.project.id, labelRow);
      this.store.releaseLease(this.project.id, row);
    });
    this.labeledRows.set(row, label);
    this.maybeRetrain();
    return { ok: true, labeled: this.store.labelCount(this.project.id), repeated: false };
  }

  /** The lease `lease` on `row`, checked to be this token's and unexpired. */
  private ownLease(token: Token, row: number, lease: unknown) {
    if (typeof lease !== "string" || lease === "") throw badRequest('expected "lease": the lease that came with the item');
    const held = this.store.leaseOf(this.project.id, row);
    if (!held || held.lease !== lease) throw conflict("that lease is not held on this item (it expired and the item went to someone else, or it was released)");
    if (held.tokenId !== token.id) throw conflict("that lease belongs to someone else");
    if (held.expiresAt <= Date.now()) throw conflict("that lease has expired; ask for the next item");
    return held;
  }

  skip(token: Token, body: unknown): { ok: true } {
    const { item, lease } = LABEL_FIELDS(body);
    const row = this.rowOf(item);
    this.ownLease(token, row, lease);
    this.store.transaction(() => {
      this.store.releaseLease(this.project.id, row);
      this.store.addSkip(this.project.id, row, token.id);
    });
    return { ok: true };
  }

  /** Let go of an item without skipping it (the page was closed). Releasing twice is fine. */
  release(token: Token, body: unknown): { ok: true } {
    const { item, lease } = LABEL_FIELDS(body);
    const row = this.rowOf(item);
    const held = this.store.leaseOf(this.project.id, row);
    if (held && held.lease === lease && held.tokenId === token.id) this.store.releaseLease(this.project.id, row);
    return { ok: true };
  }

  heartbeat(token: Token, body: unknown): { expiresAt: string } {
    const { item, lease } = LABEL_FIELDS(body);
    const row = this.rowOf(item);
    this.ownLease(token, row, lease);
    const expiresAt = Date.now() + this.project.config.leaseSeconds * 1000;
    this.store.renewLease(this.project.id, row, lease as string, expiresAt);
    return { expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Take back one's own label (an admin may take back anyone's); the item comes back leased to the caller. */
  undo(token: Token, itemId: string): ServedItem {
    const row = this.rowOf(itemId);
    const existing = this.store.label(this.project.id, row);
    if (!existing) throw notFound(`item ${JSON.stringify(itemId)} has no label to undo`);
    if (existing.annotator !== token.name && token.role !== "admin") throw conflict(`item ${JSON.stringify(itemId)} was labelled by ${existing.annotator}; only they (or an admin) can undo it`);
    const now = Date.now();
    let served!: ServedItem;
    this.store.transaction(() => {
      this.store.deleteLabel(this.project.id, row);
      served = this.lease(token, { row, score: null, why: JSON.stringify({ strategy: "undone" } satisfies Why), random: existing.random, modelVersion: this.model?.version ?? 0 }, now);
    });
    this.labeledRows.delete(row);
    return served;
  }

  /** Labels from elsewhere (import), upserted in one transaction: a bad one and nothing is written. */
  importLabels(token: Token, labels: { id: string; label: string; annotator?: string; where: string }[]): { imported: number } {
    const rows = labels.map((l) => {
      const row = this.store.rowOf(this.project.id, l.id);
      if (row === undefined) throw badRequest(`${l.where}: no item ${JSON.stringify(l.id)} in project ${JSON.stringify(this.project.name)}`);
      if (!this.project.classes.includes(l.label)) throw badRequest(`${l.where}: unknown label ${JSON.stringify(l.label)}; the project's classes are ${this.project.classes.join(", ")}`);
      return row;
    });
    this.store.transaction(() => {
      labels.forEach((l, i) => this.store.putLabel(this.project.id, {
        row: rows[i], label: l.label, annotator: l.annotator ?? token.name, createdAt: Date.now(), source: "import",
        modelVersion: null, predicted: null, confidence: null, random: false,
      }));
    });
    labels.forEach((l, i) => this.labeledRows.set(rows[i], l.label));
    this.maybeRetrain();
    return { imported: labels.length };
  }

  // --- retraining

  /**
   * Start a retrain when none is running and one is due: no batch planned yet, enough labels
   * since the last plan, or (`dry`) the queue ran out.
   */
  maybeRetrain(dry = false): void {
    if (this.retraining || this.closed) return;
    const pid = this.project.id;
    const latest = this.store.latestModel(pid);
    const labeled = this.store.labelCount(pid);
    const due = !latest || labeled - latest.labels >= this.project.config.retrainEvery || (dry && labeled > latest.labels && labeled < this.project.size);
    if (!due || (latest && labeled === this.project.size)) return;
    const version = (latest?.version ?? 0) + 1;
    const { rows, labels } = this.store.trainingLabels(pid);
    const classes = this.project.classes;
    const y = Int32Array.from(labels, (l) => classes.indexOf(l));
    this.retraining = this.retrainer.plan({ version, rows, y, classes, config: this.project.config })
      .then((planned) => {
        if (this.closed) return;
        this.store.transaction(() => {
          this.store.replaceQueue(pid, planned.entries);
          this.store.addModel(pid, { version, createdAt: Date.now(), labels: planned.labels, trainAccuracy: planned.trainAccuracy ?? null, kind: planned.kind, ms: Math.round(planned.ms), params: planned.params ?? null });
        });
        if (planned.params) this.useModel(version, planned.params);
      })
      .catch((e: Error) => this.onError(e))
      .finally(() => {
        this.retraining = undefined;
        // Labels that came in meanwhile may already call for the next one.
        if (!this.closed) this.maybeRetrain();
      });
  }

  private useModel(version: number, params: Float32Array): void {
    const { dim, classes, config } = this.project;
    const classifier = new NeuralClassifier(dim, classes.length, { hidden: config.model === "linear" ? [] : [256], seed: config.seed });
    classifier.setWeights(params);
    this.model = { version, classifier };
  }

  // --- reporting

  status(): ProjectStatus {
    const pid = this.project.id;
    const curve = this.accuracyCurve();
    return {
      name: this.project.name, pool: this.project.size, labeled: this.store.labelCount(pid), queued: this.store.queueLength(pid),
      leased: this.store.leasedCount(pid, Date.now()), modelVersion: this.model?.version ?? null, retraining: this.retraining !== undefined,
      lastRetrainMs: this.store.latestModel(pid)?.ms ?? null,
      accuracyEstimate: curve.length ? curve[curve.length - 1] : null,
      classes: this.project.classes, classCounts: this.store.classCounts(pid), strategy: this.project.config.strategy, batch: this.project.config.batch,
    };
  }

  /**
   * The live accuracy estimate: the random-share items (drawn uniformly from the unlabelled pool,
   * the model's guess recorded when each was served) in consecutive runs of at least
   * ESTIMATE_RUN, each run one point with its Wilson interval. Retrains are frequent, so a run
   * spans a few models: each point estimates the accuracy of the models live at the time.
   */
  accuracyCurve(): AccuracyPoint[] {
    const labels = this.store.randomShareLabels(this.project.id);
    const run = Math.max(ESTIMATE_RUN, Math.ceil(labels.length / 12));
    const points: AccuracyPoint[] = [];
    for (let start = 0; start < labels.length; start += run) {
      // The last run takes what is left, unless that is too few to say anything.
      const part = labels.length - start < 2 * run ? labels.slice(start) : labels.slice(start, start + run);
      const correct = part.filter((l) => l.label === l.predicted).length;
      points.push({
        labels: part[part.length - 1].seq, n: part.length, correct, accuracy: correct / part.length, ...wilson(correct, part.length),
        models: [part[0].modelVersion, part[part.length - 1].modelVersion],
      });
      start += part.length - run;
    }
    return points;
  }
}

/** Random-share items per point of the accuracy curve, at least. */
const ESTIMATE_RUN = 20;

/** Wilson score interval at 95% for k successes in n trials. */
export function wilson(k: number, n: number): { low: number; high: number } {
  const z = 1.959964, p = k / n, z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n), half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
