import type { Database } from "bun:sqlite";

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
  readonly stats: WriterStats;
  /** Commits what is queued now (used at shutdown). */
  flush(): void;
}

interface Queued {
  op: WriteOp<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface WriterOptions {
  /** Called after each commit with the number of ops it carried and how long it took. */
  onCommit?: (ops: number, seconds: number) => void;
  onFailure?: (err: unknown, ops: number) => void;
}

/**
 * Group commit. Every write in the process (new updates, claims, completions) goes through here;
 * all ops queued during one event-loop turn share one IMMEDIATE transaction and so one fsync.
 * bun:sqlite is synchronous, so while a commit is in flight the loop is blocked and new requests
 * pile up in the socket buffers; they all land in the next batch. A promise resolves only after
 * COMMIT returned, which is what lets the webhook answer 200 only for durable updates.
 */
export function createWriter(sqlite: Database, opts: WriterOptions = {}): Writer {
  let queue: Queued[] = [];
  let scheduled = false;
  const stats: WriterStats = { transactions: 0, ops: 0, failures: 0 };
  const begin = sqlite.prepare("BEGIN IMMEDIATE");
  const commit = sqlite.prepare("COMMIT");
  const rollback = sqlite.prepare("ROLLBACK");

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const started = performance.now();
    const results: unknown[] = new Array(batch.length);
    try {
      begin.run();
      try {
        for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.op();
        commit.run();
      } catch (err) {
        if (sqlite.inTransaction) rollback.run();
        throw err;
      }
    } catch (err) {
      stats.failures++;
      opts.onFailure?.(err, batch.length);
      for (const q of batch) q.reject(err);
      return;
    }
    stats.transactions++;
    stats.ops += batch.length;
    opts.onCommit?.(batch.length, (performance.now() - started) / 1000);
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
  }

  return {
    stats,
    flush,
    run<T>(op: WriteOp<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
