import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { openDb, type Db } from "../../src/store/sqlite/connection";
import { startCheckpointer, withCheckpointThread } from "../../src/store/sqlite/commit/checkpointer";
import { openWalIndex } from "../../src/store/sqlite/commit/wal-index";
import { takeOverWalSync } from "../../src/store/sqlite/commit/wal-sync";
import { createWriter } from "../../src/store/sqlite/commit/writer";
import { removeDir, tempDir } from "../support/tgwh";

/**
 * The WAL checkpoint thread (issue 8) on a real SQLite file: the main connection writes with its
 * own autocheckpoint out of the way, the thread copies the WAL into the database file, and the
 * writer's commit gate lets the WAL start over.
 */
let dir: string;
let path: string;
let db: Db;

const waitFor = async (what: string, cond: () => boolean, ms = 20_000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
};
const row = "x".repeat(400);
const countRows = () => {
  const reopened = new Database(path, { readonly: true });
  try {
    expect(reopened.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    return (reopened.query("SELECT count(*) AS n FROM t").get() as { n: number }).n;
  } finally {
    reopened.close();
  }
};

beforeEach(() => {
  dir = tempDir();
  path = join(dir, "c.db");
  db = openDb({ path, synchronous: "FULL", busyTimeoutMs: 5000, migrate: false });
  db.sqlite.run("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT)");
});
/**
 * Threads the test started, stopped after it whatever happened: a test that failed before its
 * own stop left its thread running, and that thread's death later failed the next test.
 */
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const stop of cleanups.splice(0)) {
    try {
      stop();
    } catch {
      // already stopped by the test
    }
  }
  try {
    db.close();
  } catch {
    // already closed by the test
  }
  removeDir(dir);
});

/**
 * withCheckpointThread, up before the test writes, and with holds that end only when the thread
 * has caught up: until the thread is up the gate holds nothing, and a hold gives up after
 * maxHoldMs (25 ms by default, short for a loaded machine's disk). These tests are about the
 * reset, not that budget (commit-gate.test.ts covers the timeout).
 */
async function threadUp(opts: Parameters<typeof withCheckpointThread>[1] = {}) {
  let ready = false;
  const wrapped = withCheckpointThread(db, { maxHoldMs: 20_000, ...opts, onReady: () => (ready = true) })!;
  expect(wrapped).not.toBeNull();
  cleanups.push(() => wrapped.db.close());
  await waitFor("the checkpoint thread", () => ready);
  return wrapped;
}

describe("checkpoint thread", () => {
  test("copies the WAL into the database while the main connection writes, and stops on stop()", async () => {
    db.sqlite.run("PRAGMA wal_autocheckpoint = 0"); // only the thread checkpoints
    const seen: { log: number; checkpointed: number }[] = [];
    const errors: string[] = [];
    const ck = startCheckpointer(path, { walFrames: 100, pollMs: 10, onCheckpoint: (r) => seen.push(r), onError: (e) => errors.push(e.message) });
    cleanups.push(() => ck.stop());
    await ck.ready;
    const insert = db.sqlite.prepare("INSERT INTO t (n, v) VALUES (?, ?)");
    const tx = db.sqlite.transaction((from: number) => {
      for (let i = from; i < from + 20; i++) insert.run(i, row);
    });
    for (let b = 0; b < 200; b++) {
      tx(b * 20);
      if (b % 10 === 0) await Bun.sleep(2); // the event loop turns, as in the service
    }
    const wal = openWalIndex(path);
    // The thread copies once half of walFrames is waiting: what is left behind is less than that.
    await waitFor("the thread to copy", () => wal.read()!.frames - wal.read()!.backfilled < 50);
    expect(seen.some((r) => r.checkpointed > 0)).toBe(true);
    expect(errors).toEqual([]);

    ck.stop();
    const after = seen.length;
    tx(50_000);
    await Bun.sleep(200);
    expect(seen.length).toBe(after); // the thread is gone: nothing checkpoints any more
    wal.close();
    db.close();
    expect(countRows()).toBe(4000 + 20);
  });

  test("through the writer: the WAL starts over every walFrames, all data stays", async () => {
    const wrapped = await threadUp({ walFrames: 200, pollMs: 10 });
    expect(db.sqlite.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 20_000 });
    expect(db.sqlite.query("PRAGMA journal_size_limit").get()).toEqual({ journal_size_limit: 16 * 1024 * 1024 });
    const walSync = takeOverWalSync(db.sqlite, path)!;
    const writer = createWriter(db.sqlite, { walSync, commitGate: wrapped.commitGate });
    const insert = db.sqlite.prepare("INSERT INTO t (n, v) VALUES (?, ?)");
    const wal = openWalIndex(path);
    let maxFrames = 0;
    let resets = 0;
    let last = 0;
    for (let b = 0; b < 150; b++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => writer.run(() => insert.run(b * 20 + i, row))));
      const f = wal.read()!.frames;
      if (f < last) resets++;
      last = f;
      maxFrames = Math.max(maxFrames, f);
    }
    // 150 commits write ~600 frames: the WAL was reset each time it reached walFrames and never
    // grew much past it (one batch beyond at most).
    expect(resets).toBeGreaterThanOrEqual(2);
    expect(maxFrames).toBeLessThan(400);
    wal.close();
    writer.flush();
    walSync.close();
    wrapped.db.close(); // stops the thread (blocking until its connection is closed), then the main one
    expect(() => db.sqlite.query("SELECT 1").get()).toThrow();
    expect(countRows()).toBe(3000);
  });

  test("a WAL grown in a burst is truncated to the size limit when the writer resets it", async () => {
    const wrapped = await threadUp({ walFrames: 200, pollMs: 10, walSizeLimitBytes: 64 * 1024 });
    const writer = createWriter(db.sqlite, { commitGate: wrapped.commitGate });
    const insert = db.sqlite.prepare("INSERT INTO t (n, v) VALUES (?, ?)");
    await writer.run(() => {
      for (let i = 0; i < 5000; i++) insert.run(i, row); // one big transaction: a multi-MB WAL
    });
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1024 * 1024);
    // The next commit waits for the thread to copy everything, then starts the WAL over.
    await writer.run(() => insert.run(10_000, "after the burst"));
    expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(64 * 1024);
    wrapped.db.close();
    expect(countRows()).toBe(5001);
  });

  test("in-memory databases are left alone; a thread that cannot open its file reports it", async () => {
    const mem = openDb({ path: ":memory:", synchronous: "NORMAL", busyTimeoutMs: 100, migrate: false });
    expect(withCheckpointThread(mem)).toBeNull();
    mem.close();

    let died: Error | null = null;
    const ck = startCheckpointer(join(dir, "missing.db"), { pollMs: 10, onDeath: (e) => (died = e) });
    cleanups.push(() => ck.stop());
    await expect(ck.ready).rejects.toThrow(/could not start on .*missing\.db/);
    expect(died).not.toBeNull();
    expect(ck.commitGate()).toBeNull(); // a dead thread never holds the writer
    ck.stop(); // harmless after a death
  });
});
