import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * alfamix's cache folder for `kind` (decoded images, converted models), created on demand:
 * $ALFAMIX_CACHE_DIR, else $XDG_CACHE_HOME/alfamix, else ~/.cache/alfamix. Undefined when it
 * cannot be created (a read-only home): callers then work without a cache.
 */
export function cacheDir(kind: string): string | undefined {
  const base = process.env.ALFAMIX_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "alfamix");
  const dir = join(base, kind);
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}
