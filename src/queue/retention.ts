import type { Database } from "bun:sqlite";
import type { Writer } from "../db/writer";

/** Telegram keeps undelivered updates for 24 h: the dedupe window must never be shorter. */
export const MIN_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The cut-off before which done jobs may be deleted. Pure. */
export function retentionCutoff(now: number, retentionDays: number): number {
  return now - Math.max(MIN_RETENTION_MS, retentionDays * MIN_RETENTION_MS);
}

/** Deletes done jobs finished before the cut-off, a bounded batch per call so no commit runs long. */
export function createPruner(sqlite: Database, writer: Writer, batch = 2000) {
  const del = sqlite.prepare<unknown, [number, number]>(
    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'done' AND finished_at < ? LIMIT ?)",
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
