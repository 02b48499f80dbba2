// Raw prepared SQL: the hot path (insert, claim, finish) runs these once per job inside the group
// commit, where a query builder's per-call work would cost throughput; `INDEXED BY` pins the plans.
import type { Database } from "bun:sqlite";
import type { Job } from "../rows";
import type { ExpiredLease } from "../types";

/** Column list mapping snake_case to the Job row shape; shared by every SELECT/RETURNING. */
export const JOB_COLUMNS = `id, kind, dedupe_key AS dedupeKey, order_key AS orderKey, seq, ready, payload, state,
  attempts, max_attempts AS maxAttempts, run_at AS runAt, lease_until AS leaseUntil, lease_owner AS leaseOwner,
  last_error AS lastError, errors, created_at AS createdAt, started_at AS startedAt, finished_at AS finishedAt`;

/** The prepared statements of the SQLite job hot path (insert.ts, claim.ts, finish.ts, jobs.ts); the chain's are in chains/. */
export function prepareJobStatements(sqlite: Database) {
  return {
    insert: sqlite.prepare<{ id: number }, [string, string, string | null, number, number, number | null, string, number, number, number]>(
      `INSERT INTO jobs (kind, dedupe_key, order_key, seq, ready, prev_id, payload, max_attempts, run_at, created_at, state, attempts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    ),
    idByDedupeKey: sqlite.prepare<{ id: number }, [string]>("SELECT id FROM jobs WHERE dedupe_key = ?"),
    // Leases that ran out: the holder crashed or stalled. Attempts left → pending again, else dead.
    expireLeases: sqlite.prepare<ExpiredLease, [number, string, number]>(
      `UPDATE jobs SET
         state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,
         finished_at = CASE WHEN attempts >= max_attempts THEN ?3 ELSE NULL END,
         last_error = ?2, lease_owner = NULL, lease_until = NULL
       WHERE state = 'running' AND lease_until < ?1
       RETURNING id, kind, seq, order_key AS orderKey, state`,
    ),
    // Jobs of a previous run of this same instance (same name, other pid): it is gone, so they
    // need not wait for their lease to expire.
    releaseOwnPrevious: sqlite.prepare<{ id: number }, [string, string]>(
      `UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_until = NULL,
         attempts = max(attempts - 1, 0), last_error = 'released at restart: the previous process of this instance stopped while running it'
       WHERE state = 'running' AND lease_owner LIKE ? ESCAPE '\\' AND lease_owner <> ?
       RETURNING id`,
    ),
    claim: sqlite.prepare<Job, [string, number, number, number, number]>(
      `UPDATE jobs SET state = 'running', lease_owner = ?1, lease_until = ?2, started_at = ?3, attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM jobs INDEXED BY jobs_claim
         WHERE state = 'pending' AND ready = 1 AND run_at <= ?4
         ORDER BY run_at, id LIMIT ?5)
       RETURNING ${JOB_COLUMNS}`,
    ),
    // done, discarded or dead: the state is a parameter.
    finish: sqlite.prepare<unknown, [string, number, string | null, string | null, number, string]>(
      `UPDATE jobs SET state = ?1, finished_at = ?2, last_error = ?3, errors = coalesce(?4, errors),
         lease_owner = NULL, lease_until = NULL
       WHERE id = ?5 AND state = 'running' AND lease_owner = ?6`,
    ),
    retry: sqlite.prepare<unknown, [number, string, string | null, number, number, string]>(
      `UPDATE jobs SET state = 'pending', run_at = ?1, last_error = ?2, errors = coalesce(?3, errors),
         attempts = attempts - ?4, lease_owner = NULL, lease_until = NULL
       WHERE id = ?5 AND state = 'running' AND lease_owner = ?6`,
    ),
    nextRunAt: sqlite.prepare<{ runAt: number | null }, []>(
      "SELECT min(run_at) AS runAt FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1",
    ),
    nextLeaseExpiry: sqlite.prepare<{ leaseUntil: number | null }, []>(
      "SELECT min(lease_until) AS leaseUntil FROM jobs WHERE state = 'running'",
    ),
  };
}

export type JobStatements = ReturnType<typeof prepareJobStatements>;
