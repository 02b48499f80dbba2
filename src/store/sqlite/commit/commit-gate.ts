import type { WalProgress } from "./wal-index";

/**
 * The writer's commit gate (WriterOptions.commitGate) for the checkpoint thread, apart from the
 * thread so it can be tested alone. Once the WAL is walFrames long, the next commit is held until
 * the thread answers *this* catch-up, or maxHoldMs passed; that commit then starts the WAL over.
 *
 * Each catch-up carries a number and only its own answer releases its hold. An answer arrives
 * late when its hold already timed out (a busy disk, a starved CPU): releasing whatever hold was
 * current then let the next hold go at once, before the thread had copied the frames written
 * since, so under a sustained burst the WAL was never reset and grew to the backstop.
 */
export interface CommitGateOptions {
  walFrames: number;
  maxHoldMs: number;
  /** The WAL's progress; null when it cannot be read (or the thread is not up): nothing is held. */
  read(): WalProgress | null;
  /** Asks the thread to copy everything; it answers caughtUp(id). */
  askCatchUp(id: number): void;
  /** Runs fn after ms; returns its cancel (tests pass a manual timer). Default: setTimeout. */
  after?: (ms: number, fn: () => void) => () => void;
}

const afterTimeout = (ms: number, fn: () => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export interface CommitGate {
  /** For the writer: a promise holds the next commit until it settles; null lets it go. */
  gate(): Promise<void> | null;
  /** The thread's answer to catch-up `id`. */
  caughtUp(id: number): void;
  /** Lets a held commit go (the thread stopped or died). */
  release(): void;
}

export function createCommitGate(opts: CommitGateOptions): CommitGate {
  const { walFrames, maxHoldMs } = opts;
  const after = opts.after ?? afterTimeout;
  let hold: { id: number; promise: Promise<void>; end: () => void } | null = null;
  let lastId = 0;
  /** After a catch-up that could not finish (readers, a timeout), wait for the WAL to grow this far before the next. */
  let nextHoldAt = walFrames;
  const release = () => {
    const h = hold;
    hold = null;
    h?.end();
  };

  return {
    gate() {
      if (hold) return hold.promise;
      const p = opts.read();
      if (!p) return null;
      if (p.frames < walFrames) {
        nextHoldAt = walFrames; // the WAL was reset
        return null;
      }
      if (p.frames < nextHoldAt) return null;
      nextHoldAt = p.frames + walFrames;
      const id = ++lastId;
      let done!: () => void;
      const promise = new Promise<void>((resolve) => (done = resolve));
      const cancel = after(maxHoldMs, release);
      hold = {
        id,
        promise,
        end: () => {
          cancel();
          done();
        },
      };
      opts.askCatchUp(id);
      return promise;
    },
    caughtUp(id) {
      if (hold?.id === id) release();
    },
    release,
  };
}
