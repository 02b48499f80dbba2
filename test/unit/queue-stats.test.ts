import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openDb, type Db } from "../../src/db/client";
import { COUNTED_STATES, createQueueStats, QUEUE_COUNT_LIMIT } from "../../src/queue/stats";
import { removeDir, tempDir } from "../support/tgwh";

let dir: string;
let db: Db;
const now = 10_000_000;

/** n jobs of one state and kind in one statement; ids continue from the current maximum. */
function fill(n: number, state: string, kind: string, extra: { runAt?: number; ready?: number } = {}) {
  db.sqlite.run(
    `INSERT INTO jobs (kind, dedupe_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at)
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1)
     SELECT ?2, ?2 || ':' || ?3 || ':' || x || ':' || (SELECT count(*) FROM jobs), x, ?5, '{}', ?3, 0, 3, ?4, ?4 FROM c`,
    [n, kind, state, extra.runAt ?? now - 5000, extra.ready ?? 1],
  );
}

beforeEach(() => {
  dir = tempDir();
  db = openDb({ path: join(dir, "s.db"), synchronous: "NORMAL", busyTimeoutMs: 1000, migrate: true });
});
afterEach(() => {
  db.close();
  removeDir(dir);
});

describe("queue stats for /metrics", () => {
  test("counts unfinished jobs by state and kind, estimates done, ages the oldest runnable job", () => {
    fill(3, "done", "telegram.update");
    fill(4, "pending", "telegram.update");
    fill(2, "pending", "notify.send", { runAt: now + 60_000 }); // not runnable yet: no age
    fill(1, "running", "notify.send");
    fill(2, "dead", "telegram.update");
    fill(5, "done", "notify.send");
    const s = createQueueStats(db.sqlite, () => now).snapshot();
    expect(s.byStateKind).toEqual([
      { state: "pending", kind: "notify.send", count: 2 },
      { state: "pending", kind: "telegram.update", count: 4 },
      { state: "running", kind: "notify.send", count: 1 },
      { state: "dead", kind: "telegram.update", count: 2 },
    ]);
    // Done ids span 1..17 while 8 are done: an upper bound, as documented.
    expect(s.doneEstimate).toBe(17);
    expect(s.oldestPendingAgeSeconds).toBe(5);
    expect(s.countLimit).toBe(QUEUE_COUNT_LIMIT);
  });

  test("an empty store reads as zero everywhere", () => {
    expect(createQueueStats(db.sqlite, () => now).snapshot()).toEqual({ byStateKind: [], countLimit: QUEUE_COUNT_LIMIT, doneEstimate: 0, oldestPendingAgeSeconds: 0 });
  });

  test("a count stops at the limit, so a scrape's work does not grow with the backlog", () => {
    fill(QUEUE_COUNT_LIMIT + 500, "pending", "telegram.update");
    fill(7, "pending", "notify.send");
    const s = createQueueStats(db.sqlite, () => now).snapshot();
    expect(s.byStateKind).toEqual([
      { state: "pending", kind: "notify.send", count: 7 },
      { state: "pending", kind: "telegram.update", count: QUEUE_COUNT_LIMIT },
    ]);
  });

  test("every statement is an index search, never a table scan", () => {
    const statements = [
      "SELECT min(kind) AS kind FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind > ?2",
      "SELECT count(*) AS count FROM (SELECT 1 FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2 LIMIT ?3)",
      "SELECT min(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2",
      "SELECT max(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2",
      "SELECT min(run_at) AS runAt FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ?",
    ];
    // Keep this list in step with src/queue/stats.ts.
    const source = readFileSync(join(import.meta.dir, "../../src/queue/stats.ts"), "utf8");
    for (const sql of statements) {
      expect(source).toContain(sql);
      const plan = db.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
      const details = plan.map((p) => p.detail).join(" | ");
      expect(details).toMatch(/SEARCH jobs USING (COVERING )?INDEX/);
      expect(details).not.toMatch(/SCAN jobs/);
    }
    expect(COUNTED_STATES).toEqual(["pending", "running", "dead"]);
  });
});
