/**
 * One transaction per tick for the webhook's inserts (PostgreSQL's counterpart of the SQLite
 * group commit): every insert() call made during one turn of the event loop joins one batch that
 * runs as one transaction, and each call resolves once that transaction committed. At most
 * `maxInFlight` batches run at once; calls made meanwhile wait and form the next batch, so under
 * load the batches grow instead of the connections running out.
 */

interface Pending<I, O> {
  items: readonly I[];
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
}

export interface TickBatcherOptions<I, O> {
  /** Runs one batch (all items of the tick, in call order) in one transaction; one result per item. */
  exec(items: readonly I[]): Promise<O[]>;
  /** A batch failed with an error one item can cause (not a lost connection): each call then runs alone. */
  splitOnFailure(err: unknown): boolean;
  maxInFlight?: number;
  /** Batch figures for metrics: items carried and seconds from start to commit. */
  onCommit?: (items: number, seconds: number) => void;
  onFailure?: (err: unknown, items: number) => void;
}

export interface TickBatcher<I, O> {
  run(items: readonly I[]): Promise<O[]>;
  /** Resolves once every call made so far has settled (close() waits for this). */
  drain(): Promise<void>;
}

export function createTickBatcher<I, O>(opts: TickBatcherOptions<I, O>): TickBatcher<I, O> {
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  let queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;
  const idle: (() => void)[] = [];

  async function runBatch(batch: Pending<I, O>[]): Promise<void> {
    const items = batch.flatMap((p) => p.items);
    const started = performance.now();
    try {
      const out = await opts.exec(items);
      opts.onCommit?.(items.length, (performance.now() - started) / 1000);
      let at = 0;
      for (const p of batch) {
        p.resolve(out.slice(at, at + p.items.length));
        at += p.items.length;
      }
    } catch (err) {
      opts.onFailure?.(err, items.length);
      if (batch.length > 1 && opts.splitOnFailure(err)) {
        // One bad item must not fail the calls it happened to share a tick with.
        await Promise.all(batch.map((p) => runBatch([p])));
      } else {
        for (const p of batch) p.reject(err);
      }
    }
  }

  function tick(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue;
      queue = [];
      inFlight++;
      runBatch(batch).finally(() => {
        inFlight--;
        if (queue.length > 0) schedule();
        else if (inFlight === 0) for (const done of idle.splice(0)) done();
      });
    }
  }

  function schedule(): void {
    if (!scheduled) {
      scheduled = true;
      setImmediate(tick);
    }
  }

  return {
    run(items) {
      if (items.length === 0) return Promise.resolve([]);
      return new Promise<O[]>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        if (inFlight < maxInFlight) schedule();
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
