import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COUNTED_STATES, QUEUE_COUNT_LIMIT } from "../../src/store/job-rules";
import { ConfigError } from "../../src/config";
import { inspectBackup } from "../../src/store/open";
import { createSqliteStore, type SqliteStore } from "../../src/store/sqlite";
import { applyMigrations } from "../../src/store/sqlite/migrate";
import type { EmbeddedMigration } from "../../src/store/migration-types";
import { embeddedMigrations } from "../../src/store/sqlite/migrations";
import { MissingDatabaseError, type NewJob } from "../../src/store/types";
import { removeDir, tempDir } from "../support/tgwh";

/**
 * What only the SQLite engine promises or must keep: group commit, index-only plans for the
 * scrape, and migrations that continue an existing database (the contract suite covers behaviour).
 */
let dir: string;
let path: string;
let store: SqliteStore;
const now = 10_000_000;
const open = (extra: Partial<Parameters<typeof createSqliteStore>[0]> = {}) =>
  createSqliteStore({ path, synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, clock: () => now, ...extra });

const job = (seq: number, orderKey: string | null): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${seq}`,
  orderKey,
  seq,
  payload: "{}",
  maxAttempts: 3,
  runAt: now,
});

beforeEach(() => {
  dir = tempDir();
  path = join(dir, "e.db");
});
afterEach(async () => {
  await store?.close();
  removeDir(dir);
});

describe("group commit", () => {
  test("writes queued in one turn share one transaction", async () => {
    store = open();
    const { writer } = store.internals;
    const before = writer.stats.transactions;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.jobs.insert([job(100 + i, `chat:${i % 5}`)])));
    expect(results.every(([r]) => r!.inserted)).toBe(true);
    expect(writer.stats.transactions - before).toBe(1);
  });

  test("a failing commit rejects every write of its batch and stores none", async () => {
    store = open();
    store.internals.db.sqlite.run("CREATE TRIGGER refuse BEFORE INSERT ON jobs WHEN NEW.seq = 13 BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const all = await Promise.allSettled([store.jobs.insert([job(12, null)]), store.jobs.insert([job(13, null)]), store.settings.set("k", "v")]);
    expect(all.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(await store.jobs.list({ limit: 10 })).toEqual([]);
    expect(await store.settings.get("k")).toBeNull();
  });

  test("inspection commands refuse a missing file instead of creating an empty database", () => {
    expect(() => open({ mustExist: "migrated", migrate: false })).toThrow(MissingDatabaseError);
  });
});

/** n jobs of one state and kind in one statement; ids continue from the current maximum. */
function fill(db: Database, n: number, state: string, kind: string, extra: { runAt?: number; ready?: number } = {}) {
  db.run(
    `INSERT INTO jobs (kind, dedupe_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at)
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1)
     SELECT ?2, ?2 || ':' || ?3 || ':' || x || ':' || (SELECT count(*) FROM jobs), x, ?5, '{}', ?3, 0, 3, ?4, ?4 FROM c`,
    [n, kind, state, extra.runAt ?? now - 5000, extra.ready ?? 1],
  );
}

describe("queue snapshot on SQLite", () => {
  test("exact figures: counts by state and kind, done estimated by id span, the oldest runnable job's age", async () => {
    store = open();
    const db = store.internals.db.sqlite;
    fill(db, 3, "done", "telegram.update");
    fill(db, 4, "pending", "telegram.update");
    fill(db, 2, "pending", "notify.send", { runAt: now + 60_000 }); // not runnable yet: no age
    fill(db, 1, "running", "notify.send");
    fill(db, 2, "dead", "telegram.update");
    fill(db, 3, "discarded", "notify.send");
    fill(db, 5, "done", "notify.send");
    expect((await store.jobs.stats()).byStateKind).toEqual([
      { state: "pending", kind: "notify.send", count: 2 },
      { state: "pending", kind: "telegram.update", count: 4 },
      { state: "running", kind: "notify.send", count: 1 },
      { state: "discarded", kind: "notify.send", count: 3 },
      { state: "dead", kind: "telegram.update", count: 2 },
    ]);
    const s = await store.jobs.stats();
    // Done ids span 1..20 while 8 are done: an upper bound, as documented.
    expect(s.doneEstimate).toBe(20);
    expect(s.oldestPendingAgeSeconds).toBe(5);
  });

  test("a count stops at the limit, so a scrape's work does not grow with the backlog", async () => {
    store = open();
    fill(store.internals.db.sqlite, QUEUE_COUNT_LIMIT + 500, "pending", "telegram.update");
    fill(store.internals.db.sqlite, 7, "pending", "notify.send");
    expect((await store.jobs.stats()).byStateKind).toEqual([
      { state: "pending", kind: "notify.send", count: 7 },
      { state: "pending", kind: "telegram.update", count: QUEUE_COUNT_LIMIT },
    ]);
  });

  test("every snapshot and prune statement is an index search, never a table scan", () => {
    store = open();
    const db = store.internals.db.sqlite;
    const checks: { file: string; sql: string; index: string }[] = [
      { file: "stats.ts", sql: "SELECT min(kind) AS kind FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind > ?2", index: "jobs_state_kind" },
      { file: "stats.ts", sql: "SELECT count(*) AS count FROM (SELECT 1 FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2 LIMIT ?3)", index: "jobs_state_kind" },
      { file: "stats.ts", sql: "SELECT min(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2", index: "jobs_state_kind" },
      { file: "stats.ts", sql: "SELECT max(id) AS id FROM jobs INDEXED BY jobs_state_kind WHERE state = ?1 AND kind = ?2", index: "jobs_state_kind" },
      { file: "stats.ts", sql: "SELECT min(run_at) AS runAt FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ?", index: "jobs_claim" },
      { file: "prune.ts", sql: "SELECT id FROM jobs INDEXED BY jobs_finished\n       WHERE (state = 'done' OR state = 'discarded') AND finished_at < ? LIMIT ?", index: "jobs_finished" },
    ];
    for (const { file, sql, index } of checks) {
      // Keep this list in step with the source: the statement checked is the statement run.
      expect(readFileSync(join(import.meta.dir, "../../src/store/sqlite", file), "utf8")).toContain(sql);
      const details = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join(" | ");
      expect(details).toMatch(new RegExp(`SEARCH jobs USING (COVERING )?INDEX ${index}`));
      expect(details).not.toMatch(/SCAN jobs/);
    }
    expect(COUNTED_STATES).toEqual(["pending", "running", "discarded", "dead"]);
  });
});

describe("mustExist: the operator commands never create a database", () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err as MissingDatabaseError;
    }
    throw new Error("expected a refusal");
  };

  test("a missing file: both levels refuse with a configuration error naming the path, and nothing is created", () => {
    for (const mustExist of ["reachable", "migrated"] as const) {
      const p = join(dir, "sub", "x.db");
      const err = refusal(() => createSqliteStore({ path: p, synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, mustExist }));
      expect(err).toBeInstanceOf(MissingDatabaseError);
      expect(err).toBeInstanceOf(ConfigError); // the CLI's exit 2 and "configuration error: TGWH_DB: …"
      expect(err.variable).toBe("TGWH_DB");
      expect(err.message).toBe(`TGWH_DB: database ${p} does not exist; run \`tgwh migrate\` to create it, or set TGWH_DB to the service's file (on a VM: sudo tgwh-admin CMD, which uses /var/lib/tgwh/tgwh.db)`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test("an empty file is reachable but not migrated: 'migrated' refuses and leaves it untouched", async () => {
    writeFileSync(path, "");
    expect(refusal(() => open({ mustExist: "migrated" })).message).toContain(`${path} is not a tgwh database (no migrations were ever applied to it)`);
    expect(statSync(path).size).toBe(0);
    expect(readdirSync(dir)).toEqual(["e.db"]);
    store = open({ mustExist: "reachable", migrate: false });
    expect((await store.health.migrations()).applied).toEqual([]);
  });

  test("a migrated file opens at both levels, also with migrations pending", async () => {
    const db = new Database(path, { create: true, strict: true });
    applyMigrations(db, embeddedMigrations.slice(0, 1));
    db.close();
    store = open({ mustExist: "migrated", migrate: false });
    expect((await store.health.migrations()).pending).toEqual(embeddedMigrations.slice(1).map((m) => m.tag));
    await store.close();
    store = open({ mustExist: "reachable" });
    expect((await store.health.migrations()).pending).toEqual([]);
  });

  test("a directory where the file should be is not a file", () => {
    mkdirSync(path);
    expect(refusal(() => open({ mustExist: "reachable" })).message).toBe(`TGWH_DB: ${path} is not a file`);
  });
});

