// Raw prepared SQL: the delete must walk the partial index jobs_finished (INDEXED BY) in bounded batches.
import type { Database } from "bun:sqlite";
import { PRUNE_BATCH } from "../job-rules";
import type { Writer } from "./commit/writer";

/** Deletes done and discarded jobs finished before a cut-off, one bounded batch per group commit. */
export function createPruner(sqlite: Database, writer: Writer, batch = PRUNE_BATCH) {
  // `state = 'done' OR state = 'discarded'` matches the index's WHERE term for term (schema.ts).
  const del = sqlite.prepare<unknown, [number, number]>(
    `DELETE FROM jobs WHERE id IN (
       SELECT id FROM jobs INDEXED BY jobs_finished
       WHERE (state = 'done' OR state = 'discarded') AND finished_at < ? LIMIT ?)`,
  );
  return {
    /** Prunes until nothing is left before the cut-off; returns how many rows went. */
    async prune(cutoff: number): Promise<number> {
      let total = 0;
      for (;;) {
        const n = await writer.run(() => del.run(cutoff, batch).changes);
        total += n;
        if (n < batch) return total;
      }
    },
  };
}
