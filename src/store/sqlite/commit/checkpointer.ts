import { threadEntry } from "../../../thread-entry";
import type { Db } from "../connection";
import type { CheckpointSettings, FromCheckpointThread, ToCheckpointThread } from "./checkpoint-messages";
import { journalMode, WAL_AUTOCHECKPOINT_PAGES } from "../pragmas";
import { createCommitGate } from "./commit-gate";
import { openWalIndex, type WalIndexReader } from "./wal-index";

export interface CheckpointerOptions {
  /**
   * WAL length (frames) at which the writer holds its commits briefly so the thread can catch up
   * and the next commit starts the WAL over (default 1000, SQLite's autocheckpoint). The thread
   * copies on its own whenever a quarter of it is waiting, so little is left to copy while commits wait.
   */
  walFrames?: number;
  /**
   * How often the thread looks at the WAL (default 5 ms: one 136-byte read). A burst writes ~15k
   * frames a second; at 100 ms the WAL reached walFrames before the thread looked, and the whole
   * copy happened while commits were held.
   */
  pollMs?: number;
  busyTimeoutMs?: number;
  /** Longest the writer's commits are held for a catch-up (default 25 ms; a slower disk gets the next try a walFrames later). */
  maxHoldMs?: number;
  /** The thread's connection is open. */
  onReady?: () => void;
  /** A checkpoint failed; the thread keeps trying. */
  onError?: (err: Error) => void;
  /** The thread is gone without stop() (failed to start, crashed). */
  onDeath?: (err: Error) => void;
  /** A checkpoint ran, with SQLite's figures (tests, metrics). */
  onCheckpoint?: (r: { busy: number; log: number; checkpointed: number }) => void;
}

export interface Checkpointer {
  /** Resolves once the thread's connection is open; rejects if it could not start. */
  ready: Promise<void>;
  /**
   * For the writer (WriterOptions.commitGate): once the WAL is walFrames long, holds the next
   * commit until the thread has copied the whole WAL (or maxHoldMs passed), so that commit resets
   * the WAL to its start. The event loop keeps running; only those acks wait, a few ms.
   */
  commitGate(): Promise<void> | null;
  /** Stops the thread and waits (blocking, up to stopWaitMs) until it has closed its connection. */
  stop(): void;
}

/** A checkpoint of a large WAL may be running when stop() comes; it is bounded by the disk, not by us. */
const stopWaitMs = 10_000;

/** Starts the checkpoint thread (checkpoint-thread.ts) on the WAL-mode database file at path. */
export function startCheckpointer(path: string, opts: CheckpointerOptions = {}): Checkpointer {
  const walFrames = opts.walFrames ?? 1000;
  const maxHoldMs = opts.maxHoldMs ?? 25;
  const closed = new SharedArrayBuffer(4);
  const settings: CheckpointSettings = {
    path,
    copyFrames: Math.max(1, Math.floor(walFrames / 4)),
    pollMs: opts.pollMs ?? 5,
    busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
    closed,
  };
  // smol: a small heap, the thread runs one statement in a timer; ref false: it never is what
  // keeps the process alive.
  const thread = new Worker(threadEntry("store/sqlite/commit/checkpoint-thread.ts"), { smol: true, ref: false });
  let running = false;
  let stopping = false;
  let dead = false;
  let wal: WalIndexReader | null = null;
  let settleReady: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
  ready.catch(() => {}); // reported through onDeath as well

  const gate = createCommitGate({
    walFrames,
    maxHoldMs,
    read: () => (running && wal ? wal.read() : null),
    askCatchUp: (id) => thread.postMessage({ t: "catch_up", id } satisfies ToCheckpointThread),
  });

  const die = (err: Error) => {
    if (dead || stopping) return;
    dead = true;
    running = false;
    gate.release();
    settleReady?.reject(err);
    opts.onDeath?.(err);
    thread.terminate();
  };
  thread.addEventListener("error", (ev) => {
    const e = ev as ErrorEvent;
    const hint = /ModuleNotFound/.test(e.message ?? "") ? " (a compiled binary needs src/store/sqlite/commit/checkpoint-thread.ts among its build entrypoints: Makefile)" : "";
    die(e.error instanceof Error ? e.error : new Error(`checkpoint thread failed: ${e.message}${hint}`));
  });
  thread.addEventListener("close", () => die(new Error("checkpoint thread exited unexpectedly")));
  thread.onmessage = (e: MessageEvent) => {
    const m = e.data as FromCheckpointThread;
    if (m.t === "ready") {
      try {
        wal = openWalIndex(path);
        running = true;
      } catch {
        // no -shm to read: the thread still checkpoints, the writer is never held
      }
      settleReady?.resolve();
      opts.onReady?.();
    } else if (m.t === "caught_up") gate.caughtUp(m.id);
    else if (m.t === "checkpointed") opts.onCheckpoint?.(m);
    else if (m.t === "error") (m.fatal ? die : (err: Error) => opts.onError?.(err))(new Error(m.message));
  };
  thread.postMessage({ t: "start", settings } satisfies ToCheckpointThread);

  return {
    ready,
    commitGate: () => gate.gate(),
    stop() {
      if (stopping) return;
      stopping = true;
      running = false;
      gate.release();
      if (!dead) {
        thread.postMessage({ t: "stop" } satisfies ToCheckpointThread);
        // Blocking on purpose: shutdown then closes the main connection knowing this one is gone.
        Atomics.wait(new Int32Array(closed), 0, 0, stopWaitMs);
      }
      wal?.close();
      thread.terminate();
    },
  };
}

export interface CheckpointThreadOptions extends CheckpointerOptions {
  /** The main connection's own autocheckpoint, kept as a backstop if the thread falls behind or dies (pages). */
  backstopFrames?: number;
  /** Size the WAL file is truncated to when it is reset after growing in a burst (bytes, default 16 MiB). */
  walSizeLimitBytes?: number;
}

/**
 * Moves WAL checkpoints off the main thread for a file database in WAL mode (`tgwh serve`):
 * starts the checkpoint thread and raises the main connection's autocheckpoint to a backstop, so
 * a COMMIT no longer runs a checkpoint in the normal case but the WAL still cannot grow without
 * bound if the thread falls behind or dies (on its death the main connection takes checkpoints
 * back at the usual 1000 pages). Returns db with a close() that stops the thread first, and the
 * gate to give the writer. null for any other database.
 */
export function withCheckpointThread(db: Db, opts: CheckpointThreadOptions = {}): { db: Db; commitGate: () => Promise<void> | null } | null {
  if (db.path === ":memory:" || db.path === "" || journalMode(db.sqlite) !== "wal") return null;
  const { onDeath } = opts;
  let closed = false;
  const checkpointer = startCheckpointer(db.path, {
    ...opts,
    onDeath: (err) => {
      if (!closed) db.sqlite.run(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      onDeath?.(err);
    },
  });
  db.sqlite.run(`PRAGMA wal_autocheckpoint = ${opts.backstopFrames ?? 20_000}`);
  // When the writer resets the WAL it truncates the file to this size: a WAL that grew in a burst
  // (readers kept it from being reset, or the thread fell behind) gives the space back.
  db.sqlite.run(`PRAGMA journal_size_limit = ${opts.walSizeLimitBytes ?? 16 * 1024 * 1024}`);
  return {
    db: {
      ...db,
      close() {
        closed = true;
        checkpointer.stop();
        db.close();
      },
    },
    commitGate: () => checkpointer.commitGate(),
  };
}
