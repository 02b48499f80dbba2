import type { Database } from "bun:sqlite";
import type { JobState } from "../db/schema";
import type { Writer } from "../db/writer";
import { JOB_COLUMNS } from "./sql";
import type { JobRow } from "./types";

export interface JobFilter {
  state?: JobState;
  kind?: string;
  limit: number;
  /** The smallest id of the previous page: the next page holds older jobs. */
  cursor?: number;
}

export type RetryOutcome =
  | { outcome: "retried"; job: JobRow }
  | { outcome: "not_found" }
  | { outcome: "not_dead"; state: JobState };

/** Upper bound of one `retry-dead` call: a large backlog is retried in several bounded steps. */
export const RETRY_DEAD_MAX = 1000;

/**
 * The operator's queries over jobs (list, retry). SQL stays in queue/; callers (admin routes and
 * the CLI) pass the writer so retries share the group commit with ingress and worker.
 */
export function createJobAdmin(sqlite: Database, writer: Writer, clock: () => number = Date.now) {
  const byId = sqlite.prepare<JobRow, [number]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`);
  const page = sqlite.prepare<JobRow, [string | null, string | null, number, number]>(
    `SELECT ${JOB_COLUMNS} FROM jobs
     WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) AND id < ?3
     ORDER BY id DESC LIMIT ?4`,
  );
  const chainBusyOther = sqlite.prepare<{ one: number }, [string, number]>(
    "SELECT 1 AS one FROM jobs WHERE order_key = ? AND state IN ('pending', 'running') AND id <> ? LIMIT 1",
  );
  // Dead → pending with a fresh budget. `ready` follows the chain rule of schema.ts: the job may
  // run now only if nothing else of its order_key is unfinished; otherwise advanceChain hands it
  // the turn when the current head ends (it sorts by seq, so it goes next in update order).
  const revive = sqlite.prepare<JobRow, [number, number, number]>(
    `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?1, ready = ?2, finished_at = NULL,
       lease_owner = NULL, lease_until = NULL
     WHERE id = ?3 AND state = 'dead' RETURNING ${JOB_COLUMNS}`,
  );
  const deadIds = sqlite.prepare<{ id: number }, [number]>(
    "SELECT id FROM jobs INDEXED BY jobs_state_kind WHERE state = 'dead' ORDER BY id LIMIT ?",
  );
  const deadCount = sqlite.prepare<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE state = 'dead'");

  function retryInTx(id: number, now: number): RetryOutcome {
    const job = byId.get(id);
    if (!job) return { outcome: "not_found" };
    if (job.state !== "dead") return { outcome: "not_dead", state: job.state };
    const ready = job.orderKey !== null && chainBusyOther.get(job.orderKey, job.id) ? 0 : 1;
    const revived = revive.get(now, ready, id);
    return revived ? { outcome: "retried", job: revived } : { outcome: "not_dead", state: byId.get(id)?.state ?? "done" };
  }

  return {
    get: (id: number): JobRow | null => byId.get(id) ?? null,
    list: (f: JobFilter): JobRow[] => page.all(f.state ?? null, f.kind ?? null, f.cursor ?? Number.MAX_SAFE_INTEGER, f.limit),
    /** A dead job goes back to pending with its attempts reset; others are left alone. */
    retry: (id: number): Promise<RetryOutcome> => writer.run(() => retryInTx(id, clock())),
    /** Retries the oldest dead jobs, at most `limit`, in one transaction. */
    retryDead: (limit: number): Promise<{ retried: number[]; remaining: number }> =>
      writer.run(() => {
        const now = clock();
        const retried: number[] = [];
        for (const { id } of deadIds.all(Math.min(limit, RETRY_DEAD_MAX))) {
          if (retryInTx(id, now).outcome === "retried") retried.push(id);
        }
        return { retried, remaining: deadCount.get()?.n ?? 0 };
      }),
  };
}

export type JobAdmin = ReturnType<typeof createJobAdmin>;
