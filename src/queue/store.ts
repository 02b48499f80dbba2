import type { Database } from "bun:sqlite";
import type { Writer } from "../db/writer";
import { claimJobs, expireLeases, type ClaimOptions, type ExpiredLease } from "./claim";
import { insertJobs } from "./enqueue";
import { finishJob, type Finish, type FinishTarget } from "./finish";
import { prepareJobStatements, type JobStatements } from "./sql";
import type { EnqueueResult, JobRow, NewJob } from "./types";

/**
 * The job store: the only surface through which ingress, worker, admin and metrics touch jobs.
 * Writes go through the group-commit writer, so each resolves once it is durable.
 */
export interface JobStore {
  enqueue(jobs: NewJob[]): Promise<EnqueueResult[]>;
  /**
   * Claims up to `limit` jobs. A function limit is read inside the transaction, when the claim
   * runs: the worker sizes one claim per commit by the slots free at that moment.
   */
  claim(opts: Omit<ClaimOptions, "limit"> & { limit: number | (() => number) }): Promise<{ expired: ExpiredLease[]; jobs: JobRow[] }>;
  finish(job: FinishTarget, f: Finish): Promise<boolean>;
  releaseOwnPrevious(instancePrefix: string, owner: string): Promise<number>;
  byId(id: number): JobRow | null;
  byDedupeKey(key: string): JobRow | null;
  /** Earliest moment something may become claimable (pending run_at or a lease expiry). */
  nextWakeAt(): number | null;
  readonly statements: JobStatements;
}

export function createJobStore(sqlite: Database, writer: Writer, clock: () => number = Date.now): JobStore {
  const stmts = prepareJobStatements(sqlite);
  return {
    statements: stmts,
    enqueue: (jobs) => writer.run(() => insertJobs(stmts, jobs, clock())),
    claim: (opts) =>
      writer.run(() => {
        const expired = opts.expireLeases === false ? [] : expireLeases(stmts, opts.now);
        const limit = typeof opts.limit === "function" ? opts.limit() : opts.limit;
        return { expired, jobs: claimJobs(stmts, { ...opts, limit }) };
      }),
    finish: (job, f) => writer.run(() => finishJob(stmts, job, f, clock())),
    releaseOwnPrevious: (prefix, owner) =>
      writer.run(() => stmts.releaseOwnPrevious.all(`${prefix.replace(/[\\%_]/g, "\\$&")}%`, owner).length),
    byId: (id) => (stmts.byId.get(id) as unknown as JobRow | null) ?? null,
    byDedupeKey: (key) => (stmts.byDedupeKey.get(key) as unknown as JobRow | null) ?? null,
    nextWakeAt() {
      const a = stmts.nextRunAt.get()?.runAt ?? null;
      const b = stmts.nextLeaseExpiry.get()?.leaseUntil ?? null;
      if (a === null) return b;
      if (b === null) return a;
      return Math.min(a, b);
    },
  };
}
