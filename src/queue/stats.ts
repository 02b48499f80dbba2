import type { Database } from "bun:sqlite";
import type { QueueSnapshot } from "../metrics";

/** Queue figures for /metrics and the admin API, read with the store's indexes. */
export function createQueueStats(sqlite: Database, clock: () => number = Date.now) {
  const byStateKind = sqlite.prepare<{ state: string; kind: string; count: number }, []>(
    "SELECT state, kind, count(*) AS count FROM jobs INDEXED BY jobs_state_kind GROUP BY state, kind",
  );
  // The oldest job that could run now but has not: how far behind the worker is.
  const oldestRunnable = sqlite.prepare<{ runAt: number | null }, [number]>(
    "SELECT min(run_at) AS runAt FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ?",
  );
  return {
    snapshot(): QueueSnapshot {
      const now = clock();
      const runAt = oldestRunnable.get(now)?.runAt ?? null;
      return { byStateKind: byStateKind.all(), oldestPendingAgeSeconds: runAt === null ? 0 : Math.max(0, (now - runAt) / 1000) };
    },
  };
}

export type QueueStats = ReturnType<typeof createQueueStats>;
