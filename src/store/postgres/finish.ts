// Raw SQL: the worker's finishes, beside the claims on the hot path; arrays in, one UPDATE per kind of end.
import type { SQL } from "bun";
import { appendAttemptError } from "../job-rules";
import type { Finish, FinishTarget } from "../types";
import { advanceChains, lockChains } from "./chain";
import { pgText } from "./errors";

type End = Exclude<Finish, { type: "retry" }>;

/** [state, error, history] of an ended job: its error appended to the attempt history. */
function endValues(job: FinishTarget, f: End, now: number): [string, string | null, string | null] {
  const error = f.error === null ? null : pgText(f.error);
  const history = error === null ? null : appendAttemptError(job.errors, { attempt: job.attempts, at: now, error });
  return [f.type, error, history];
}

/** One finish as the tick batch carries it. */
export interface FinishItem {
  job: FinishTarget;
  f: Finish;
}

export const END_MANY = `UPDATE jobs SET state = v.state, finished_at = $6, last_error = v.error, errors = coalesce(v.history, jobs.errors),
    lease_owner = NULL, lease_until = NULL
  FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, state, error, history, owner)
  WHERE jobs.id = v.id AND jobs.state = 'running' AND jobs.lease_owner = v.owner
  RETURNING jobs.id, jobs.order_key AS "orderKey"`;

export const RETRY_MANY = `UPDATE jobs SET state = 'pending', run_at = v.run_at, last_error = v.error, errors = coalesce(v.history, jobs.errors),
    attempts = jobs.attempts - v.give_back, lease_owner = NULL, lease_until = NULL
  FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int4[], $6::text[]) AS v(id, run_at, error, history, give_back, owner)
  WHERE jobs.id = v.id AND jobs.state = 'running' AND jobs.lease_owner = v.owner
  RETURNING jobs.id`;

/**
 * How claimed jobs ended, recorded only where the caller still holds the lease (false for the
 * others). A retry keeps its chain's turn (running → pending: the chain stays busy either way).
 * Ending a job of a chain hands the turn on under the chain's lock, in the same transaction as
 * the end, so an insert on another gateway either committed before (and is found here) or runs
 * after (and finds the chain's new head). The worker's finishes of one tick go together: the
 * chain locks of every ended job in one sorted statement, one UPDATE for the ends, one for the
 * retries, one hand-over for the chains whose head ended: a handful of statements and one commit
 * per tick, whatever the number of jobs.
 */
export function finishBatch(sql: SQL, items: readonly FinishItem[], now: number): Promise<boolean[]> {
  return sql.begin((tx) => finishBatchInTx(tx, items, now));
}

/** finishBatch inside the caller's transaction (the benchmark rolls its rounds back). */
export async function finishBatchInTx(tx: SQL, items: readonly FinishItem[], now: number): Promise<boolean[]> {
  const ends = items.filter((i): i is FinishItem & { f: End } => i.f.type !== "retry");
  const retries = items.filter((i): i is FinishItem & { f: Extract<Finish, { type: "retry" }> } => i.f.type === "retry");
  const finished = new Set<number>();
  if (ends.length > 0) {
    await lockChains(tx, ends.map((e) => e.job.orderKey));
    const values = ends.map((e) => endValues(e.job, e.f, now));
    const rows = await tx.unsafe<{ id: string; orderKey: string | null }[]>(END_MANY, [
      ends.map((e) => e.job.id),
      values.map((v) => v[0]),
      values.map((v) => v[1]),
      values.map((v) => v[2]),
      ends.map((e) => e.job.owner),
      now,
    ]);
    for (const r of rows) finished.add(Number(r.id));
    await advanceChains(tx, rows.map((r) => r.orderKey));
  }
  if (retries.length > 0) {
    const rows = await tx.unsafe<{ id: string }[]>(RETRY_MANY, [
      retries.map((r) => r.job.id),
      retries.map((r) => r.f.runAt),
      retries.map((r) => pgText(r.f.error)),
      retries.map((r) => appendAttemptError(r.job.errors, { attempt: r.job.attempts, at: now, error: pgText(r.f.error) })),
      retries.map((r) => (r.f.spendAttempt ? 0 : 1)),
      retries.map((r) => r.job.owner),
    ]);
    for (const r of rows) finished.add(Number(r.id));
  }
  return items.map((i) => finished.has(i.job.id));
}
