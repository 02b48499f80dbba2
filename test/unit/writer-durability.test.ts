import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { openDb, type Db } from "../../src/store/sqlite/connection";
import { takeOverWalSync, type WalSync } from "../../src/store/sqlite/commit/wal-sync";
import { createWriter } from "../../src/store/sqlite/commit/writer";
import { removeDir, tempDir } from "../support/tgwh";

/**
 * The group-commit writer with the WAL synced off the event loop (issue 8): a write resolves only
 * after a sync that started after its COMMIT has returned. A gate stands in front of the real
 * fdatasync so the test decides when the disk "answers".
 */
let dir: string;
let db: Db;
let real: WalSync;

function gatedSync() {
  const gates: { open: () => void; fail: (e: Error) => void }[] = [];
  let calls = 0;
  const sync: WalSync = {
    sync: () => {
      calls++;
      return new Promise<void>((resolve, reject) => {
        gates.push({ open: () => real.sync().then(resolve, reject), fail: reject });
      });
    },
    syncNow: () => real.syncNow(),
    close: () => real.close(),
  };
  return { sync, gates, calls: () => calls };
}

const count = () => {
  // A second connection sees what is committed, durable or not.
  const other = new Database(join(dir, "w.db"), { readonly: true });
  try {
    return (other.query("SELECT count(*) AS n FROM t").get() as { n: number }).n;
  } finally {
    other.close();
  }
};
const tick = () => new Promise((r) => setTimeout(r, 5));

beforeEach(() => {
  dir = tempDir();
  db = openDb({ path: join(dir, "w.db"), synchronous: "FULL", busyTimeoutMs: 1000, migrate: true });
  db.sqlite.run("CREATE TABLE t (v INTEGER)");
  real = takeOverWalSync(db.sqlite, db.path)!;
});
afterEach(() => {
  real.close();
  db.close();
  removeDir(dir);
});

describe("writer with an off-loop WAL sync", () => {
  test("takes the connection to NORMAL: the writer's own fdatasync provides FULL's guarantee", () => {
    expect(real).not.toBeNull();
    expect(db.sqlite.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
  });

  test("a write is committed first, but resolves only once the sync after it has returned", async () => {
    const g = gatedSync();
    const writer = createWriter(db.sqlite, { walSync: g.sync });
    let resolved = false;
    const p = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (1)")).then(() => (resolved = true));
    await tick();
    expect(count()).toBe(1); // committed
    expect(resolved).toBe(false); // not acknowledged: the sync has not returned
    expect(g.gates).toHaveLength(1);
    g.gates[0]!.open();
    await p;
    expect(resolved).toBe(true);
  });

  test("writes queued while a sync is in flight share the next transaction and its sync", async () => {
    const g = gatedSync();
    const writer = createWriter(db.sqlite, { walSync: g.sync, maxSyncsInFlight: 1 });
    const first = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (1)"));
    await tick();
    const rest = Array.from({ length: 20 }, (_, i) => writer.run(() => db.sqlite.run("INSERT INTO t VALUES (?)", [i + 2])));
    await tick();
    expect(count()).toBe(1); // the 20 wait for the in-flight sync, uncommitted
    g.gates[0]!.open();
    await first;
    await tick();
    expect(count()).toBe(21);
    expect(g.gates).toHaveLength(2); // one transaction, one sync for all 20
    g.gates[1]!.open();
    await Promise.all(rest);
    expect(writer.stats.transactions).toBe(2);
  });

  test("a second sync may start while a slow one runs; a later sync settles the older batches too", async () => {
    const g = gatedSync();
    const writer = createWriter(db.sqlite, { walSync: g.sync, maxSyncsInFlight: 2 });
    let aDone = false;
    let bDone = false;
    const a = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (1)")).then(() => (aDone = true));
    await tick();
    const b = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (2)")).then(() => (bDone = true));
    await tick();
    expect(g.gates).toHaveLength(2);
    g.gates[1]!.open(); // the newer sync returns first: it started after both commits
    await b;
    await a;
    expect([aDone, bDone]).toEqual([true, true]);
    g.gates[0]!.open();
  });

  test("a failed sync rejects its writes (the webhook then answers 503, never 200)", async () => {
    const g = gatedSync();
    const failures: number[] = [];
    const writer = createWriter(db.sqlite, { walSync: g.sync, onFailure: (_e, ops) => failures.push(ops) });
    const p = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (1)"));
    await tick();
    g.gates[0]!.fail(new Error("EIO: fdatasync failed"));
    await expect(p).rejects.toThrow("EIO");
    expect(failures).toEqual([1]);
  });

  test("flush() commits what is queued and syncs it at once (shutdown)", async () => {
    const g = gatedSync();
    const writer = createWriter(db.sqlite, { walSync: g.sync });
    const p = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (1)"));
    writer.flush();
    await p;
    expect(count()).toBe(1);
    expect(g.calls()).toBe(0); // synced inline, not through the gated async path
  });

  test("runAtCommit (claims) resolves when its COMMIT returns; the writes beside it still wait for the sync", async () => {
    const g = gatedSync();
    const stats: number[] = [];
    const writer = createWriter(db.sqlite, { walSync: g.sync, onCommit: (ops) => void stats.push(ops) });
    let claimed = false;
    let stored = false;
    const claim = writer.runAtCommit(() => db.sqlite.run("INSERT INTO t VALUES (1)").changes).then((n) => ((claimed = true), n));
    const insert = writer.run(() => db.sqlite.run("INSERT INTO t VALUES (2)")).then(() => (stored = true));
    await tick();
    expect(count()).toBe(2); // one transaction
    expect(await claim).toBe(1);
    expect(claimed).toBe(true);
    expect(stored).toBe(false); // the insert waits for the sync
    expect(g.gates).toHaveLength(1); // the commit is synced all the same
    g.gates[0]!.open();
    await insert;
    expect(stats).toEqual([2]); // the commit counts both ops
  });

  test("runAtCommit alone: resolved at COMMIT, the commit still synced; a failed transaction rejects it", async () => {
    const g = gatedSync();
    const writer = createWriter(db.sqlite, { walSync: g.sync });
    expect(await writer.runAtCommit(() => db.sqlite.run("INSERT INTO t VALUES (1)").changes)).toBe(1);
    expect(g.gates).toHaveLength(1);
    g.gates[0]!.open();
    const bad = writer.runAtCommit(() => db.sqlite.run("INSERT INTO missing VALUES (1)"));
    await expect(bad).rejects.toThrow();
    expect(await writer.runAtCommit(() => 7)).toBe(7); // the writer goes on
  });
});