describe("inspectBackup: what `tgwh restore` checks before it replaces anything", () => {
  test("a backup of this version is ok; one at 0000 lists what the service will apply", async () => {
    store = open();
    await store.backup(join(dir, "now.db"));
    await store.close();
    expect(inspectBackup(join(dir, "now.db"))).toEqual({ ok: true, migrations: { applied: embeddedMigrations.map((m) => m.tag), pending: [] } });
    const old = new Database(join(dir, "old.db"), { create: true, strict: true });
    applyMigrations(old, embeddedMigrations.slice(0, 1));
    old.close();
    expect(inspectBackup(join(dir, "old.db"))).toEqual({ ok: true, migrations: { applied: ["0000_init"], pending: embeddedMigrations.slice(1).map((m) => m.tag) } });
  });

  test("missing, not tgwh's, damaged and newer files are refused, each saying why", () => {
    const problem = (file: string) => {
      const r = inspectBackup(file);
      return r.ok ? null : r.problem;
    };
    expect(problem(join(dir, "none.db"))).toBe(`${join(dir, "none.db")} does not exist (ENOENT)`);
    const other = new Database(join(dir, "other.db"), { create: true });
    other.run("CREATE TABLE t (x)");
    other.close();
    expect(problem(join(dir, "other.db"))).toBe(`${join(dir, "other.db")} is not a tgwh database (no migration table)`);
    writeFileSync(join(dir, "junk.db"), "x".repeat(8192));
    expect(problem(join(dir, "junk.db"))).toStartWith(`${join(dir, "junk.db")} is not a readable SQLite database:`);
    const newer = new Database(join(dir, "newer.db"), { create: true, strict: true });
    applyMigrations(newer, [...embeddedMigrations, { tag: "9999_future", when: Math.max(...embeddedMigrations.map((m) => m.when)) + 1, breakpoints: true, sql: "SELECT 1" }]);
    newer.close();
    expect(problem(join(dir, "newer.db"))).toContain("was written by a newer tgwh");
    expect(problem(dir)).toBe(`${dir} is not a file`);
  });
});

