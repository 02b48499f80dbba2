// Raw SQL: a recursive skip scan and bounded counts the builder cannot express; states are
// literals or array elements walked one index seek at a time (test/store/postgres-engine.test.ts
// checks the plans).
import type { SQL } from "bun";
import { COUNTED_STATES, QUEUE_COUNT_LIMIT } from "../job-rules";
import type { QueueSnapshot } from "../types";

/**
 * The same figures as the SQLite engine's (sqlite/stats.ts), read so the cost does not grow with
 * the backlog:
 * - kinds present in a state: PostgreSQL before 18 has no skip scan, so a recursive query walks
 *   jobs_state_kind (state, kind, id) one seek per kind;
 * - pending/running/discarded/dead counted exactly up to QUEUE_COUNT_LIMIT per kind (a LIMIT
 *   inside the count stops the walk);
 * - done jobs estimated by their id span per kind (two seeks each), an upper bound.
 * Every gateway reads the same shared table, so every gateway reports the same queue.
 */
export const BY_STATE_KIND = `WITH RECURSIVE sk(state, kind) AS (
    SELECT s, (SELECT kind FROM jobs WHERE state = s ORDER BY kind LIMIT 1) FROM unnest($1::text[]) AS s
    UNION ALL
    SELECT sk.state, (SELECT kind FROM jobs WHERE state = sk.state AND kind > sk.kind ORDER BY kind LIMIT 1)
    FROM sk WHERE sk.kind IS NOT NULL)
  SELECT state, kind,
    CASE WHEN state <> 'done' THEN (SELECT count(*)::int FROM (SELECT 1 FROM jobs j WHERE j.state = sk.state AND j.kind = sk.kind LIMIT $2) c) END AS n,
    CASE WHEN state = 'done' THEN (SELECT min(id)::text FROM jobs j WHERE j.state = 'done' AND j.kind = sk.kind) END AS lo,
    CASE WHEN state = 'done' THEN (SELECT max(id)::text FROM jobs j WHERE j.state = 'done' AND j.kind = sk.kind) END AS hi
  FROM sk WHERE kind IS NOT NULL`;

// The oldest job that could run now but has not: how far behind the workers are.
export const OLDEST_RUNNABLE = `SELECT min(run_at)::text AS "runAt" FROM jobs WHERE state = 'pending' AND ready = 1 AND run_at <= $1`;

export async function queueSnapshot(sql: SQL, now: number): Promise<QueueSnapshot> {
  const rows = await sql.unsafe<{ state: string; kind: string; n: number | null; lo: string | null; hi: string | null }[]>(BY_STATE_KIND, [
    [...COUNTED_STATES, "done"],
    QUEUE_COUNT_LIMIT,
  ]);
  const [oldest] = await sql.unsafe<{ runAt: string | null }[]>(OLDEST_RUNNABLE, [now]);
  const byStateKind: QueueSnapshot["byStateKind"] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    if (r.state === "done") {
      if (r.lo !== null) lo = Math.min(lo, Number(r.lo));
      if (r.hi !== null) hi = Math.max(hi, Number(r.hi));
    } else {
      byStateKind.push({ state: r.state as QueueSnapshot["byStateKind"][number]["state"], kind: r.kind, count: r.n ?? 0 });
    }
  }
  const runAt = oldest?.runAt == null ? null : Number(oldest.runAt);
  return {
    byStateKind,
    countLimit: QUEUE_COUNT_LIMIT,
    doneEstimate: hi >= lo ? hi - lo + 1 : 0,
    oldestPendingAgeSeconds: runAt === null ? 0 : Math.max(0, (now - runAt) / 1000),
  };
}
