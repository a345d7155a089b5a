import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { decodeImage } from "./decode.js";
import { interleave, normalizingMap, Resizer, writeBytes } from "./resize.js";
import type { DecodeReply, DecodeTask } from "./decoder-pool.js";

// One decoding thread: reads, decodes and resizes its slice of files straight into shared memory.
const resizer = new Resizer();

parentPort!.on("message", (task: DecodeTask) => {
  const bad: DecodeReply["bad"] = [];
  const { shape, target } = task;
  const size = shape.channels * shape.height * shape.width;
  const bytes = target.kind === "bytes" ? new Uint8Array(target.buffer) : undefined;
  const floats = target.kind === "floats" ? new Float32Array(target.buffer) : undefined;
  const map = target.kind === "floats" ? normalizingMap(target.norm) : undefined;
  const planar = target.kind === "floats" && target.norm.layout === "nhwc" ? new Float32Array(size) : undefined;
  task.files.forEach((file, i) => {
    try {
      let content: Buffer;
      try {
        content = readFileSync(file);
      } catch (e) {
        throw new Error(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const image = decodeImage(content),
        offset = target.offset + i * size;
      if (bytes) writeBytes(resizer.resize(image, shape), bytes, offset);
      else if (!planar) resizer.resize(image, shape, { data: floats!, offset, ...map! });
      else interleave(resizer.resize(image, shape, { data: planar, offset: 0, ...map! }), shape, floats!, offset);
    } catch (e) {
      bad.push({ index: task.start + i, message: (e as Error).message });
    }
  });
  parentPort!.postMessage({ id: task.id, bad } satisfies DecodeReply);
});
