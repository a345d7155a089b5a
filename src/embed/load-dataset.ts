import { loadFeatureDataset, type LoadedDataset, type LoadOptions } from "../data/registry.js";
import { UserError } from "../errors.js";
import { isTextDataset, loadTextDataset } from "./text/text-dataset.js";

/**
 * Any dataset by name or path: texts (a built-in text set, a folder of .txt files, a .jsonl, or a
 * table with a text column), embedded by their text model, or anything loadFeatureDataset reads.
 * It sits on the embed floor because texts need a text model to become rows.
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  if (isTextDataset(spec, options)) {
    return loadTextDataset(spec, {
      textColumn: options.textColumn,
      labelColumn: options.labelColumn,
      textModel: options.textModel,
      onPhase: options.onTextPhase,
    });
  }
  if (options.textModel !== undefined)
    throw new UserError(`${spec}: --text-model applies to texts: a built-in text set, a folder of .txt files, a .jsonl, or a table with --text-column`);
  return loadFeatureDataset(spec, options);
}
