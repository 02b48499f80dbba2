// The operator's job queries. drizzle's builder for the page, the lookup and the revive (rare
// calls, plain indexes); raw SQL where a plan must be pinned with INDEXED BY or must match a
// partial index's literal states (the chain check, the dead-job walk).
import type { Database } from "bun:sqlite";
import { and, count, desc, eq, lt, type SQL } from "drizzle-orm";
import { readyOnInsert, RETRY_DEAD_MAX } from "../job-rules";
import type { Job } from "../rows";
import type { JobFilter, RetryDeadResult, RetryOutcome } from "../types";
import type { Db } from "./connection";
import type { Writer } from "./commit/writer";
import { jobs } from "./schema";

export function createSqliteJobAdmin(db: Db, writer: Writer, clock: () => number) {
  const { sqlite, orm } = db;
  const chainBusyOther = prepareChainBusyOther(sqlite);
  const deadIds = sqlite.prepare<{ id: number }, [number]>(
    "SELECT id FROM jobs INDEXED BY jobs_state_kind WHERE state = 'dead' ORDER BY id LIMIT ?",
  );
  const byId = (id: number): Job | null => orm.select().from(jobs).where(eq(jobs.id, id)).get() ?? null;

  /** Dead → pending with a fresh budget; `ready` follows the chain rule (job-rules.ts). Runs inside a write. */
  function retryInTx(id: number, now: number): RetryOutcome {
    const job = byId(id);
    if (!job) return { outcome: "not_found" };
    if (job.state !== "dead") return { outcome: "not_dead", state: job.state };
    const ready = readyOnInsert(job.orderKey, (key) => !!chainBusyOther.get(key, job.id));
    const revived = orm
      .update(jobs)
      .set({ state: "pending", attempts: 0, runAt: now, ready, finishedAt: null, leaseOwner: null, leaseUntil: null })
      .where(and(eq(jobs.id, id), eq(jobs.state, "dead")))
      .returning()
      .get();
    return revived ? { outcome: "retried", job: revived } : { outcome: "not_dead", state: byId(id)?.state ?? "done" };
  }

  return {
    byId: async (id: number): Promise<Job | null> => byId(id),
    async list(f: JobFilter): Promise<Job[]> {
      const where: SQL[] = [lt(jobs.id, f.cursor ?? Number.MAX_SAFE_INTEGER)];
      if (f.state) where.push(eq(jobs.state, f.state));
      if (f.kind) where.push(eq(jobs.kind, f.kind));
      return orm.select().from(jobs).where(and(...where)).orderBy(desc(jobs.id)).limit(f.limit).all();
    },
    retry: (id: number): Promise<RetryOutcome> => writer.run(() => retryInTx(id, clock())),
    retryDead: (limit: number): Promise<RetryDeadResult> =>
      writer.run(() => {
        const now = clock();
        const retried: number[] = [];
        for (const { id } of deadIds.all(Math.min(limit, RETRY_DEAD_MAX))) {
          if (retryInTx(id, now).outcome === "retried") retried.push(id);
        }
        return { retried, remaining: orm.select({ n: count() }).from(jobs).where(eq(jobs.state, "dead")).get()?.n ?? 0 };
      }),
  };
}

/** Is anything else of this chain unfinished? Literal states, so the partial index jobs_chain serves it. */
function prepareChainBusyOther(sqlite: Database) {
  return sqlite.prepare<{ one: number }, [string, number]>(
    "SELECT 1 AS one FROM jobs WHERE order_key = ? AND state IN ('pending', 'running') AND id <> ? LIMIT 1",
  );
}
