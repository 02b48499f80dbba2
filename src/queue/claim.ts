import type { JobStatements } from "./sql";
import type { JobRow } from "./types";

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  limit: number;
  now: number;
  /** Also return expired leases to the queue in this round (default true; the worker does it once a second). */
  expireLeases?: boolean;
}

export interface ExpiredLease {
  id: number;
  kind: string;
  seq: number;
  orderKey: string | null;
  state: string;
}

/** Returns running jobs whose lease ran out to pending (or dead when their attempts are spent). */
export function expireLeases(stmts: JobStatements, now: number): ExpiredLease[] {
  const expired = stmts.expireLeases.all(now, "lease expired: the process running it crashed or stalled", now);
  for (const e of expired) if (e.state === "dead" && e.orderKey) stmts.advanceChain.run(e.orderKey);
  return expired;
}

/**
 * Claims up to `limit` ready pending jobs in run_at order, in one statement: the UPDATE holds
 * SQLite's write lock, so two processes on one file can never claim the same job.
 */
export function claimJobs(stmts: JobStatements, opts: ClaimOptions): JobRow[] {
  if (opts.limit <= 0) return [];
  return stmts.claim.all(opts.owner, opts.now + opts.leaseMs, opts.now, opts.now, opts.limit) as unknown as JobRow[];
}
