import { DEFAULT_CONFIG, loadSimulationSource, startSeed, type SimulationConfig } from "../src/loop/simulation.js";
import { Rng } from "../src/random.js";
import { createStrategy, resolveStrategy, type StrategyParams } from "../src/strategies/registry.js";
import { emit } from "./timing.js";

/** The paper's eleven strategies on MNIST: what `bench strategies` times by default. */
export const PAPER_STRATEGIES = ["random", "entropy", "margin", "least-confidence", "bald", "coreset", "badge", "dfal", "cdal", "coregcn", "alfamix"];

/**
 * Every strategy's query on the MNIST paper setting (MLP 784-256-10, Adam, trained to 99% on the
 * labelled items, a budget of 100 from the remaining ~59,000), the same model and labelled set for
 * each: `labeled` random labels, the middle of the paper's 100–1,000. Each strategy runs `repeats`
 * times with the same query seed; the median is reported. BALD needs dropout, so the model has
 * dropout 0.2 (BALD's setting), which the other strategies do not notice (eval mode).
 * bench/public-timings.md has the public code's figures on this machine for comparison.
 */
export async function benchStrategies(
  json: boolean,
  options: { strategies: string[]; strategyOptions: StrategyParams; labeled: number; repeats: number; seed: number },
  onProgress?: (line: string) => void,
): Promise<void> {
  const config: SimulationConfig = {
    ...DEFAULT_CONFIG,
    dataset: "mnist",
    dropout: 0.2,
    seeds: [options.seed],
    init: options.labeled,
    strategies: options.strategies,
  };
  const start = startSeed(await loadSimulationSource(config), config, options.seed);
  const { pool } = start.experiment;
  const labeled = start.initial,
    isLabeled = new Uint8Array(pool.x.rows);
  for (const i of labeled) isLabeled[i] = 1;
  const unlabeled = Int32Array.from({ length: pool.x.rows }, (_, i) => i).filter((i) => !isLabeled[i]);
  onProgress?.(
    `MNIST pool ${pool.x.rows} × ${pool.x.cols}, ${labeled.length} labelled, round-0 model ${(start.round0.accuracy * 100).toFixed(2)}% on the test set`,
  );
  const labels = labeled.map((i) => pool.y[i]);
  for (const entry of options.strategies) {
    const strategy = createStrategy(resolveStrategy(entry, options.strategyOptions));
    const seconds: number[] = [];
    let picks: Int32Array = new Int32Array(0);
    for (let r = 0; r < options.repeats; r++) {
      const t = performance.now();
      const result = strategy.query(
        { pool: pool.x, labeled, labels, unlabeled, model: start.model, rng: new Rng(options.seed).child(`query/${strategy.name}/1`) },
        100,
      );
      seconds.push((performance.now() - t) / 1000);
      picks = result.indices;
    }
    const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)];
    emit(
      json,
      { strategy: strategy.name, labeled: labeled.length, seconds, median, picked: picks.length },
      `${strategy.name.padEnd(18)} ${median.toFixed(3)} s (median of ${seconds.map((s) => s.toFixed(3)).join(", ")})`,
    );
  }
}
