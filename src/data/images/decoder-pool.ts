import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { terminateWorker } from "../../workers.js";
import type { ImageShape, ChannelNormalization } from "./resize.js";

/** Where decoded images go: bytes (0–255) or normalised floats, image i at `offset + i × C×H×W`. */
export type DecodeTarget =
  | { kind: "bytes"; buffer: SharedArrayBuffer; offset: number }
  | { kind: "floats"; buffer: SharedArrayBuffer; offset: number; norm: ChannelNormalization };

export interface DecodeTask {
  id: number;
  files: string[];
  /** Index of files[0] in the caller's list, for reporting bad files. */
  start: number;
  shape: ImageShape;
  target: DecodeTarget;
}

/** A file that could not be decoded: its index in the list given to `decode`, and why. */
export interface BadImage {
  index: number;
  message: string;
}

export interface DecodeReply {
  id: number;
  bad: BadImage[];
}

/** Files per task: small enough to share work evenly, large enough that messages cost nothing. */
const SLICE = 256;

/**
 * Threads that decode and resize images into shared memory (planar C×H×W), so decoding runs
 * beside whatever the main thread does (ONNX inference, training) and on every core.
 */
export class ImageDecoderPool {
  private readonly workers: Worker[];
  private readonly idle: Worker[];
  private readonly queue: { task: DecodeTask; resolve: (reply: DecodeReply) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { worker: Worker; resolve: (reply: DecodeReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(threads = availableParallelism()) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL("./decode-worker.js", import.meta.url));
      worker.on("message", (reply: DecodeReply) => this.finished(worker, reply));
      worker.on("error", (e) => {
        for (const [id, p] of this.pending)
          if (p.worker === worker) {
            this.pending.delete(id);
            p.reject(e);
          }
      });
      worker.unref();
      return worker;
    });
    this.idle = [...this.workers];
  }

  /**
   * Decode `files` (resized to `shape`) into `target`, spread over the threads; resolves with the
   * files that could not be decoded (their slots are left as they were). `onProgress` hears of
   * each finished slice with its number of files.
   */
  async decode(files: string[], shape: ImageShape, target: DecodeTarget, onProgress?: (decoded: number) => void): Promise<BadImage[]> {
    const size = shape.channels * shape.height * shape.width;
    const slice = Math.max(1, Math.min(SLICE, Math.ceil(files.length / this.workers.length)));
    const tasks: Promise<DecodeReply>[] = [];
    for (let start = 0; start < files.length; start += slice) {
      const task: DecodeTask = {
        id: this.nextId++,
        files: files.slice(start, start + slice),
        start,
        shape,
        target: { ...target, offset: target.offset + start * size },
      };
      tasks.push(
        new Promise((resolve, reject) => {
          this.queue.push({
            task,
            resolve: (reply) => {
              onProgress?.(task.files.length);
              resolve(reply);
            },
            reject,
          });
          this.dispatch();
        }),
      );
    }
    return (await Promise.all(tasks)).flatMap((r) => r.bad).sort((a, b) => a.index - b.index);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(terminateWorker));
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!,
        { task, resolve, reject } = this.queue.shift()!;
      this.pending.set(task.id, { worker, resolve, reject });
      worker.ref(); // keep the process alive while work is out
      worker.postMessage(task);
    }
  }

  private finished(worker: Worker, reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    worker.unref();
    this.idle.push(worker);
    this.dispatch();
    p?.resolve(reply);
  }
}
