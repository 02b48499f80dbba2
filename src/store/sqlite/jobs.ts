// The SQLite JobStore: hot-path writes (insert, claim, finish) are raw prepared SQL run inside the
// group commit (insert.ts, claim.ts, finish.ts); byId/byDedupeKey use drizzle's builder (admin
// reads); the operator's queries, the snapshot and the pruner live in admin.ts, stats.ts, prune.ts.
import { eq, sql } from "drizzle-orm";
import type { JobStore } from "../types";
import { createSqliteJobAdmin } from "./admin";
import type { ChainAccess } from "./chains/access";
import { claimJobs, expireLeases } from "./claim";
import type { Writer } from "./commit/writer";
import type { Db } from "./connection";
import { finishJob } from "./finish";
import { insertJobs } from "./insert";
import { prepareJobStatements } from "./job-statements";
import { lazy } from "./lazy";
import { createPruner } from "./prune";
import { JOB_FIELDS } from "./job-fields";
import { jobs } from "./schema";
import { createQueueStats } from "./stats";

/**
 * Writes go through the group-commit writer, so each resolves once it is durable. Reads run
 * between commits on the same connection (async only in shape: a throw becomes a rejection).
 */
export function createSqliteJobStore(db: Db, writer: Writer, chains: ChainAccess, clock: () => number): JobStore {
  const statements = lazy(() => prepareJobStatements(db.sqlite));
  const admin = lazy(() => createSqliteJobAdmin(db, writer, chains, clock));
  const stats = lazy(() => createQueueStats(db.sqlite, clock));
  const pruner = lazy(() => createPruner(db.sqlite, writer));
  const byDedupeKey = lazy(() => db.orm.select(JOB_FIELDS).from(jobs).where(eq(jobs.dedupeKey, sql.placeholder("key"))).prepare());
  return {
    insert: (batch) => writer.run(() => insertJobs(statements(), chains.current(), batch, clock())),
    // resolveAtCommit: the claim's jobs start a WAL sync earlier (writer.runAtCommit). A round
    // that also expires leases waits for the sync (once a second at most): its dead jobs are reported.
    claim: (opts) =>
      (opts.resolveAtCommit && opts.expireLeases === false ? writer.runAtCommit : writer.run)(() => {
        const stmts = statements();
        const expired = opts.expireLeases === false ? [] : expireLeases(stmts, chains.current(), opts.now);
        const limit = typeof opts.limit === "function" ? opts.limit() : opts.limit;
        return { expired, jobs: claimJobs(stmts, { owner: opts.owner, leaseMs: opts.leaseMs, now: opts.now, limit }) };
      }),
    finish: (job, f) => writer.run(() => finishJob(statements(), chains.current(), job, f, clock())),
    releaseOwnPrevious: (prefix, owner) =>
      writer.run(() => statements().releaseOwnPrevious.all(`${prefix.replace(/[\\%_]/g, "\\$&")}%`, owner).length),
    byId: async (id) => admin().byId(id),
    byDedupeKey: async (key) => byDedupeKey().get({ key }) ?? null,
    async nextWakeAt() {
      const stmts = statements();
      const a = stmts.nextRunAt.get()?.runAt ?? null;
      const b = stmts.nextLeaseExpiry.get()?.leaseUntil ?? null;
      return a === null ? b : b === null ? a : Math.min(a, b);
    },
    list: async (f) => admin().list(f),
    retry: async (id) => admin().retry(id),
    retryDead: async (limit) => admin().retryDead(limit),
    stats: async () => stats().snapshot(),
    prune: async (cutoff) => pruner().prune(cutoff),
  };
}
