import { parentPort, Worker, workerData } from "node:worker_threads";
import { terminateWorker } from "../../workers.js";
import { clipFrames } from "./clips.js";
import { VideoDecodeError, type ClipFrames, type FrameSampling } from "./ffmpeg.js";

type Request = { id: number; files: string[]; sampling: FrameSampling; ffmpeg: string };
type Reply = { id: number; results?: (ClipFrames | { bad: string })[]; error?: string };

/**
 * Decodes clips (clipFrames: the cache, then ffmpeg) in a thread of its own. ONNX Runtime's run
 * holds the main thread while the model works, and ffmpeg stops as soon as a pipe nobody reads
 * is full (a frame is bigger than a pipe), so decoding on the main thread would wait for every
 * batch's inference. Here the thread's own event loop keeps the pipes drained.
 */
export class ClipDecoderThread {
  private readonly worker = new Worker(new URL(import.meta.url), { workerData: { clipDecoder: true } });
  private readonly pending = new Map<number, { resolve: (r: (ClipFrames | VideoDecodeError)[]) => void; reject: (e: Error) => void }>();
  private requests = 0;

  constructor() {
    this.worker.on("message", ({ id, results, error }: Reply) => {
      const waiting = this.pending.get(id)!;
      this.pending.delete(id);
      if (error !== undefined) waiting.reject(new Error(error));
      else waiting.resolve(results!.map((r) => ("bad" in r ? new VideoDecodeError(r.bad) : r)));
    });
    this.worker.on("error", (e) => {
      for (const waiting of this.pending.values()) waiting.reject(e);
      this.pending.clear();
    });
  }

  decode(files: string[], sampling: FrameSampling, ffmpeg: string): Promise<(ClipFrames | VideoDecodeError)[]> {
    const id = ++this.requests;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, files, sampling, ffmpeg } satisfies Request);
    });
  }

  close(): Promise<void> {
    return terminateWorker(this.worker);
  }
}

// This module, started as the decoding thread (and not merely imported inside some other worker).
if ((workerData as { clipDecoder?: boolean } | null)?.clipDecoder && parentPort) {
  const port = parentPort;
  port.on("message", ({ id, files, sampling, ffmpeg }: Request) => {
    clipFrames(files, sampling, ffmpeg).then(
      (results) => {
        const replies = results.map((r) => (r instanceof VideoDecodeError ? { bad: r.message } : r));
        // The pixels move to the main thread without a copy.
        port.postMessage(
          { id, results: replies } satisfies Reply,
          replies.flatMap((r) => ("pixels" in r ? [r.pixels.buffer as ArrayBuffer] : [])),
        );
      },
      (e: Error) => port.postMessage({ id, error: e.message } satisfies Reply),
    );
  });
}
