// Raw SQL: the delete must walk the partial index jobs_finished (its states as literals) in bounded batches.
import type { SQL } from "bun";
import { PRUNE_BATCH } from "../job-rules";

// = ANY(ARRAY(…)), not IN (…): the ids are collected first and deleted by primary key; with IN the
// generic plan joins them against a sequential scan of the whole table.
export const PRUNE = `DELETE FROM jobs WHERE id = ANY(ARRAY(
    SELECT id FROM jobs WHERE state IN ('done', 'discarded') AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`;

/**
 * Deletes done and discarded jobs finished before a cut-off, one bounded batch per statement
 * (autocommit: no transaction runs long). Gateways pruning at the same moment skip each other's
 * locked rows instead of queueing behind them.
 */
export async function pruneFinished(sql: SQL, cutoff: number, batch = PRUNE_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await sql.unsafe(PRUNE, [cutoff, batch]);
    total += res.count;
    if (res.count < batch) return total;
  }
}
