import type { JobState } from "../db/schema";

export type JobKind = "telegram.update" | "notify.send" | (string & {});

export interface NewJob {
  kind: JobKind;
  dedupeKey: string;
  orderKey: string | null;
  /** Position in the order_key chain (update_id for updates); jobs without one use 0 and run by id. */
  seq: number;
  payload: string;
  maxAttempts: number;
  runAt: number;
}

/** A job row as the worker and the admin API see it (times are unix milliseconds). */
export interface JobRow {
  id: number;
  kind: JobKind;
  dedupeKey: string;
  orderKey: string | null;
  seq: number;
  ready: number;
  payload: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAt: number;
  leaseUntil: number | null;
  leaseOwner: string | null;
  lastError: string | null;
  errors: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface EnqueueResult {
  id: number;
  inserted: boolean;
}

export interface AttemptError {
  attempt: number;
  at: number;
  error: string;
}
