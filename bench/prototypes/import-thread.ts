/** The journal-thread prototype's importer: a Bun Worker with its own connection; one transaction per message. */
import { openDb } from "../../src/db/client";
import { insertJobs } from "../../src/queue/enqueue";
import { prepareJobStatements } from "../../src/queue/sql";
import type { InsertRow } from "./narrow-schema";

declare const self: Worker;
const sqlite = openDb({ path: process.env.PROTO_DB!, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true }).sqlite;
const stmts = prepareJobStatements(sqlite);
self.onmessage = (e: MessageEvent<InsertRow[]>) => {
  const now = Date.now();
  sqlite.run("BEGIN IMMEDIATE");
  insertJobs(stmts, e.data.map((r) => ({ kind: "telegram.update", dedupeKey: r.dedupeKey, orderKey: r.orderKey, seq: r.seq, payload: r.payload, maxAttempts: 8, runAt: now })), now);
  sqlite.run("COMMIT");
};
