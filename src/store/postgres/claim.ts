// Raw SQL: FOR UPDATE SKIP LOCKED, and states written as literals so the partial indexes
// jobs_claim and jobs_lease serve these statements under generic plans.
import type { SQL } from "bun";
import type { Job } from "../rows";
import type { ExpiredLease } from "../types";
import { advanceChains, lockChains } from "./chain";
import { JOB_COLUMNS, toJobs } from "./job-sql";

const EXPIRED_LEASE_ERROR = "lease expired: the process running it crashed or stalled";
/** Expired leases handled per claim round; more wait for the next round. */
const EXPIRE_BATCH = 500;

/**
 * Any gateway's claim round may return any gateway's expired leases: a gateway killed with -9
 * never comes back for them. First a lock-free look through jobs_lease (the common answer is
 * "none", one index probe); when there are some, one transaction takes their chains' locks,
 * then updates the rows that are still running with an expired lease (another gateway may have
 * taken them meanwhile: the re-check skips those), and hands the turn on for those that died.
 */
export const EXPIRED_CANDIDATES = `SELECT id, order_key AS "orderKey" FROM jobs WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT ${EXPIRE_BATCH}`;

export async function expireLeases(sql: SQL, now: number): Promise<ExpiredLease[]> {
  const candidates = await sql.unsafe<{ id: string; orderKey: string | null }[]>(EXPIRED_CANDIDATES, [now]);
  if (candidates.length === 0) return [];
  return sql.begin(async (tx) => {
    await lockChains(tx, candidates.map((c) => c.orderKey));
    const rows = await tx.unsafe<{ id: string; kind: string; seq: string; orderKey: string | null; state: "pending" | "dead" }[]>(
      `UPDATE jobs SET
         state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,
         finished_at = CASE WHEN attempts >= max_attempts THEN $2::int8 ELSE NULL END,
         last_error = $3, lease_owner = NULL, lease_until = NULL
       WHERE id = ANY($1::int8[]) AND state = 'running' AND lease_until < $2
       RETURNING id, kind, seq, order_key AS "orderKey", state`,
      [candidates.map((c) => c.id), now, EXPIRED_LEASE_ERROR],
    );
    await advanceChains(tx, rows.filter((r) => r.state === "dead").map((r) => r.orderKey));
    return rows
      .map((r) => ({ id: Number(r.id), kind: r.kind, seq: Number(r.seq), orderKey: r.orderKey, state: r.state }))
      .sort((a, b) => a.id - b.id);
  });
}

/**
 * Leases up to `limit` ready pending jobs, oldest run_at first, in one statement. FOR UPDATE SKIP
 * LOCKED lets gateways claim side by side: a row another claim has locked is passed over, never
 * waited for and never taken twice, and a row changed since this statement's snapshot is
 * checked again before it is taken. Per-chat order needs nothing more: a chain has at most one
 * ready job, its head (chain.ts keeps that under the chain locks). MATERIALIZED: the locking
 * SELECT runs once, before the UPDATE.
 */
export const CLAIM = `WITH picked AS MATERIALIZED (
    SELECT id AS picked_id FROM jobs
    WHERE state = 'pending' AND ready = 1 AND run_at <= $4
    ORDER BY run_at, id LIMIT $5
    FOR UPDATE SKIP LOCKED)
  UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, started_at = $3, attempts = attempts + 1
  FROM picked WHERE jobs.id = picked.picked_id
  RETURNING ${JOB_COLUMNS}`;

export async function claimJobs(sql: SQL, opts: { owner: string; leaseMs: number; limit: number; now: number }): Promise<Job[]> {
  if (opts.limit <= 0) return [];
  const rows = await sql.unsafe(CLAIM, [opts.owner, opts.now + opts.leaseMs, opts.now, opts.now, opts.limit]);
  return toJobs(rows).sort((a, b) => a.runAt - b.runAt || a.id - b.id);
}
