/** Best wall time of `fn` in ms over repeated runs (at least `minRuns`, about `budgetMs` in all). */
export function bestTimeMs(fn: () => void, { minRuns = 2, maxRuns = 20, budgetMs = 1000 } = {}): number {
  let best = Infinity,
    total = 0,
    runs = 0;
  while (runs < minRuns || (runs < maxRuns && total < budgetMs)) {
    const start = performance.now();
    fn();
    const ms = performance.now() - start;
    best = Math.min(best, ms);
    total += ms;
    runs++;
  }
  return best;
}

/** One JSON object per line, or a line of text per result. */
export function emit(json: boolean, record: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(record) : text);
}
