import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { arenaMemory, arenaView } from "./arena.js";
import { kernels } from "./kernels.js";
import { DONE, FAILED, POSTED, READY, type SplitJob } from "./split.js";

/** The helper thread of split.ts: waits for a job, runs its range of units, says it is done. */
const { control, port, memory } = workerData as { control: Int32Array; port: MessagePort; memory: WebAssembly.Memory };
arenaMemory(memory);
Atomics.store(control, READY, 1);
let seen = 0;
for (;;) {
  Atomics.wait(control, POSTED, seen);
  seen = Atomics.load(control, POSTED);
  try {
    // The job was queued on the port before POSTED moved; should it not show yet, wait for it
    // rather than die (a helper that dies leaves the other thread waiting).
    let received = receiveMessageOnPort(port);
    while (!received) received = receiveMessageOnPort(port);
    const job = received.message as SplitJob;
    kernels[job.kernel](
      job.arrays.map(([buffer, offset, length, arena]) => (arena ? arenaView(offset, length) : new Float32Array(buffer, offset, length))),
      job.scalars,
      job.from,
      job.to,
    );
  } catch {
    Atomics.store(control, FAILED, 1); // split.ts runs the range again itself, to throw the error there
  }
  Atomics.store(control, DONE, seen);
  Atomics.notify(control, DONE);
}
