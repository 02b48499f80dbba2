import type { JobStatements } from "./sql";
import type { EnqueueResult, NewJob } from "./types";

/**
 * Inserts jobs inside the caller's transaction. A job with an order_key is ready only when its
 * chain has nothing unfinished; otherwise it waits for advanceChain. A dedupe_key seen before is
 * not inserted again (the existing job's id is returned with inserted=false).
 */
export function insertJobs(stmts: JobStatements, jobs: readonly NewJob[], now: number): EnqueueResult[] {
  const out: EnqueueResult[] = new Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    const ready = j.orderKey !== null && stmts.chainBusy.get(j.orderKey) ? 0 : 1;
    const row = stmts.insert.get(j.kind, j.dedupeKey, j.orderKey, j.seq, ready, j.payload, j.maxAttempts, j.runAt, now);
    if (row) out[i] = { id: row.id, inserted: true };
    else out[i] = { id: stmts.idByDedupeKey.get(j.dedupeKey)?.id ?? 0, inserted: false };
  }
  return out;
}
