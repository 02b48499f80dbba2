// The PostgreSQL JobStore: hot-path writes (insert, claim, finish) are raw SQL (insert.ts,
// claim.ts, finish.ts); lookups and the operator's page use drizzle's builder (admin.ts); the
// snapshot and the pruner live in stats.ts and prune.ts.
import type { InsertResult, JobStore, NewJob } from "../types";
import { createPgJobAdmin } from "./admin";
import { createTickBatcher } from "./batcher";
import { claimJobs, expireLeases } from "./claim";
import type { Pg } from "./connection";
import { isConnectionError, retryOnReconnect } from "./errors";
import { finishBatch, type FinishItem } from "./finish";
import { insertBatch } from "./insert";
import { pruneFinished } from "./prune";
import { queueSnapshot } from "./stats";

export interface PgJobStoreOptions {
  clock: () => number;
  /** Tick-batch figures (the same metrics as SQLite's group commits). */
  onCommit?: (ops: number, seconds: number) => void;
  onCommitFailure?: (err: unknown, ops: number) => void;
}

export const RELEASE_OWN_PREVIOUS = `UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_until = NULL,
    attempts = greatest(attempts - 1, 0), last_error = 'released at restart: the previous process of this instance stopped while running it'
  WHERE state = 'running' AND lease_owner LIKE $1 ESCAPE '\\' AND lease_owner <> $2
  RETURNING id`;

export const NEXT_WAKE = `SELECT (SELECT min(run_at) FROM jobs WHERE state = 'pending' AND ready = 1)::text AS "runAt",
  (SELECT min(lease_until) FROM jobs WHERE state = 'running')::text AS "leaseUntil"`;

export interface PgJobStore extends JobStore {
  /** Resolves once every insert queued so far has committed or failed (close() waits for it). */
  drain(): Promise<void>;
}

/**
 * Every write resolves once its transaction committed with synchronous_commit on. Inserts made in
 * one tick share one transaction (batcher.ts); reads and the statements that are safe to repeat
 * go again on a fresh connection when theirs dropped (errors.ts). The worker's finishes of one tick
 * share a transaction as well (finish.ts). A finish is not repeated: the worker treats a failed
 * finish as a lost lease, and the job's lease expiry covers the rest.
 */
export function createPgJobStore(pg: Pg, opts: PgJobStoreOptions): PgJobStore {
  const { sql } = pg;
  const { clock } = opts;
  const admin = createPgJobAdmin(pg, clock);
  // The worker's finishes of one tick share a transaction too; a failure is never repeated (see above).
  const finishes = createTickBatcher<FinishItem, boolean>({
    exec: (items) => finishBatch(sql, items, clock()),
    splitOnFailure: (err) => !isConnectionError(err),
  });
  const inserts = createTickBatcher<NewJob, InsertResult>({
    exec: (items) => retryOnReconnect(() => insertBatch(sql, items, clock())),
    splitOnFailure: (err) => !isConnectionError(err),
    onCommit: opts.onCommit,
    onFailure: opts.onCommitFailure,
  });
  return {
    insert: (batch) => inserts.run(batch),
    drain: async () => {
      await inserts.drain();
      await finishes.drain();
    },
    async claim(o) {
      const expired = o.expireLeases === false ? [] : await retryOnReconnect(() => expireLeases(sql, o.now));
      const limit = typeof o.limit === "function" ? o.limit() : o.limit;
      const jobs = await retryOnReconnect(() => claimJobs(sql, { owner: o.owner, leaseMs: o.leaseMs, now: o.now, limit }));
      return { expired, jobs };
    },
    finish: async (job, f) => (await finishes.run([{ job, f }]))[0]!,
    async releaseOwnPrevious(prefix, owner) {
      const rows = await sql.unsafe(RELEASE_OWN_PREVIOUS, [`${prefix.replace(/[\\%_]/g, "\\$&")}%`, owner]);
      return rows.length;
    },
    byId: (id) => retryOnReconnect(() => admin.byId(id)),
    byDedupeKey: (key) => retryOnReconnect(() => admin.byDedupeKey(key)),
    async nextWakeAt() {
      const [row] = await retryOnReconnect(() => sql.unsafe<{ runAt: string | null; leaseUntil: string | null }[]>(NEXT_WAKE));
      const a = row?.runAt == null ? null : Number(row.runAt);
      const b = row?.leaseUntil == null ? null : Number(row.leaseUntil);
      return a === null ? b : b === null ? a : Math.min(a, b);
    },
    list: (f) => retryOnReconnect(() => admin.list(f)),
    retry: (id) => admin.retry(id),
    retryDead: (limit) => admin.retryDead(limit),
    stats: () => retryOnReconnect(() => queueSnapshot(sql, clock())),
    prune: (cutoff) => pruneFinished(sql, cutoff),
  };
}
