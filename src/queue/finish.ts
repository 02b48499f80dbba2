import type { JobStatements } from "./sql";
import type { AttemptError } from "./types";

const MAX_KEPT_ERRORS = 20;

/** Appends one attempt's error to the JSON history, keeping the newest MAX_KEPT_ERRORS. */
export function appendAttemptError(history: string | null, entry: AttemptError): string {
  let list: AttemptError[] = [];
  if (history) {
    try {
      const parsed = JSON.parse(history);
      if (Array.isArray(parsed)) list = parsed;
    } catch {
      list = [];
    }
  }
  list.push(entry);
  return JSON.stringify(list.slice(-MAX_KEPT_ERRORS));
}

export type Finish =
  | { type: "done"; error: string | null }
  | { type: "dead"; error: string }
  | { type: "retry"; runAt: number; error: string; spendAttempt: boolean };

export interface FinishTarget {
  id: number;
  owner: string;
  orderKey: string | null;
  attempts: number;
  errors: string | null;
}

/**
 * Records how a claimed job ended. Only the lease holder can finish it (a job whose lease was
 * taken over is left to its new owner). Ending a job hands its chain's turn to the next one.
 */
export function finishJob(stmts: JobStatements, job: FinishTarget, f: Finish, now: number): boolean {
  const history =
    f.error === null ? null : appendAttemptError(job.errors, { attempt: job.attempts, at: now, error: f.error });
  if (f.type === "retry") {
    const res = stmts.retry.run(f.runAt, f.error, history, f.spendAttempt ? 0 : 1, job.id, job.owner);
    return res.changes > 0;
  }
  const res = stmts.finish.run(f.type, now, f.error, history, job.id, job.owner);
  if (res.changes > 0 && job.orderKey) stmts.advanceChain.run(job.orderKey);
  return res.changes > 0;
}
