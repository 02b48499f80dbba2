// Raw prepared SQL (job-statements.ts): claims run back to back while the worker drains a backlog.
import type { Job } from "../rows";
import type { ExpiredLease } from "../types";
import type { ChainOrder } from "./chains/chain-order";
import type { JobStatements } from "./job-statements";

const EXPIRED_LEASE_ERROR = "lease expired: the process running it crashed or stalled";

/** Returns running jobs whose lease ran out to pending (or dead when their attempts are spent, handing the chain on). */
export function expireLeases(stmts: JobStatements, chains: ChainOrder, now: number): ExpiredLease[] {
  const expired = stmts.expireLeases.all(now, EXPIRED_LEASE_ERROR, now);
  for (const e of expired) if (e.state === "dead" && e.orderKey) chains.handOff(e.orderKey, e.id);
  return expired;
}

/**
 * Claims up to `limit` ready pending jobs in run_at order, in one statement: the UPDATE holds
 * SQLite's write lock, so two processes on one file can never claim the same job.
 */
export function claimJobs(stmts: JobStatements, opts: { owner: string; leaseMs: number; limit: number; now: number }): Job[] {
  if (opts.limit <= 0) return [];
  return stmts.claim.all(opts.owner, opts.now + opts.leaseMs, opts.now, opts.now, opts.limit);
}
