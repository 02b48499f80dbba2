// Raw SQL shared by the job hot path (insert, claim, finish): column list and row mapping.
import type { Job } from "../rows";

/** Column list mapping snake_case to the Job row shape; shared by every RETURNING and raw SELECT. */
export const JOB_COLUMNS = `id, kind, dedupe_key AS "dedupeKey", order_key AS "orderKey", seq, ready, payload, state,
  attempts, max_attempts AS "maxAttempts", run_at AS "runAt", lease_until AS "leaseUntil", lease_owner AS "leaseOwner",
  last_error AS "lastError", errors, created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

/** A job row as the driver returns it: int8 columns arrive as strings. */
type RawJob = Omit<Job, "id" | "seq" | "runAt" | "leaseUntil" | "createdAt" | "startedAt" | "finishedAt"> & {
  id: string;
  seq: string;
  runAt: string;
  leaseUntil: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/** int8 columns back to numbers: ids and unix milliseconds stay far below 2^53. */
export function toJob(r: RawJob): Job {
  return {
    ...r,
    id: Number(r.id),
    seq: Number(r.seq),
    runAt: Number(r.runAt),
    leaseUntil: num(r.leaseUntil),
    createdAt: Number(r.createdAt),
    startedAt: num(r.startedAt),
    finishedAt: num(r.finishedAt),
  };
}

export function toJobs(rows: readonly RawJob[]): Job[] {
  return rows.map(toJob);
}
