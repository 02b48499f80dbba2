// Raw prepared SQL (job-statements.ts): the webhook's insert is the hottest statement of the service.
import { readyOnInsert } from "../job-rules";
import type { InsertResult, NewJob } from "../types";
import type { JobStatements } from "./job-statements";

/**
 * Inserts jobs inside the caller's transaction (the group commit). A job with an order_key is
 * ready only when its chain has nothing unfinished (job-rules.ts). A dedupe_key seen before is not
 * inserted again: the existing job's id comes back with inserted = false.
 */
export function insertJobs(stmts: JobStatements, jobs: readonly NewJob[], now: number): InsertResult[] {
  const out: InsertResult[] = new Array(jobs.length);
  const chainBusy = (orderKey: string) => !!stmts.chainBusy.get(orderKey);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    const ready = readyOnInsert(j.orderKey, chainBusy);
    const row = stmts.insert.get(j.kind, j.dedupeKey, j.orderKey, j.seq, ready, j.payload, j.maxAttempts, j.runAt, now);
    if (row) out[i] = { id: row.id, inserted: true };
    else out[i] = { id: stmts.idByDedupeKey.get(j.dedupeKey)?.id ?? 0, inserted: false };
  }
  return out;
}
