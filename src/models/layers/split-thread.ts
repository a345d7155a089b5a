import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { arenaMemory, arenaView } from "./arena.js";
import { kernels } from "./kernels.js";
import { claimChunk, FAILED, FINISHED, HELPED, POSTED, READY, type SplitJob } from "./split.js";

/**
 * The helper thread of split.ts: waits for jobs, takes chunks of each while there are any, and
 * counts those it finished. A job it reaches late (the other thread took every chunk, or has moved
 * on to the next job) has nothing left for it, and it goes back to waiting.
 */
const { control, port, memory } = workerData as { control: Int32Array; port: MessagePort; memory: WebAssembly.Memory };
arenaMemory(memory);
Atomics.store(control, READY, 1);
let seen = 0;
for (;;) {
  Atomics.wait(control, POSTED, seen);
  // One message per job posted, each queued before POSTED moved: should one not show yet, wait for it.
  for (const posted = Atomics.load(control, POSTED); seen < posted; seen++) {
    let received = receiveMessageOnPort(port);
    while (!received) received = receiveMessageOnPort(port);
    const job = received.message as SplitJob;
    let arrays: Float32Array[];
    try {
      arrays = job.arrays.map(([buffer, offset, length]) => (buffer ? new Float32Array(buffer, offset, length) : arenaView(offset, length)));
    } catch {
      continue; // no chunk taken: the other thread does them all
    }
    let took = 0;
    for (let c = claimChunk(control, job.seq, job.chunks); c >= 0; c = claimChunk(control, job.seq, job.chunks), took++) {
      let failed = false;
      try {
        kernels[job.kernel](arrays, job.scalars, c * job.size, Math.min(job.units, (c + 1) * job.size));
      } catch {
        // split.ts runs the chunk again itself, to throw the error there; FAILED holds one chunk,
        // so this thread takes no more of the job.
        Atomics.store(control, FAILED, c + 1);
        failed = true;
      }
      Atomics.add(control, FINISHED, 1);
      Atomics.notify(control, FINISHED);
      if (failed) {
        took++;
        break;
      }
    }
    if (took > 0) Atomics.add(control, HELPED, 1);
  }
}
