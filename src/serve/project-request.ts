import { realpathSync } from "node:fs";
import { ParamError, UserError } from "../errors.js";
import { camel, kebab } from "../strategies/params.js";
import { parseStrategyEntry } from "../strategies/variants.js";
import { resolveStrategy, type StrategySpec } from "../strategies/registry.js";
import { badRequest, Fields } from "./http.js";
import { containedPath, isDatabaseFile } from "./media.js";
import { MAX_LEASE_SECONDS, type CreateProjectOptions } from "./projects.js";

/**
 * The strategy, resolved here at the edge: `strategy` (an entry, `alfamix[cap=0.1]`) and
 * `strategyParams` (its parameters as JSON, `{"cap": 0.1}`). A bad parameter is a 400 whose
 * `field` is where it was given: `strategyParams.cap`, or `strategy` for the entry's settings.
 */
function strategyField(b: Fields): StrategySpec {
  const entry = b.string("strategy", "a strategy entry (alfamix, alfamix[cap=0.1])", { optional: true, max: 200 }) ?? "alfamix";
  const params = b.object("strategyParams", "the strategy's parameters");
  try {
    return resolveStrategy(entry, params ? { [parseStrategyEntry(entry).name]: params } : {});
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const key = e instanceof ParamError ? camel(e.param) : undefined;
    // The entry's own settings win over strategyParams (resolveStrategy), so a key in both is the entry's.
    const inParams = key !== undefined && params !== undefined && key in params && !(kebab(key) in parseStrategyEntry(entry).settings);
    throw badRequest(e.message, inParams ? `strategyParams.${key}` : "strategy");
  }
}

/**
 * POST /api/projects: the settings of `alfamix project create`, as JSON. Every path is resolved
 * inside the server's data root (`serve --data-root`), and one outside it is refused with the same
 * line whether or not it exists, so the API is no oracle for the server's files. The media folder
 * may not be the file system's root.
 */
export function projectRequest(body: Record<string, unknown>, dataRoot: string, databaseFiles: Set<string>): CreateProjectOptions {
  const b = new Fields(body);
  const path = (key: string, what: string, optional = true) => {
    const given = optional ? b.string(key, what, { optional: true, max: 4096 }) : b.string(key, what, { max: 4096 });
    if (given === undefined) return undefined;
    const inside = containedPath(dataRoot, given);
    if (!inside) throw badRequest(`"${key}" must be a path inside the server's data root (serve --data-root); ${JSON.stringify(given)} is not`);
    if (isDatabaseFile(inside, databaseFiles)) throw badRequest(`"${key}" names the server's own database`);
    return inside;
  };
  const model = b.string("model", '"linear" or "mlp"', { optional: true, max: 10 });
  if (model !== undefined && model !== "linear" && model !== "mlp") throw badRequest('expected "model": "linear" or "mlp"');
  const media = path("media", "a folder of DIR/<id>.<ext> files");
  if (media !== undefined && realpathSync(media) === "/") throw badRequest('"media" cannot be the root of the file system');
  return {
    name: b.string("name", "the project's name", { max: 64 }),
    pool: path("pool", "the pool file (a path inside the data root)", false)!,
    ids: path("ids", "a file of ids, one per line"),
    labeled: path("labeled", "a file of labels known already"),
    classes: b.strings("classes", "the class names"),
    strategy: strategyField(b),
    batch: b.number("batch", "items per batch", { min: 1, max: 100000, integer: true }),
    model,
    randomShare: b.number("randomShare", "the share of each batch drawn at random", { min: 0, max: 1 }),
    overlap: b.number("overlap", "the share of items labelled twice", { min: 0, max: 1 }),
    retrainEvery: b.number("retrainEvery", "labels between retrains", { min: 1, max: 1e9, integer: true }),
    seed: b.number("seed", "the seed", { min: 0, max: 2 ** 31 - 1, integer: true }),
    leaseSeconds: b.number("leaseSeconds", "how long a lease lasts", { min: 1, max: MAX_LEASE_SECONDS }),
    media,
    mediaColumn: b.string("mediaColumn", "a pool column of image paths", { optional: true, max: 200 }),
    mediaRoot: path("mediaRoot", "the folder media-column paths are relative to"),
    textColumn: b.string("textColumn", "a pool column of texts", { optional: true, max: 200 }),
    numbersOnly: true,
  };
}
