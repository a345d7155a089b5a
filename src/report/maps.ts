import { readSeedMap } from "../loop/maps.js";
import { renderMaps, type MapPanel } from "../eval/map-svg.js";
import type { Setting } from "./types.js";

/** The maps of a setting's first seed: one panel per strategy, on the seed's shared projection. */
export function settingMaps(setting: Setting, order: string[], inline = false): { svg: string; caption: string } | undefined {
  const seeds = setting.config?.seeds ?? [...new Set(setting.results.map((r) => r.seed))];
  const map = readSeedMap(setting.dir, seeds);
  if (!map) return undefined;
  const position = new Map(map.indices.map((i, p) => [i, p]));
  const positions = (rows: number[]) => new Set(rows.map((r) => position.get(r)).filter((p): p is number => p !== undefined));
  const records = [...map.records].sort((a, b) => rank(order, a.strategy) - rank(order, b.strategy));
  const panels: MapPanel[] = records.map((r) => ({
    title: r.strategy,
    xy: map.xy,
    classes: map.classes,
    labelled: positions(r.labelled),
    batch: positions(r.batch),
  }));
  const shown =
    map.indices.length < map.poolSize
      ? `${map.indices.length.toLocaleString("en")} of ${map.poolSize.toLocaleString("en")} pool items shown: every labelled and picked one, and a class-stratified sample of the rest`
      : `all ${map.poolSize.toLocaleString("en")} pool items`;
  const note = `UMAP of the round-0 model's embeddings, seed ${map.seed}; ${shown}`;
  return {
    svg: renderMaps(panels, map.classNames, note, { inline }),
    caption: `Round ${map.round}: the batch each strategy picked (dark-edged dots) among the pool (faint, coloured by true class) and the items labelled before it (rings). ${note}.`,
  };
}

const rank = (order: string[], name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
