// Raw SQL: one finish per job, beside the claims on the hot path.
import type { SQL } from "bun";
import { appendAttemptError } from "../job-rules";
import type { Finish, FinishTarget } from "../types";
import { advanceChains, lockChains } from "./chain";
import { pgText } from "./errors";

const END = `UPDATE jobs SET state = $1, finished_at = $2, last_error = $3, errors = coalesce($4, errors),
    lease_owner = NULL, lease_until = NULL
  WHERE id = $5 AND state = 'running' AND lease_owner = $6`;

const RETRY = `UPDATE jobs SET state = 'pending', run_at = $1, last_error = $2, errors = coalesce($3, errors),
    attempts = attempts - $4, lease_owner = NULL, lease_until = NULL
  WHERE id = $5 AND state = 'running' AND lease_owner = $6`;

type End = Exclude<Finish, { type: "retry" }>;

/**
 * Records how a claimed job ended; only the lease holder can. A retry keeps the chain's turn
 * (running → pending, the chain stays busy either way), so it is one statement. Ending a job of
 * a chain hands the turn on: under the chain's lock, in one transaction with the end itself, so
 * an insert on another gateway either committed before (and is found here) or runs after (and
 * finds the chain's new head).
 */
export async function finishJob(sql: SQL, job: FinishTarget, f: Finish, now: number): Promise<boolean> {
  if (f.type === "retry") {
    const error = pgText(f.error);
    const history = appendAttemptError(job.errors, { attempt: job.attempts, at: now, error });
    const res = await sql.unsafe(RETRY, [f.runAt, error, history, f.spendAttempt ? 0 : 1, job.id, job.owner]);
    return res.count > 0;
  }
  if (job.orderKey === null) return (await sql.unsafe(END, endParams(job, f, now))).count > 0;
  return sql.begin((tx) => endInTx(tx, job, f, now));
}

function endParams(job: FinishTarget, f: End, now: number): unknown[] {
  const error = f.error === null ? null : pgText(f.error);
  const history = error === null ? null : appendAttemptError(job.errors, { attempt: job.attempts, at: now, error });
  return [f.type, now, error, history, job.id, job.owner];
}

/** Ends a job inside the caller's transaction: its chain's lock, the end, the turn handed on. */
export async function endInTx(tx: SQL, job: FinishTarget, f: End, now: number): Promise<boolean> {
  await lockChains(tx, [job.orderKey]);
  const res = await tx.unsafe(END, endParams(job, f, now));
  if (res.count === 0) return false;
  await advanceChains(tx, [job.orderKey]);
  return true;
}
