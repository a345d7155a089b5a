import type { RoundResult } from "../loop/results-store.js";
import type { SimulationConfig } from "../loop/simulation.js";
import type { PenaltyMatrix } from "../eval/penalty.js";
import type { SettingSummary } from "../eval/summary.js";

// The report's types, below its files (report.ts builds a Report; html.ts, ablation.ts and maps.ts draw it).

/** A results directory read back: its configuration, rows and summary. */
export interface Setting {
  dir: string;
  config?: SimulationConfig;
  results: RoundResult[];
  summary: SettingSummary;
}

export interface Report {
  settings: Setting[];
  penalty: PenaltyMatrix;
  /** Strategy names across settings, in first-seen order. */
  names: string[];
  colors: Map<string, string>;
  summaryJson: Record<string, unknown>;
}
