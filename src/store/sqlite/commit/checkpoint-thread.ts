/**
 * Entry of the WAL checkpoint thread (a Bun Worker, started by checkpointer.ts; `make build`
 * compiles it as an extra entrypoint). It copies WAL frames into the database file on its own
 * SQLite connection, so the main thread's COMMITs no longer stop for a checkpoint's page writes
 * and fsyncs.
 *
 * When: every pollMs it reads the WAL's frame counters from the -shm file (wal-index.ts: one
 * 136-byte pread, no SQLite call) and checkpoints once copyFrames frames are not yet in the
 * database. Polling costs the main thread nothing; a nudge per commit would cost it a message
 * and would still not say how many frames a commit wrote. Besides, on "catch_up" (the writer is
 * holding its commits because the WAL is long) it copies everything at once: SQLite resets the
 * WAL to its start only in a write that begins after a checkpoint has caught up completely,
 * which a concurrent checkpoint rarely manages while the writer keeps committing.
 *
 * PASSIVE never takes the write lock and never waits, so the main connection is never blocked
 * by this one; frames that readers still need stay for the next round.
 */
import { Database } from "bun:sqlite";
import type { CheckpointSettings, FromCheckpointThread, ToCheckpointThread } from "./checkpoint-messages";
import { journalMode } from "../pragmas";
import { openWalIndex, type WalIndexReader } from "./wal-index";

declare const self: Worker;

const FAILED_RETRY_MS = 1000;

const post = (m: FromCheckpointThread) => self.postMessage(m);
const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

let thread: { catchUp(): void; stop(): void } | null = null;

self.onmessage = (e: MessageEvent) => {
  const msg = e.data as ToCheckpointThread;
  if (msg.t === "start" && !thread) {
    try {
      thread = start(msg.settings);
      post({ t: "ready" });
    } catch (err) {
      signalClosed(msg.settings.closed);
      post({ t: "error", message: `checkpoint thread could not start on ${msg.settings.path}: ${describe(err)}`, fatal: true });
    }
  } else if (msg.t === "catch_up") {
    thread?.catchUp();
    post({ t: "caught_up", id: msg.id });
  } else if (msg.t === "stop") {
    thread?.stop();
    thread = null;
    post({ t: "stopped" });
  }
};

function signalClosed(closed: SharedArrayBuffer): void {
  const flag = new Int32Array(closed);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function start(s: CheckpointSettings) {
  const db = new Database(s.path, { readwrite: true, create: false, strict: true });
  let wal: WalIndexReader | null = null;
  try {
    db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(s.busyTimeoutMs))}`);
    const mode = journalMode(db);
    if (mode !== "wal") throw new Error(`the database is in journal_mode=${mode}, not WAL`);
    // In WAL mode NORMAL and FULL differ only in FULL's sync of the WAL at each COMMIT, and this
    // connection never commits. At either, a checkpoint syncs the WAL before copying frames and
    // the database file after a complete checkpoint, before the WAL may be reused
    // (https://www.sqlite.org/pragma.html#pragma_synchronous); only OFF would skip those syncs.
    db.run("PRAGMA synchronous = NORMAL");
    // A read makes this connection map the -shm file, which therefore exists from here on.
    db.query("SELECT count(*) FROM sqlite_master").get();
    wal = openWalIndex(s.path);
  } catch (err) {
    db.close();
    throw err;
  }
  const walIndex = wal;
  const checkpointStmt = db.prepare<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)");
  let lastError = "";

  /** One PASSIVE checkpoint; null when it failed (reported). */
  function checkpoint() {
    try {
      const r = checkpointStmt.get();
      lastError = "";
      if (r && r.log > 0) post({ t: "checkpointed", busy: r.busy, log: r.log, checkpointed: r.checkpointed });
      return r;
    } catch (err) {
      // Report each new failure once (a full disk would otherwise log every poll); keep trying:
      // until it succeeds, the main connection's own autocheckpoint bounds the WAL.
      const message = `WAL checkpoint of ${s.path} failed: ${describe(err)}`;
      if (message !== lastError) post({ t: "error", message, fatal: false });
      lastError = message;
      return null;
    }
  }

  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = setTimeout(round, s.pollMs);
  function round(): void {
    timer = null;
    const p = walIndex.read();
    // Header unreadable: checkpoint anyway (a PASSIVE checkpoint with nothing to copy does no I/O).
    const behind = p ? p.frames - p.backfilled : s.copyFrames;
    let next = s.pollMs;
    if (behind >= s.copyFrames) {
      const r = checkpoint();
      // The writer kept writing during the copy: go again at once while enough is waiting.
      if (r && r.checkpointed > 0 && r.log - r.checkpointed >= s.copyFrames) next = 0;
      // A failing checkpoint (disk full, I/O error) is retried once a second, not every poll.
      if (!r) next = Math.max(s.pollMs, FAILED_RETRY_MS);
    }
    if (!closed) timer = setTimeout(round, next);
  }

  return {
    /** Copies every frame it may (the writer is holding its commits). */
    catchUp(): void {
      for (let i = 0; i < 3; i++) {
        const r = checkpoint();
        // Done, failed (reported), or readers still need frames: the next hold tries again.
        if (!r || r.checkpointed >= r.log || r.busy) return;
      }
    },
    stop() {
      closed = true;
      if (timer) clearTimeout(timer);
      try {
        walIndex.close();
        db.close();
      } catch (err) {
        post({ t: "error", message: `closing the checkpoint connection failed: ${describe(err)}`, fatal: false });
      } finally {
        signalClosed(s.closed);
      }
    },
  };
}
