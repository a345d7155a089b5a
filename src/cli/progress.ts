import type { Progress } from "../loop/simulation.js";
import { formatMs } from "../eval/format.js";

/**
 * A status line on stderr: rewritten in place on a terminal, otherwise printed at most every few
 * seconds (and whenever `important`), so that logs stay readable.
 */
export function statusLine(quiet: boolean): { show(line: string, important?: boolean): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastLog = 0,
    shown = false;
  return {
    show(line, important = false) {
      if (quiet) return;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        shown = true;
      } else if (important || Date.now() - lastLog > 5000) {
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

/** The simulation's progress line: one line per finished run when not on a terminal; no time left is shown once nothing is left. */
export function progressPrinter(quiet: boolean): { update(p: Progress): void; done(): void } {
  const status = statusLine(quiet);
  return {
    update(p) {
      const line =
        `${p.strategy} seed ${p.seed} round ${p.round}/${p.rounds}: ${p.labeled} labels, accuracy ${(100 * p.accuracy).toFixed(2)}% · ` +
        `run ${Math.min(p.runsDone + 1, p.runsTotal)}/${p.runsTotal} · ${formatMs(p.elapsedMs)} elapsed${p.etaMs && p.round + p.runsDone > 0 ? `, ~${formatMs(p.etaMs)} left` : ""}`;
      status.show(line, p.round === p.rounds);
    },
    done: status.done,
  };
}

/** "embed: 300/1000 images · 52 images/s · ~13 s left": items done of a total, their rate, and the time left until the last. */
export function rateLine(prefix: string, noun: string, p: { done: number; total: number; perSecond: number; etaMs?: number }): string {
  return `${prefix}: ${p.done}/${p.total} ${noun} · ${p.perSecond.toFixed(p.perSecond < 10 ? 1 : 0)} ${noun}/s${p.etaMs !== undefined && p.done < p.total ? ` · ~${formatMs(p.etaMs)} left` : ""}`;
}
