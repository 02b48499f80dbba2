/**
 * Fills a tgwh database with stored updates through the real store code (migrations, the job
 * statements and insertJobs of src/store/sqlite), as the webhook would have stored them.
 */
import { Database } from "bun:sqlite";
import { openDb } from "../../src/store/sqlite/connection";
import { insertJobs } from "../../src/store/sqlite/insert";
import { prepareJobStatements } from "../../src/store/sqlite/job-statements";
import type { NewJob } from "../../src/store/types";
import { orderKeyOf, updateDedupeKey } from "../../src/telegram/updates";
import { UPDATE_MAX_ATTEMPTS } from "../../src/telegram/webhook";
import { createChainOrder } from "../../src/store/sqlite/chains/access";

/** The same message update the wrk script posts: no command, so the bot ignores it. */
export function benchUpdate(updateId: number, chats = 1000): string {
  const chat = 100000 + (updateId % chats);
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: updateId,
      from: { id: chat, is_bot: false, first_name: "Bench", last_name: "User", username: `bench_user_${chat}`, language_code: "en" },
      chat: { id: chat, first_name: "Bench", last_name: "User", username: `bench_user_${chat}`, type: "private" },
      date: 1764000000,
      text: `hello from the benchmark, message number ${updateId}`,
    },
  });
}

export function updateJob(updateId: number, runAt: number, chats = 1000): NewJob {
  const payload = benchUpdate(updateId, chats);
  const { orderKey } = orderKeyOf(JSON.parse(payload));
  return { kind: "telegram.update", dedupeKey: updateDedupeKey(updateId), orderKey, seq: updateId, payload, maxAttempts: UPDATE_MAX_ATTEMPTS, runAt };
}

/** Stores `count` pending updates (update_ids from `firstId`), 10,000 per transaction. */
export function fillUpdates(dbPath: string, count: number, opts: { firstId?: number; chats?: number; runAt?: number } = {}): void {
  const db = openDb({ path: dbPath, synchronous: "NORMAL", busyTimeoutMs: 5000, migrate: true });
  try {
    db.sqlite.run("PRAGMA synchronous = OFF"); // bulk load; nothing here is an acknowledgement
    const stmts = prepareJobStatements(db.sqlite);
    const chains = createChainOrder(db.sqlite);
    const first = opts.firstId ?? 1;
    const runAt = opts.runAt ?? Date.now();
    for (let start = 0; start < count; start += 10_000) {
      const n = Math.min(10_000, count - start);
      const jobs = Array.from({ length: n }, (_, i) => updateJob(first + start + i, runAt, opts.chats));
      db.sqlite.transaction(() => insertJobs(stmts, chains, jobs, runAt))();
    }
    db.sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** Counts by state, read through a separate read-only connection (WAL: never blocks the writer). */
export function countsByState(dbPath: string): Record<string, number> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.query("SELECT state, count(*) AS n FROM jobs GROUP BY state").all() as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  } finally {
    db.close();
  }
}
