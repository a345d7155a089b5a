import { closeSync, existsSync, fstatSync, ftruncateSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { writeAtomically } from "../data/files.js";
import { npyHeader } from "../data/npy.js";
import { UserError } from "../errors.js";

/** Bytes reserved for the .npy header, so the final row count can be written in place. */
const HEADER_BYTES = 128;

interface State {
  fingerprint: string;
  dim?: number;
  /** Index of the next image to embed. */
  next: number;
  /** Rows in the partial file (images done minus images skipped). */
  rows: number;
  /** Indices of images left out as undecodable. */
  skipped: number[];
  /** A line of text per row, for a side file (a clip's key-frame times). */
  lines?: string[];
}

/**
 * Rows of embeddings streamed to OUT.partial (an .npy with a fixed-size header), with progress in
 * OUT.partial.json after every append. A writer created with the fingerprint of an earlier,
 * interrupted run picks up where it stopped; `finish` renames the files into place.
 */
export class EmbeddingWriter {
  private readonly partial: string;
  private readonly stateFile: string;
  private readonly fd: number;
  private state: State;

  constructor(
    private readonly out: string,
    fingerprint: string,
  ) {
    // The output's folder is made here, when there is something to write, not before the input is read.
    mkdirSync(dirname(out), { recursive: true });
    this.partial = `${out}.partial`;
    this.stateFile = `${out}.partial.json`;
    const previous = existsSync(this.stateFile) && existsSync(this.partial) ? (JSON.parse(readFileSync(this.stateFile, "utf8")) as State) : undefined;
    if (previous && previous.fingerprint === fingerprint) {
      this.fd = openSync(this.partial, "r+");
      const needed = HEADER_BYTES + previous.rows * (previous.dim ?? 0) * 4;
      if (fstatSync(this.fd).size >= needed) {
        this.state = previous;
        return;
      }
      closeSync(this.fd);
    }
    this.fd = openSync(this.partial, "w+");
    writeSync(this.fd, npyHeader([0, 0], "float32", HEADER_BYTES));
    this.state = { fingerprint, next: 0, rows: 0, skipped: [] };
    this.save();
  }

  get next(): number {
    return this.state.next;
  }
  get rows(): number {
    return this.state.rows;
  }
  get dim(): number | undefined {
    return this.state.dim;
  }
  get skipped(): readonly number[] {
    return this.state.skipped;
  }

  /** Append `count` rows of `dim` values (and a side line per row), then record that images before `next` are done. */
  append(values: Float32Array, count: number, dim: number | undefined, next: number, skipped: number[], lines?: string[]): void {
    if (count > 0) {
      if (this.state.dim !== undefined && dim !== this.state.dim) throw new Error(`embedding width changed from ${this.state.dim} to ${dim}`);
      this.state.dim = dim;
      const bytes = Buffer.from(values.buffer, values.byteOffset, count * dim! * 4);
      writeSync(this.fd, bytes, 0, bytes.length, HEADER_BYTES + this.state.rows * dim! * 4);
      this.state.rows += count;
    }
    if (lines) (this.state.lines ??= []).push(...lines);
    this.state.next = next;
    this.state.skipped.push(...skipped);
    this.save();
  }

  /** Progress after a batch: items done of `total`, and the rate and time left since `startedMs` (items from an earlier run not counted). */
  progress(total: number, resumedFrom: number, startedMs: number): { done: number; total: number; perSecond: number; etaMs?: number } {
    const done = this.state.next,
      perSecond = ((done - resumedFrom) / (performance.now() - startedMs)) * 1000;
    return { done, total, perSecond, etaMs: perSecond > 0 ? ((total - done) / perSecond) * 1000 : undefined };
  }

  /**
   * Finish a run over `list` (see finish): the rows of the items not skipped, their ids and labels.
   * None at all is a one-line error naming the source and `noun`.
   */
  finishList(
    list: { source: string; ids: string[]; labels?: string[] },
    noun: string,
    sideExtension?: string,
  ): { embeddings: string; ids: string; labels?: string; side?: string } {
    const total = list.ids.length;
    if (this.state.rows === 0) throw new UserError(`${list.source}: none of the ${total} ${noun} could be decoded`);
    const kept = this.keptIndices(total);
    return this.finish(
      kept.map((i) => list.ids[i]),
      list.labels ? kept.map((i) => list.labels![i]) : undefined,
      sideExtension,
    );
  }

  /** Indices of the images that have a row, in order. */
  keptIndices(total: number): number[] {
    const skipped = new Set(this.state.skipped);
    return Array.from({ length: total }, (_, i) => i).filter((i) => !skipped.has(i));
  }

  /**
   * Write the final header, then ids, labels and the side lines (as OUT.<sideExtension>), then
   * rename the .npy into place last.
   */
  finish(ids: string[], labels: string[] | undefined, sideExtension?: string): { embeddings: string; ids: string; labels?: string; side?: string } {
    const { rows, dim } = this.state;
    writeSync(this.fd, npyHeader([rows, dim!], "float32", HEADER_BYTES), 0, HEADER_BYTES, 0);
    ftruncateSync(this.fd, HEADER_BYTES + rows * dim! * 4);
    fsyncSync(this.fd);
    closeSync(this.fd);
    const base = this.out.replace(/\.npy$/i, "");
    const side = sideExtension && this.state.lines ? `${base}.${sideExtension}` : undefined;
    const files = { embeddings: this.out, ids: `${base}.ids`, labels: labels ? `${base}.labels` : undefined, side };
    writeAtomically(files.ids, ids.join("\n") + "\n");
    if (labels) writeAtomically(files.labels!, labels.join("\n") + "\n");
    if (side) writeAtomically(side, this.state.lines!.join("\n") + "\n");
    renameSync(this.partial, this.out);
    unlinkSync(this.stateFile);
    return files;
  }

  private save(): void {
    writeAtomically(this.stateFile, JSON.stringify(this.state));
  }
}
