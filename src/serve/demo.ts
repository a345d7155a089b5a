import { loadDataset } from "../embed/load-dataset.js";
import { createProject } from "./projects.js";
import type { Project, Store } from "./store/store.js";

export const DEMO_PROJECT = "mnist";

/**
 * The demo project: the 60,000 MNIST training digits (the built-in set) as 784 raw pixels each,
 * shown as images, picked by ALFA-Mix with a linear head. Created once, reopened after that.
 */
export async function demoProject(store: Store, onProgress?: (rows: number) => void): Promise<Project> {
  const existing = store.project(DEMO_PROJECT);
  if (existing) return existing;
  const { train } = await loadDataset("mnist");
  return createProject(store, {
    name: DEMO_PROJECT,
    pool: { ids: Array.from({ length: train.x.rows }, (_, i) => `digit-${i}`), x: train.x, source: "mnist" },
    classes: train.classNames,
    strategy: "alfamix",
    batch: 20,
    model: "linear",
    pixels: { height: 28, width: 28 },
    onProgress,
  });
}
