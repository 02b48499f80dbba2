// The operator's job queries. drizzle's builder for the page and the lookups (rare calls, plain
// indexes); raw SQL for the revive, which takes chain locks and must match jobs_chain literally.
import type { SQL } from "bun";
import { and, desc, eq, lt, type SQL as DrizzleSql } from "drizzle-orm";
import { readyOnInsert, RETRY_DEAD_MAX } from "../job-rules";
import type { Job } from "../rows";
import type { JobFilter, RetryDeadResult, RetryOutcome } from "../types";
import { chainBusyOther, lockChains } from "./chain";
import type { Pg } from "./connection";
import { JOB_COLUMNS, toJob } from "./job-sql";
import { jobs } from "./schema";

/** Dead → pending with a fresh budget, `ready` by the chain rule; inside tx, its chain already locked. */
async function reviveInTx(tx: SQL, id: number, now: number): Promise<RetryOutcome> {
  const [row] = await tx.unsafe(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE`, [id]);
  if (!row) return { outcome: "not_found" };
  const job = toJob(row);
  if (job.state !== "dead") return { outcome: "not_dead", state: job.state };
  const busy = job.orderKey !== null && (await chainBusyOther(tx, job.orderKey, id));
  const ready = readyOnInsert(job.orderKey, () => busy);
  const [revived] = await tx.unsafe(
    `UPDATE jobs SET state = 'pending', attempts = 0, run_at = $2, ready = $3, finished_at = NULL, lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND state = 'dead' RETURNING ${JOB_COLUMNS}`,
    [id, now, ready],
  );
  return { outcome: "retried", job: toJob(revived) };
}

export function createPgJobAdmin(pg: Pg, clock: () => number) {
  const { sql, orm } = pg;
  return {
    async byId(id: number): Promise<Job | null> {
      const [row] = await orm.select().from(jobs).where(eq(jobs.id, id));
      return row ?? null;
    },
    async byDedupeKey(key: string): Promise<Job | null> {
      const [row] = await orm.select().from(jobs).where(eq(jobs.dedupeKey, key));
      return row ?? null;
    },
    async list(f: JobFilter): Promise<Job[]> {
      const where: DrizzleSql[] = [lt(jobs.id, f.cursor ?? Number.MAX_SAFE_INTEGER)];
      if (f.state) where.push(eq(jobs.state, f.state));
      if (f.kind) where.push(eq(jobs.kind, f.kind));
      return orm.select().from(jobs).where(and(...where)).orderBy(desc(jobs.id)).limit(f.limit);
    },
    /** The chain's lock before the row's: the same order as insert and finish, so no deadlock. */
    async retry(id: number): Promise<RetryOutcome> {
      const [peek] = await orm.select({ orderKey: jobs.orderKey }).from(jobs).where(eq(jobs.id, id));
      if (!peek) return { outcome: "not_found" };
      return sql.begin(async (tx) => {
        await lockChains(tx, [peek.orderKey]);
        return reviveInTx(tx, id, clock());
      });
    },
    async retryDead(limit: number): Promise<RetryDeadResult> {
      return sql.begin(async (tx) => {
        const dead = await tx.unsafe<{ id: string; orderKey: string | null }[]>(
          `SELECT id, order_key AS "orderKey" FROM jobs WHERE state = 'dead' ORDER BY id LIMIT $1`,
          [Math.min(limit, RETRY_DEAD_MAX)],
        );
        await lockChains(tx, dead.map((d) => d.orderKey));
        const now = clock();
        const retried: number[] = [];
        for (const d of dead) {
          if ((await reviveInTx(tx, Number(d.id), now)).outcome === "retried") retried.push(Number(d.id));
        }
        const [left] = await tx.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM jobs WHERE state = 'dead'`);
        return { retried, remaining: left?.n ?? 0 };
      });
    },
  };
}
