// Raw prepared SQL with INDEXED BY: every statement must stay an index seek or a bounded walk (the
// scrape blocks the event loop while it runs); test/store/sqlite-engine.test.ts checks the plans.
import type { Database } from "bun:sqlite";
import { COUNTED_STATES, QUEUE_COUNT_LIMIT } from "../job-rules";
import type { QueueSnapshot } from "../types";

/**
 * Queue figures for /metrics and the admin API. Every query is an index seek or a bounded walk of
 * jobs_state_kind (state, kind, id), so the cost does not grow with the backlog (an exact
 * GROUP BY over jobs_state_kind walked every entry: ~110 ms per scrape at 1 M pending, during which
 * bun:sqlite blocks the event loop and so the webhook; see bench/metrics-scrape.ts):
 * - kinds present in a state are found by skip-scan (one seek per kind);
 * - pending/running/discarded/dead are counted exactly up to QUEUE_COUNT_LIMIT per kind;
 * - done jobs (millions under a 7-day retention) are estimated by the id span they cover, two
 *   seeks per kind. Ids grow with creation and retention prunes in finish order, so the span is
 *   close to the count; it is an upper bound (it also covers unfinished jobs created in between
 *   and ids skipped by duplicate inserts).
 */
export function createQueueStats(sqlite: Database, clock: () => number) {
  const nextKind = sqlite.prepare<{ kind: string | null }, [string, string]>(
    "SELECT min(kind) AS kind FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind > ?2",
  );
  const boundedCount = sqlite.prepare<{ count: number }, [string, string, number]>(
    "SELECT count(*) AS count FROM (SELECT 1 FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2 LIMIT ?3)",
  );
  const minId = sqlite.prepare<{ id: number | null }, [string, string]>(
    "SELECT min(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2",
  );
  const maxId = sqlite.prepare<{ id: number | null }, [string, string]>(
    "SELECT max(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2",
  );
  // The oldest job that could run now but has not: how far behind the worker is.
  const oldestRunnable = sqlite.prepare<{ runAt: number | null }, [number]>(
    "SELECT min(run_at) AS runAt FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ?",
  );

  function kindsIn(state: string): string[] {
    const kinds: string[] = [];
    let after = "";
    for (;;) {
      const kind = nextKind.get(state, after)?.kind ?? null;
      if (kind === null) return kinds;
      kinds.push(kind);
      after = kind;
    }
  }

  return {
    snapshot(): QueueSnapshot {
      const now = clock();
      const byStateKind: QueueSnapshot["byStateKind"] = [];
      for (const state of COUNTED_STATES) {
        for (const kind of kindsIn(state)) byStateKind.push({ state, kind, count: boundedCount.get(state, kind, QUEUE_COUNT_LIMIT)?.count ?? 0 });
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (const kind of kindsIn("done")) {
        lo = Math.min(lo, minId.get("done", kind)?.id ?? Infinity);
        hi = Math.max(hi, maxId.get("done", kind)?.id ?? -Infinity);
      }
      const runAt = oldestRunnable.get(now)?.runAt ?? null;
      return {
        byStateKind,
        countLimit: QUEUE_COUNT_LIMIT,
        doneEstimate: hi >= lo ? hi - lo + 1 : 0,
        oldestPendingAgeSeconds: runAt === null ? 0 : Math.max(0, (now - runAt) / 1000),
      };
    },
  };
}
