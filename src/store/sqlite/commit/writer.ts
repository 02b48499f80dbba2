import type { Database } from "bun:sqlite";
import type { WalSync } from "./wal-sync";

/** One unit of work for the writer: synchronous statements that run inside the tick's transaction. */
export type WriteOp<T> = () => T;

export interface WriterStats {
  transactions: number;
  ops: number;
  failures: number;
}

export interface Writer {
  /** Queues op for the next commit; resolves with its result once that commit is durable. */
  run<T>(op: WriteOp<T>): Promise<T>;
  /**
   * Queues op for the next commit like run(), but resolves as soon as that COMMIT returned, before
   * the WAL sync: for writes whose loss in a power cut is harmless and that nobody is told about
   * as done (a claim: a lost claim is a job still pending, run again as after an expired lease).
   * COMMIT has written the WAL frames, so a crash of the process alone keeps them; and every
   * later commit is synced after this one (one WAL, in order), so a durable finish implies its
   * claim. Not for anything acknowledged to the outside (inserts, finishes).
   */
  runAtCommit<T>(op: WriteOp<T>): Promise<T>;
  readonly stats: WriterStats;
  /** Commits what is queued now and makes every commit durable, blocking (used at shutdown). */
  flush(): void;
}

interface Queued {
  op: WriteOp<unknown>;
  /** Resolved when COMMIT returns (runAtCommit), not when the commit is durable. */
  atCommit: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface WriterOptions {
  /** Called once a batch is durable with the number of ops it carried and the seconds from BEGIN to durable. */
  onCommit?: (ops: number, seconds: number) => void;
  onFailure?: (err: unknown, ops: number) => void;
  /**
   * Makes commits durable off the event loop (see wal-sync.ts). Without it a batch resolves
   * when COMMIT returns: durable or not as the connection's `synchronous` setting says.
   */
  walSync?: WalSync | null;
  /** How often a commit made outside the writer (plain autocommit) is synced at the latest. */
  idleSyncMs?: number;
  /**
   * WAL syncs allowed in flight at once (default 2). One keeps batches biggest; a second lets the
   * next batch commit and start its sync while a slow fsync (a busy disk: tens of ms) is still
   * running, so a slow disk costs latency, not half the throughput.
   */
  maxSyncsInFlight?: number;
  /**
   * Asked before each commit; a promise holds commits (ops keep queueing, the event loop keeps
   * running) until it settles. The checkpoint thread uses it to let the WAL be reset
   * (checkpointer.ts). Not asked by flush().
   */
  commitGate?: () => Promise<void> | null;
  /**
   * Runs first inside each transaction, before its ops: the place to notice what another process
   * changed in the schema since the last batch (chains/access.ts, `tgwh migrate --chain-list`).
   */
  atBegin?: () => void;
}

/**
 * Group commit. Every write in the process (new updates, claims, completions) goes through here.
 * All ops queued meanwhile share one IMMEDIATE transaction and one sync of the WAL:
 * - with walSync, the fsync runs on the thread pool; ops queued while the allowed syncs are in
 *   flight wait and form the next transaction the moment one returns, so the service pays one
 *   fsync per batch and the event loop keeps reading requests during the fsync (that is where
 *   the throughput comes from);
 * - without it, SQLite's COMMIT does its own sync (synchronous=FULL) or none (NORMAL).
 * A promise resolves only after its COMMIT returned and, with walSync, after a sync that started
 * after that COMMIT returned: the webhook answers 200 only for durable updates.
 */
export function createWriter(sqlite: Database, opts: WriterOptions = {}): Writer {
  let queue: Queued[] = [];
  /** How many of the queued ops resolve at COMMIT (runAtCommit): 0 keeps the common batch as it is. */
  let atCommitQueued = 0;
  let scheduled = false;
  /** WAL syncs in flight; at the limit, new ops wait for one to return and then go in one transaction. */
  let syncing = 0;
  const maxSyncs = Math.max(1, opts.maxSyncsInFlight ?? 2);
  const walSync = opts.walSync ?? null;
  const stats: WriterStats = { transactions: 0, ops: 0, failures: 0 };
  const begin = sqlite.prepare("BEGIN IMMEDIATE");
  const commit = sqlite.prepare("COMMIT");
  const rollback = sqlite.prepare("ROLLBACK");
  /** Batches committed but not yet known durable, each with its results (runAtCommit ops already resolved) and its op count. */
  let awaitingSync: { batch: Queued[]; results: unknown[]; started: number; ops: number }[] = [];
  const totalChanges = sqlite.prepare<{ n: number }, []>("SELECT total_changes() AS n");
  let changesAtLastSync = walSync ? (totalChanges.get()?.n ?? 0) : 0;

  function fail(batch: Queued[], err: unknown): void {
    stats.failures++;
    opts.onFailure?.(err, batch.length);
    for (const q of batch) q.reject(err);
  }

  function settle(list: typeof awaitingSync): void {
    for (const { batch, results, started, ops } of list) {
      stats.transactions++;
      stats.ops += ops;
      opts.onCommit?.(ops, (performance.now() - started) / 1000);
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
    }
  }

  /** Runs the queued ops in one transaction; returns false when it failed (already rejected). */
  function commitQueued(): boolean {
    const batch = queue;
    const atCommit = atCommitQueued;
    queue = [];
    atCommitQueued = 0;
    if (batch.length === 0) return true;
    const started = performance.now();
    const results: unknown[] = new Array(batch.length);
    try {
      begin.run();
      try {
        opts.atBegin?.();
        for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.op();
        commit.run();
      } catch (err) {
        if (sqlite.inTransaction) rollback.run();
        throw err;
      }
    } catch (err) {
      fail(batch, err);
      return false;
    }
    let durable = batch;
    let durableResults = results;
    if (atCommit > 0) {
      durable = [];
      durableResults = [];
      for (let i = 0; i < batch.length; i++) {
        const q = batch[i]!;
        if (q.atCommit) q.resolve(results[i]);
        else {
          durable.push(q);
          durableResults.push(results[i]);
        }
      }
    }
    awaitingSync.push({ batch: durable, results: durableResults, started, ops: batch.length });
    return true;
  }

  /** Batches whose sync started, oldest first; a sync that returns settles its own and every older one. */
  const syncOrder: (typeof awaitingSync)[] = [];

  function startSync(): void {
    const list = awaitingSync;
    awaitingSync = [];
    syncing++;
    syncOrder.push(list);
    changesAtLastSync = totalChanges.get()?.n ?? changesAtLastSync;
    walSync!.sync().then(
      () => {
        syncing--;
        // Everything written before this sync started is durable, older batches included.
        const i = syncOrder.indexOf(list);
        for (const older of syncOrder.splice(0, i + 1)) settle(older);
        tick();
      },
      (err) => {
        syncing--;
        const i = syncOrder.indexOf(list);
        if (i >= 0) {
          syncOrder.splice(i, 1);
          for (const { batch } of list) fail(batch, err);
        } // else flush() already synced and settled it
        tick();
      },
    );
  }

  /** A commit gate is holding commits; its settling calls tick again. */
  let gated = false;
  const ungate = () => {
    gated = false;
    tick();
  };

  function tick(): void {
    scheduled = false;
    if (syncing >= maxSyncs || gated) return; // a sync's completion calls tick again
    const hold = queue.length > 0 ? opts.commitGate?.() : null;
    if (hold) {
      gated = true;
      hold.then(ungate, ungate);
      return;
    }
    commitQueued();
    if (!walSync) {
      const list = awaitingSync;
      awaitingSync = [];
      settle(list);
      return;
    }
    if (awaitingSync.length > 0) startSync();
  }

  function schedule(): void {
    if (!scheduled && syncing < maxSyncs && !gated) {
      scheduled = true;
      setImmediate(tick);
    }
  }

  function enqueue<T>(op: WriteOp<T>, atCommit: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ op, atCommit, resolve: resolve as (v: unknown) => void, reject });
      if (atCommit) atCommitQueued++;
      schedule();
    });
  }

  // Writes made outside the writer (rare autocommits on the same connection) run at NORMAL:
  // sync them soon even when no batch comes along.
  if (walSync) {
    const timer = setInterval(() => {
      if (syncing > 0 || scheduled || queue.length > 0) return;
      try {
        if ((totalChanges.get()?.n ?? 0) !== changesAtLastSync) startSync();
      } catch {
        clearInterval(timer); // the database was closed (shutdown)
      }
    }, opts.idleSyncMs ?? 200);
    timer.unref?.();
  }

  return {
    stats,
    flush() {
      scheduled = false;
      commitQueued();
      const list = [...syncOrder.splice(0).flat(), ...awaitingSync];
      awaitingSync = [];
      if (walSync) {
        try {
          changesAtLastSync = totalChanges.get()?.n ?? changesAtLastSync;
          walSync.syncNow();
        } catch (err) {
          for (const { batch } of list) fail(batch, err);
          return;
        }
      }
      settle(list);
    },
    run<T>(op: WriteOp<T>): Promise<T> {
      return enqueue(op, false);
    },
    runAtCommit<T>(op: WriteOp<T>): Promise<T> {
      return enqueue(op, true);
    },
  };
}
