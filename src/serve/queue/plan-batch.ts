import { gatherRows, type Matrix } from "../../linalg/matrix.js";
import { selectRows } from "../../loop/select-batch.js";
import { Rng } from "../../random.js";
import { createStrategy } from "../../strategies/registry.js";
import { typicalBatch } from "../../strategies/typiclust.js";
import { projectStrategy, type ProjectConfig, type QueueEntry } from "../store/store.js";
import { unlabeledRows, type Explanation } from "../../strategies/types.js";

/** Why an item is in the queue, as the labelling page shows it. */
export interface Why {
  strategy: string;
  scoreName?: string;
  /** ALFA-Mix: the classes whose anchors flip the prediction. */
  flips?: string[];
  /** Drawn at random for the unbiased accuracy estimate. */
  random?: boolean;
  /** Picked by TypiClust, with no model, until every class has a label. */
  coldStart?: boolean;
  /** A second, blind label of an item someone labelled already (overlap, for agreement). */
  check?: boolean;
}

export interface PlannedBatch {
  entries: QueueEntry[];
  kind: "model" | "cold-start";
  /** The trained model's parameters (absent for a cold-start cover). */
  params?: Float32Array;
  trainAccuracy?: number;
  ms: number;
}

/** An explanation as the page shows it: class names, not ids. */
function explained(explanation: Explanation | undefined, classes: string[]): Pick<Why, "flips"> {
  return explanation?.flips ? { flips: explanation.flips.map((k) => classes[k]) } : {};
}

/** Unlabelled rows the cold start looks at, at most (a uniform sample of them beyond that). */
const COVER_SAMPLE = 20000;

/**
 * The next batch for a project: one round of `simulate` with a person as the oracle. Until every
 * class has a label, TypiClust (the cold start: typical items of the emptiest clusters, no model). After that, the head is trained on the labels and the strategy picks the batch; a
 * share of it (`randomShare`) is drawn uniformly from the rest and marked, so that the model's
 * accuracy on those items is an unbiased estimate. Seeded by the project's seed and `version`.
 */
export function planBatch(x: Matrix, labeledRows: Int32Array, y: Int32Array, classes: string[], config: ProjectConfig, version: number): PlannedBatch {
  const started = performance.now();
  const rng = new Rng(config.seed).child(`batch/${version}`);
  const isLabeled = new Uint8Array(x.rows);
  for (const r of labeledRows) isLabeled[r] = 1;
  const unlabeled = unlabeledRows(isLabeled);
  const budget = Math.min(config.batch, unlabeled.length);
  if (budget === 0) return { entries: [], kind: "model", ms: performance.now() - started };

  if (new Set(y).size < classes.length) {
    // TypiClust over the labelled rows and a sample of the rest: the most typical item of the emptiest clusters.
    const sample = Int32Array.from([...labeledRows, ...(unlabeled.length > COVER_SAMPLE ? rng.choice(unlabeled, COVER_SAMPLE) : unlabeled)]);
    const positions = Int32Array.from({ length: sample.length }, (_, i) => i);
    const picks = typicalBatch(
      gatherRows(x, sample),
      positions.subarray(0, labeledRows.length),
      positions.subarray(labeledRows.length),
      budget,
      rng.child("cold-start"),
    );
    const why = JSON.stringify({ strategy: "typiclust", scoreName: "typicality", coldStart: true } satisfies Why);
    return {
      entries: Array.from(picks.indices, (m, i) => ({
        row: sample[m],
        score: Number.isNaN(picks.scores[i]) ? null : Number(picks.scores[i].toPrecision(7)),
        why,
        random: false,
        modelVersion: version,
      })),
      kind: "cold-start",
      ms: performance.now() - started,
    };
  }

  const randomCount = Math.min(Math.round(budget * config.randomShare), budget);
  const strategy = createStrategy(projectStrategy(config));
  const selection = selectRows({
    x,
    labeledRows,
    y,
    numClasses: classes.length,
    strategy,
    budget: budget - randomCount,
    model: config.model,
    seed: config.seed,
    explain: true,
  });
  const picked = new Set(selection.rows);
  const rest = unlabeled.filter((r) => !picked.has(r));
  const randomRows = rng.child("random").choice(rest, Math.min(randomCount, rest.length));

  const entries: QueueEntry[] = Array.from(selection.rows, (row, i) => {
    const score = selection.scores?.[i];
    const why: Why = { strategy: strategy.name, scoreName: strategy.scoreName, ...explained(selection.explanations?.[i], classes) };
    // Scores are float32: seven significant digits are all they hold.
    return {
      row,
      score: score === undefined || Number.isNaN(score) ? null : Number(score.toPrecision(7)),
      why: JSON.stringify(why),
      random: false,
      modelVersion: version,
    };
  });
  // The random items go to random places, so that they are labelled at the same pace as the rest.
  const randomWhy = JSON.stringify({ strategy: "random share", random: true } satisfies Why);
  for (const row of randomRows) entries.splice(rng.int(entries.length + 1), 0, { row, score: null, why: randomWhy, random: true, modelVersion: version });
  return { entries, kind: "model", params: selection.model.weights(), trainAccuracy: selection.training.trainAccuracy, ms: performance.now() - started };
}
