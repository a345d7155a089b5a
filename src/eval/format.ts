/** A duration for people: 850 ms, 4.2 s, 3 min 5 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** A proportion as a percentage with `digits` decimals. */
export function percent(v: number, digits = 2): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : "–";
}

/** Mean ± sample std over seeds as percentages; one seed has no spread to show, so it says so. */
export function percentOverSeeds(mean: number, std: number, seeds: number): string {
  return seeds < 2 ? `${percent(mean)} (1 seed)` : `${percent(mean)} ± ${(100 * std).toFixed(2)}`;
}
