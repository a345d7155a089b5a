// Below eval/ (which summarises results) and loop/ (which writes them).

/** One line of results.jsonl: a (strategy, seed, round) of a simulation. */
export interface RoundResult {
  strategy: string;
  seed: number;
  round: number;
  /** Labelled items the model was trained on in this round. */
  labeled: number;
  /** Accuracy on the test set after training. */
  accuracy: number;
  /** Recall averaged over the test set's classes, and the unweighted mean of per-class F1 (what --imbalance is judged by). */
  balancedAccuracy?: number;
  macroF1?: number;
  trainMs: number;
  /** Time of the query whose batch was added for this round (0 at round 0). */
  queryMs: number;
  /** The query's own figures, e.g. ALFA-Mix's candidates and cap. */
  stats?: Record<string, number>;
  /** The stopping criteria that say stop after this round's training (eval/stopping.ts), checked on a fixed sample of the pool. */
  stop?: string[];
  /**
   * The estimate-gain criterion's evidence: after this round's training, the model's guesses on a
   * random 10% of a batch of still-unlabelled items, as serve's random share. These audit labels
   * are extra: they are not trained on, so the strategies' curves do not change.
   */
  audit?: { n: number; correct: number };
}
