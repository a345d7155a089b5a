import type { ChildProcess } from "node:child_process";
import { forkModule, isChildOf } from "../workers.js";
import { readMedia, type MediaFile } from "./media.js";

type Request = { id: number; file: string; forbidden: string[]; range?: string };
type Reply = { id: number; media?: MediaFile; error?: string };

/**
 * Reads media files in a process of its own. The server checks a file is not its database before
 * reading it, but a file can be swapped between that check and the open (a hard link to the
 * database renamed over an image). Opened in the server's process, the database would be closed
 * again, and that drops the process's SQLite locks; opened in this reader's process, it harms
 * nothing. The reader starts on first use and again if it dies.
 */
export class MediaReader {
  private child?: ChildProcess;
  private readonly pending = new Map<number, { resolve: (media: MediaFile | undefined) => void; reject: (e: Error) => void }>();
  private requests = 0;

  /** The file (or the part a Range header asks for), read in the reader's process. */
  read(file: string, forbidden: Set<string>, range?: string): Promise<MediaFile | undefined> {
    const child = this.process();
    const id = ++this.requests;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ id, file, forbidden: [...forbidden], range } satisfies Request);
    });
  }

  close(): void {
    this.child?.kill();
    this.child = undefined;
  }

  private process(): ChildProcess {
    if (this.child) return this.child;
    const child = forkModule(import.meta.url);
    child.on("message", ({ id, media, error }: Reply) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (error) waiting?.reject(new Error(`media reader: ${error}`));
      else waiting?.resolve(media && { ...media, body: Buffer.from(media.body) });
    });
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
      for (const waiting of this.pending.values()) waiting.reject(new Error("the media reader stopped"));
      this.pending.clear();
    });
    // Idle, it does not keep the server's process alive.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}

if (isChildOf(import.meta.url)) {
  process.on("message", ({ id, file, forbidden, range }: Request) => {
    readMedia(file, new Set(forbidden), range)
      .then((media) => process.send!({ id, media } satisfies Reply))
      .catch((e: Error) => process.send!({ id, error: e.message } satisfies Reply));
  });
  process.on("disconnect", () => process.exit(0));
}
