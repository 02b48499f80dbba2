import { writeSync } from "node:fs";
import type { DestinationStream } from "pino";

/** The parts of pino's sonic-boom destination that the batching stream passes on. */
export interface FlushableStream extends DestinationStream {
  flush?(cb?: (err?: Error | null) => void): void;
  flushSync?(): void;
  /** sonic-boom's file descriptor: at exit the pending lines are written to it directly. */
  fd?: number;
}

/** Every batching stream's flushSync, run once at exit (one listener for all of them). */
const atExit = new Set<() => void>();
function flushAllAtExit(): void {
  for (const flushSync of atExit) {
    try {
      flushSync();
    } catch {
      // stdout is gone (EPIPE): nothing left to write to
    }
  }
}

/** All of `text` to a file descriptor, blocking: a pipe may take it in parts or answer EAGAIN. */
function writeAllSync(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
}

/**
 * Log lines of one event-loop turn handed to the destination in one write. pino's async
 * destination (sonic-boom) appends each line to its pending chunk and measures that chunk's
 * byte length on every write: while a write to stdout is in flight the chunk grows to 16 KiB, so
 * each line cost O(chunk), a tenth of the main thread's samples under a burst
 * (docs/performance.md, phase B). Lines keep their order; nothing is dropped: flush() hands over
 * what is pending, and flushSync() (also run at the process's exit, ahead of sonic-boom's own
 * exit flush) writes the destination's queued lines and then the pending ones synchronously: an
 * async write started at exit would never finish.
 */
export function createTurnBatchedStream(inner: FlushableStream): FlushableStream {
  let pending = "";
  let scheduled = false;
  const handOver = () => {
    scheduled = false;
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    inner.write(chunk);
  };
  const flushSync = () => {
    inner.flushSync?.();
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    if (inner.fd !== undefined && inner.fd >= 0) writeAllSync(inner.fd, chunk);
    else inner.write(chunk);
  };
  if (atExit.size === 0) process.prependListener("exit", flushAllAtExit);
  atExit.add(flushSync);
  return {
    write(line: string) {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(handOver);
      }
    },
    flush(cb) {
      handOver();
      if (inner.flush) inner.flush(cb);
      else cb?.();
    },
    flushSync,
  };
}
