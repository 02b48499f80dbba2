// Raw prepared SQL (job-statements.ts): the webhook's insert is the hottest statement of the service.
import type { InsertResult, NewJob } from "../types";
import type { ChainOrder } from "./chains/chain-order";
import type { JobStatements } from "./job-statements";

/**
 * Inserts jobs inside the caller's transaction (the group commit). A job with an order_key is
 * ready only when its chain has nothing unfinished, else it waits its turn (chains/). A dedupe_key
 * seen before is not inserted again: the existing job's id comes back with inserted = false.
 */
export function insertJobs(stmts: JobStatements, chains: ChainOrder, jobs: readonly NewJob[], now: number): InsertResult[] {
  const out: InsertResult[] = new Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    const place = j.orderKey === null ? null : chains.place(j.orderKey, j.seq);
    const row = stmts.insert.get(j.kind, j.dedupeKey, j.orderKey, j.seq, place ? 0 : 1, place?.prevId ?? null, j.payload, j.maxAttempts, j.runAt, now);
    if (row && j.orderKey !== null) chains.join(j.orderKey, row.id, j.seq, place);
    if (row) out[i] = { id: row.id, inserted: true };
    else out[i] = { id: stmts.idByDedupeKey.get(j.dedupeKey)?.id ?? 0, inserted: false };
  }
  return out;
}
