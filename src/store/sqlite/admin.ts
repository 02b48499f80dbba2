// The operator's job queries. drizzle's builder for the page, the lookup and the revive (rare
// calls, plain indexes); raw SQL where a plan must be pinned with INDEXED BY or must match a
// partial index's literal states (the dead-job walk). A revived job joins its chain (chains/).
import { and, count, desc, eq, lt, type SQL } from "drizzle-orm";
import { RETRY_DEAD_MAX } from "../job-rules";
import type { Job } from "../rows";
import type { JobFilter, RetryDeadResult, RetryOutcome } from "../types";
import type { ChainAccess } from "./chains/access";
import type { Db } from "./connection";
import type { Writer } from "./commit/writer";
import { JOB_FIELDS } from "./job-fields";
import { jobs } from "./schema";

export function createSqliteJobAdmin(db: Db, writer: Writer, chains: ChainAccess, clock: () => number) {
  const { sqlite, orm } = db;
  const deadIds = sqlite.prepare<{ id: number }, [number]>(
    "SELECT id FROM jobs INDEXED BY jobs_state_kind WHERE state = 'dead' ORDER BY id LIMIT ?",
  );
  const byId = (id: number): Job | null => orm.select(JOB_FIELDS).from(jobs).where(eq(jobs.id, id)).get() ?? null;

  /** Dead → pending with a fresh budget; `ready` follows the chain rule (job-rules.ts). Runs inside a write. */
  function retryInTx(id: number, now: number): RetryOutcome {
    const job = byId(id);
    if (!job) return { outcome: "not_found" };
    if (job.state !== "dead") return { outcome: "not_dead", state: job.state };
    // A dead job is not part of its chain any more: it is placed like a new one (its seq usually puts it next).
    const place = job.orderKey === null ? null : chains.current().place(job.orderKey, job.seq);
    const revived = orm
      .update(jobs)
      .set({ state: "pending", attempts: 0, runAt: now, ready: place ? 0 : 1, prevId: place?.prevId ?? null, finishedAt: null, leaseOwner: null, leaseUntil: null })
      .where(and(eq(jobs.id, id), eq(jobs.state, "dead")))
      .returning(JOB_FIELDS)
      .get();
    if (revived && job.orderKey !== null) chains.current().join(job.orderKey, id, job.seq, place);
    return revived ? { outcome: "retried", job: revived } : { outcome: "not_dead", state: byId(id)?.state ?? "done" };
  }

  return {
    byId: async (id: number): Promise<Job | null> => byId(id),
    async list(f: JobFilter): Promise<Job[]> {
      const where: SQL[] = [lt(jobs.id, f.cursor ?? Number.MAX_SAFE_INTEGER)];
      if (f.state) where.push(eq(jobs.state, f.state));
      if (f.kind) where.push(eq(jobs.kind, f.kind));
      return orm.select(JOB_FIELDS).from(jobs).where(and(...where)).orderBy(desc(jobs.id)).limit(f.limit).all();
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
