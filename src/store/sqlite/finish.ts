// Raw prepared SQL (job-statements.ts): one finish per job, inside the group commit beside the claims.
import { appendAttemptError } from "../job-rules";
import type { Finish, FinishTarget } from "../types";
import type { ChainOrder } from "./chains/chain-order";
import type { JobStatements } from "./job-statements";

/**
 * Records how a claimed job ended. Only the lease holder can finish it (a job whose lease was
 * taken over is left to its new owner). Ending a job hands its chain's turn to the next one.
 */
export function finishJob(stmts: JobStatements, chains: ChainOrder, job: FinishTarget, f: Finish, now: number): boolean {
  const history = f.error === null ? null : appendAttemptError(job.errors, { attempt: job.attempts, at: now, error: f.error });
  if (f.type === "retry") {
    const res = stmts.retry.run(f.runAt, f.error, history, f.spendAttempt ? 0 : 1, job.id, job.owner);
    return res.changes > 0;
  }
  const res = stmts.finish.run(f.type, now, f.error, history, job.id, job.owner);
  if (res.changes > 0 && job.orderKey) chains.handOff(job.orderKey, job.id);
  return res.changes > 0;
}
