import type { Progress } from "../loop/simulation.js";
import { formatMs } from "../eval/format.js";

/**
 * A progress line on stderr: rewritten in place on a terminal, otherwise one line per finished
 * run (and at most one every few seconds) so that logs stay readable.
 */
export function progressPrinter(quiet: boolean): { update(p: Progress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastLog = 0, shown = false;
  return {
    update(p) {
      if (quiet) return;
      const line = `${p.strategy} seed ${p.seed} round ${p.round}/${p.rounds}: ${p.labeled} labels, accuracy ${(100 * p.accuracy).toFixed(2)}% · ` +
        `run ${Math.min(p.runsDone + 1, p.runsTotal)}/${p.runsTotal} · ${formatMs(p.elapsedMs)} elapsed${p.etaMs !== undefined && p.round + p.runsDone > 0 ? `, ~${formatMs(p.etaMs)} left` : ""}`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        shown = true;
      } else if (p.round === p.rounds || Date.now() - lastLog > 5000) {
        process.stderr.write(`${line}\n`);
        lastLog = Date.now();
      }
    },
    done() {
      if (shown) process.stderr.write("\n");
      shown = false;
    },
  };
}
