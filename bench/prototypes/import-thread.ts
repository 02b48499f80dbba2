/**
 * The journal-thread prototype's store thread: a Bun Worker with its own connection. Imports each
 * batch of rows in one transaction; with PROTO_WORKER=1 it also finishes the jobs the main thread
 * reports done and claims up to 32 running jobs at a time, posting them to the main thread.
 */
import { openDb } from "../../src/store/sqlite/connection";
import { claimJobs } from "../../src/store/sqlite/claim";
import { insertJobs } from "../../src/store/sqlite/insert";
import { finishJob } from "../../src/store/sqlite/finish";
import { prepareJobStatements } from "../../src/store/sqlite/job-statements";
import type { Job as JobRow } from "../../src/store/rows";
import type { InsertRow } from "./narrow-schema";
import { createChainOrder } from "../../src/store/sqlite/chains/access";

declare const self: Worker;
const sqlite = openDb({ path: process.env.PROTO_DB!, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true }).sqlite;
const stmts = prepareJobStatements(sqlite);
const chains = createChainOrder(sqlite);
const WORKER = process.env.PROTO_WORKER === "1";
const SLOTS = 32;
const running = new Map<number, JobRow>();
self.onmessage = (e: MessageEvent<{ rows?: InsertRow[]; finish?: number[] }>) => {
  const now = Date.now();
  sqlite.run("BEGIN IMMEDIATE");
  if (e.data.rows) {
    insertJobs(stmts, chains, e.data.rows.map((r) => ({ kind: "telegram.update", dedupeKey: r.dedupeKey, orderKey: r.orderKey, seq: r.seq, payload: r.payload, maxAttempts: 8, runAt: now })), now);
  }
  for (const id of e.data.finish ?? []) {
    const j = running.get(id);
    running.delete(id);
    if (j) finishJob(stmts, chains, { ...j, owner: "proto" }, { type: "done", error: null }, now);
  }
  let claimed: JobRow[] = [];
  if (WORKER && running.size < SLOTS) claimed = claimJobs(stmts, { owner: "proto", leaseMs: 30_000, limit: SLOTS - running.size, now: now + 1 });
  sqlite.run("COMMIT");
  for (const j of claimed) running.set(j.id, j);
  if (claimed.length) self.postMessage(claimed.map((j) => ({ id: j.id, payload: j.payload })));
};