describe("migrations continue an existing database", () => {
  const initOnly = embeddedMigrations.filter((m) => m.tag === "0000_init");

  /**
   * A database as an earlier version left it (the previous release: only 0000 applied), with a
   * done job with an error (a permanent failure), a clean one and a dead one.
   */
  function previousRelease(applied: EmbeddedMigration[] = initOnly): void {
    const db = new Database(path, { create: true, strict: true });
    db.run("PRAGMA journal_mode = WAL");
    applyMigrations(db, applied);
    const insert = db.prepare(
      `INSERT INTO jobs (kind, dedupe_key, seq, ready, payload, state, attempts, max_attempts, run_at, created_at, finished_at, last_error)
       VALUES ('notify.send', ?, 0, 1, '{}', ?, 1, 10, 1, 1, ?, ?)`,
    );
    insert.run("notify:blocked", "done", 5, "PermanentJobError: 403 Forbidden: bot was blocked by the user");
    insert.run("notify:ok", "done", 5, null);
    insert.run("notify:dead", "dead", 5, "Error: 502");
    db.close();
  }

  test("the new migrations run once on top of the already-applied 0000: permanent failures become discarded, nothing else changes", async () => {
    previousRelease();
    store = open();
    const db = store.internals.db.sqlite;
    const rows = db.query("SELECT hash, created_at FROM __drizzle_migrations ORDER BY id").all() as { created_at: number }[];
    expect(rows.map((r) => Number(r.created_at))).toEqual(embeddedMigrations.map((m) => m.when));
    expect(await store.health.migrations()).toEqual({ applied: embeddedMigrations.map((m) => m.tag), pending: [] });
    const state = async (key: string) => (await store.jobs.byDedupeKey(key))!.state;
    expect(await state("notify:blocked")).toBe("discarded");
    expect(await state("notify:ok")).toBe("done");
    expect(await state("notify:dead")).toBe("dead");
    // Opening again applies nothing.
    await store.close();
    store = open();
    expect(await store.migrate()).toEqual([]);
    expect(store.internals.db.sqlite.query("SELECT count(*) AS n FROM __drizzle_migrations").get()).toEqual({ n: embeddedMigrations.length });
  });

  test("the previous release's statements still plan on the new schema (a canary runs both on one file)", () => {
    previousRelease();
    store = open();
    const db = store.internals.db.sqlite;
    const previous = [
      // its pruner (retention of done jobs)
      "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE state = 'done' AND finished_at < ? LIMIT ?)",
      // its claim and chain hand-over
      "SELECT id FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ? ORDER BY run_at, id LIMIT ?",
      "SELECT id FROM jobs INDEXED BY jobs_chain WHERE order_key = ? AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1",
    ];
    for (const sql of previous) expect(() => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()).not.toThrow();
    expect(db.prepare(previous[0]!).run(100, 10).changes).toBe(1); // the clean done job; the discarded one is the new pruner's
  });

  test("`tgwh migrate --status` view: a database at 0000 reports the newer ones pending without applying them", async () => {
    previousRelease();
    store = open({ migrate: false });
    expect(await store.health.migrations()).toEqual({ applied: ["0000_init"], pending: embeddedMigrations.slice(1).map((m) => m.tag) });
    expect(await store.migrate()).toEqual(embeddedMigrations.slice(1).map((m) => m.tag));
  });
  test("a database main wrote after the replay table landed (0000, 0001_init_data_replays) gets 0002 and 0003; its replay records stay", async () => {
    previousRelease(embeddedMigrations.filter((m) => m.tag === "0000_init" || m.tag === "0001_init_data_replays"));
    const before = new Database(path, { strict: true });
    before.run("INSERT INTO init_data_replays (hash, expires_at) VALUES ('h1', 50000)");
    before.close();
    store = open({ migrate: false });
    expect(await store.health.migrations()).toEqual({ applied: ["0000_init", "0001_init_data_replays"], pending: ["0002_job_state_discarded", "0003_job_chains"] });
    expect(await store.migrate()).toEqual(["0002_job_state_discarded", "0003_job_chains"]);
    expect((await store.jobs.byDedupeKey("notify:blocked"))!.state).toBe("discarded");
    expect(await store.initDataReplays.firstUse("h1", 60_000, 1_000)).toBe(false);
  });

  test("a database the store branch wrote before the renumbering (0000 and its own 0001 discarded step) migrates too", async () => {
    // The store branch's migration as it was, under its original journal time: never released.
    const discarded = embeddedMigrations.find((m) => m.tag === "0002_job_state_discarded")!;
    previousRelease([...initOnly, { ...discarded, tag: "0001_job_state_discarded", when: 1795966029467 }]);
    store = open({ migrate: false });
    // Its last applied time is older than the replay table's: both later ones are pending.
    expect((await store.health.migrations()).pending).toEqual(["0001_init_data_replays", "0002_job_state_discarded", "0003_job_chains"]);
    expect(await store.migrate()).toEqual(["0001_init_data_replays", "0002_job_state_discarded", "0003_job_chains"]);
    expect((await store.jobs.byDedupeKey("notify:blocked"))!.state).toBe("discarded");
    expect((await store.jobs.byDedupeKey("notify:ok"))!.state).toBe("done");
    expect(await store.initDataReplays.firstUse("h2", 60_000, 1_000)).toBe(true);
    expect(await store.jobs.prune(100)).toBe(2); // the index the discarded step rebuilt serves the pruner
  });
});
