import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createSqliteStore, type SqliteStore } from "../../src/store/sqlite";
import { applyMigrations } from "../../src/store/sqlite/migrate";
import { embeddedMigrations } from "../../src/store/sqlite/migrations";
import type { Job, NewJob } from "../../src/store/types";
import { removeDir, tempDir } from "../support/tgwh";

/**
 * The two chain modes of a SQLite file (store/sqlite/chains/chain-order.ts) and the move from the
 * index to the lists: which files start where, that the move keeps every chain's order mid-flight,
 * and that an older binary's statements fail on a moved file instead of running without the lists.
 * (The store contract runs in full in both modes: sqlite.test.ts.)
 */
let dir: string;
let path: string;
const opened: SqliteStore[] = [];
let now = 10_000_000;
const open = () => {
  const s = createSqliteStore({ path, synchronous: "FULL", busyTimeoutMs: 1000, migrate: true, clock: () => now });
  opened.push(s);
  return s;
};
/** A file as the release before 0003 left it: the index mode after this binary migrates it. */
function earlierFile(): void {
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  applyMigrations(db, embeddedMigrations.filter((m) => m.tag < "0003"));
  db.close();
}
const job = (seq: number, orderKey: string | null): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${seq}`,
  orderKey,
  seq,
  payload: "{}",
  maxAttempts: 3,
  runAt: now,
});
const hasChainIndex = (s: SqliteStore) =>
  !!s.internals.db.sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'jobs_chain'").get();

/** Claims everything ready, finishes it done, and returns the seqs in the order they ran; until nothing is left. */
async function runAll(s: SqliteStore): Promise<Record<string, number[]>> {
  const ran: Record<string, number[]> = {};
  for (let round = 0; round < 100; round++) {
    const { jobs } = await s.jobs.claim({ owner: "w", leaseMs: 10_000, limit: 100, now });
    if (jobs.length === 0) return ran;
    for (const j of jobs) {
      (ran[j.orderKey ?? "-"] ??= []).push(j.seq);
      expect(await s.jobs.finish({ id: j.id, owner: "w", orderKey: j.orderKey, attempts: j.attempts, errors: null }, { type: "done", error: null })).toBe(true);
    }
  }
  throw new Error("jobs still claimable after 100 rounds");
}

beforeEach(() => {
  dir = tempDir();
  path = join(dir, "chains.db");
  now = 10_000_000;
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  removeDir(dir);
});

describe("which mode a file is in", () => {
  test("a file this binary creates starts with the lists: no jobs_chain index to write", async () => {
    const s = open();
    expect(await s.chainMode()).toBe("list");
    expect(hasChainIndex(s)).toBe(false);
  });

  test("a file from before 0003 keeps the index after migrating (an older binary may share it), until adopted", async () => {
    earlierFile();
    const s = open();
    expect(await s.chainMode()).toBe("index");
    expect(hasChainIndex(s)).toBe(true);
    expect(await s.setChainMode("list")).toBe(true);
    expect(await s.chainMode()).toBe("list");
    expect(hasChainIndex(s)).toBe(false);
    expect(await s.setChainMode("list")).toBe(false);
  });
});

describe("adopting the lists mid-flight", () => {
  test("every chain keeps its head and then runs in update_id order, late arrivals and new jobs included", async () => {
    earlierFile();
    const s = open();
    // chat:a: 5 is running when 3 arrives late; 7 and 9 wait. chat:b: 1 ready, 2 waits. chat:c alone. No chain: 100.
    await s.jobs.insert([job(5, "chat:a"), job(1, "chat:b"), job(20, "chat:c"), job(100, null)]);
    const first = (await s.jobs.claim({ owner: "w", leaseMs: 10_000, limit: 1, now })).jobs[0]!;
    expect(first.seq).toBe(5);
    await s.jobs.insert([job(7, "chat:a"), job(3, "chat:a"), job(9, "chat:a"), job(2, "chat:b")]);

    const other = open(); // `tgwh migrate --chain-list` from another process
    expect(await other.setChainMode("list")).toBe(true);
    await other.close();

    const db = s.internals.db.sqlite;
    expect(db.query("SELECT order_key AS k, tail_id AS tail FROM job_chains ORDER BY order_key").all()).toEqual([
      { k: "chat:a", tail: (await s.jobs.byDedupeKey("update:9"))!.id },
      { k: "chat:b", tail: (await s.jobs.byDedupeKey("update:2"))!.id },
      { k: "chat:c", tail: (await s.jobs.byDedupeKey("update:20"))!.id },
    ]);
    // This process had prepared the index mode; its next write notices the switch (one schema-cookie
    // read per transaction) and links the redelivery of 11 and a new 4 into the lists.
    expect((await s.jobs.insert([job(11, "chat:a"), job(4, "chat:b")])).every((r) => r.inserted)).toBe(true);
    expect(await s.jobs.finish({ id: first.id, owner: "w", orderKey: "chat:a", attempts: first.attempts, errors: null }, { type: "done", error: null })).toBe(true);

    const ran = await runAll(s);
    expect(ran).toEqual({ "chat:a": [3, 7, 9, 11], "chat:b": [1, 2, 4], "chat:c": [20], "-": [100] });
    expect(db.query("SELECT count(*) AS n FROM job_chains").get()).toEqual({ n: 0 });
  });

  test("a chain whose jobs all wait (none holds the turn) gets its first job as head instead of stalling", async () => {
    earlierFile();
    const s = open();
    await s.jobs.insert([job(1, "chat:x"), job(2, "chat:x")]);
    s.internals.db.sqlite.run("UPDATE jobs SET ready = 0"); // a state tgwh never leaves; adoption must not freeze it
    expect(await s.setChainMode("list")).toBe(true);
    expect(await runAll(s)).toEqual({ "chat:x": [1, 2] });
  });

  test("the admin's retry of a dead job joins its chain after the job holding the turn", async () => {
    const s = open();
    await s.jobs.insert([job(1, "chat:r")]);
    const head = (await s.jobs.claim({ owner: "w", leaseMs: 10_000, limit: 10, now })).jobs[0]!;
    await s.jobs.finish({ id: head.id, owner: "w", orderKey: "chat:r", attempts: 1, errors: null }, { type: "dead", error: "gave up" });
    await s.jobs.insert([job(2, "chat:r"), job(3, "chat:r")]);
    const running = (await s.jobs.claim({ owner: "w", leaseMs: 10_000, limit: 10, now })).jobs;
    expect(running.map((j: Job) => j.seq)).toEqual([2]);
    expect((await s.jobs.retry(head.id)).outcome).toBe("retried");
    await s.jobs.finish({ id: running[0]!.id, owner: "w", orderKey: "chat:r", attempts: 1, errors: null }, { type: "done", error: null });
    expect(await runAll(s)).toEqual({ "chat:r": [1, 3] });
  });
});

describe("back to the index (before a rollback to a release older than 0003)", () => {
  test("the previous release's statements plan again, and the chains run on in update_id order", async () => {
    const s = open();
    await s.jobs.insert([job(1, "chat:a"), job(2, "chat:a"), job(3, "chat:a"), job(10, "chat:b")]);
    const head = (await s.jobs.claim({ owner: "w", leaseMs: 10_000, limit: 1, now })).jobs[0]!;
    await s.jobs.insert([job(0, "chat:a")]); // late: after the running head, before 2
    expect(await s.setChainMode("index")).toBe(true);
    expect(await s.chainMode()).toBe("index");
    expect(await s.setChainMode("index")).toBe(false);
    const db = s.internals.db.sqlite;
    expect(db.query("SELECT count(*) AS n FROM job_chains").get()).toEqual({ n: 0 });
    for (const sql of [
      "SELECT id FROM jobs INDEXED BY jobs_chain WHERE order_key = ? AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1",
      "SELECT id FROM jobs INDEXED BY jobs_claim WHERE state = 'pending' AND ready = 1 AND run_at <= ? ORDER BY run_at, id LIMIT ?",
    ])
      expect(() => db.prepare(sql)).not.toThrow();
    await s.jobs.finish({ id: head.id, owner: "w", orderKey: "chat:a", attempts: head.attempts, errors: null }, { type: "done", error: null });
    await s.jobs.insert([job(4, "chat:a")]);
    expect(await runAll(s)).toEqual({ "chat:a": [0, 2, 3, 4], "chat:b": [10] });
  });
});

describe("an older binary on a file that adopted the lists", () => {
  test("its statements that pin jobs_chain fail to prepare: it stops at its first chain write instead of breaking the order", async () => {
    const s = open();
    const db = s.internals.db.sqlite;
    // The previous release's chain check and hand-over (src/store/sqlite/job-statements.ts before 0003).
    expect(() =>
      db.prepare("SELECT id FROM jobs INDEXED BY jobs_chain WHERE order_key = ? AND state IN ('pending', 'running') ORDER BY seq, id LIMIT 1"),
    ).toThrow(/no such index: jobs_chain/);
  });
});
