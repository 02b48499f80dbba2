import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDb, type Db } from "../../src/db/client";
import { createWriter, type Writer } from "../../src/db/writer";
import { createJobStore, type JobStore } from "../../src/queue/store";
import type { NewJob } from "../../src/queue/types";
import { removeDir, tempDir } from "../support/tgwh";

let dir: string;
let db: Db;
let writer: Writer;
let store: JobStore;
let now = 1_000_000;
const clock = () => now;

const job = (id: number, orderKey: string | null, extra: Partial<NewJob> = {}): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${id}`,
  orderKey,
  seq: id,
  payload: JSON.stringify({ update_id: id }),
  maxAttempts: 3,
  runAt: now,
  ...extra,
});
const claim = (limit: number, owner = "w1") => store.claim({ owner, leaseMs: 10_000, limit, now });
const seqs = (rows: { seq: number }[]) => rows.map((r) => r.seq);
const target = (r: { id: number; orderKey: string | null; attempts: number; errors: string | null }, owner = "w1") => ({ ...r, owner });

beforeEach(() => {
  dir = tempDir();
  db = openDb({ path: join(dir, "q.db"), synchronous: "FULL", busyTimeoutMs: 1000, migrate: true });
  writer = createWriter(db.sqlite);
  store = createJobStore(db.sqlite, writer, clock);
  now = 1_000_000;
});
afterEach(() => {
  db.close();
  removeDir(dir);
});

describe("enqueue", () => {
  test("a dedupe_key is stored once; the duplicate reports the first job's id", async () => {
    const [a] = await store.enqueue([job(1, "chat:1")]);
    const [b] = await store.enqueue([job(1, "chat:1")]);
    expect(a!.inserted).toBe(true);
    expect(b).toEqual({ id: a!.id, inserted: false });
    expect(db.sqlite.query("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: 1 });
  });
});

describe("claim ordering", () => {
  test("one job per chain at a time, in seq order; chains run in parallel", async () => {
    await store.enqueue([job(1, "chat:A"), job(2, "chat:B"), job(3, "chat:A"), job(4, "chat:A"), job(5, null)]);
    const first = await claim(10);
    expect(seqs(first.jobs)).toEqual([1, 2, 5]);
    expect(seqs((await claim(10)).jobs)).toEqual([]); // A's next waits for 1
    const one = first.jobs.find((j) => j.seq === 1)!;
    await store.finish(target(one), { type: "done", error: null });
    expect(seqs((await claim(10)).jobs)).toEqual([3]);
  });

  test("a retried job keeps its chain waiting until it runs again", async () => {
    await store.enqueue([job(1, "chat:A"), job(2, "chat:A")]);
    const [j1] = (await claim(10)).jobs;
    await store.finish(target(j1!), { type: "retry", runAt: now + 5000, error: "boom", spendAttempt: true });
    expect((await claim(10)).jobs).toEqual([]);
    now += 5000;
    expect(seqs((await claim(10)).jobs)).toEqual([1]);
  });

  test("a dead job hands the turn on to the next one in its chain", async () => {
    await store.enqueue([job(1, "chat:A"), job(2, "chat:A")]);
    const [j1] = (await claim(10)).jobs;
    await store.finish(target(j1!), { type: "dead", error: "gave up" });
    expect(seqs((await claim(10)).jobs)).toEqual([2]);
  });

  test("claims come in run_at order and respect the limit", async () => {
    await store.enqueue([job(1, null, { runAt: now + 10 }), job(2, null, { runAt: now - 10 }), job(3, null, { runAt: now + 99_000 })]);
    now += 20;
    expect(seqs((await claim(1)).jobs)).toEqual([2]);
    expect(seqs((await claim(5)).jobs)).toEqual([1]);
  });
});

describe("leases", () => {
  test("an expired lease makes the job claimable again; another owner cannot finish it", async () => {
    await store.enqueue([job(1, "chat:A")]);
    const [j] = (await claim(1, "crashed")).jobs;
    expect((await claim(1, "w2")).jobs).toEqual([]); // live lease is never taken
    now += 10_001;
    const again = await claim(1, "w2");
    expect(again.expired.map((e) => e.id)).toEqual([j!.id]);
    expect(again.jobs[0]!.attempts).toBe(2);
    expect(await store.finish(target(j!, "crashed"), { type: "done", error: null })).toBe(false);
    expect(await store.finish(target(again.jobs[0]!, "w2"), { type: "done", error: null })).toBe(true);
  });

  test("a lease expiring on the last attempt ends the job dead and frees its chain", async () => {
    await store.enqueue([job(1, "chat:A", { maxAttempts: 1 }), job(2, "chat:A")]);
    await claim(1, "crashed");
    now += 10_001;
    const r = await claim(5, "w2");
    expect(r.expired[0]!.state).toBe("dead");
    expect(seqs(r.jobs)).toEqual([2]);
  });

  test("a rescheduled attempt (429) does not spend an attempt", async () => {
    await store.enqueue([job(1, null)]);
    const [j] = (await claim(1)).jobs;
    await store.finish(target(j!), { type: "retry", runAt: now, error: "429", spendAttempt: false });
    expect(store.byId(j!.id)!.attempts).toBe(0);
    expect(JSON.parse(store.byId(j!.id)!.errors!)).toHaveLength(1);
  });

  test("a restarted instance takes back its previous process's running jobs at once", async () => {
    await store.enqueue([job(1, null)]);
    await claim(1, "host:8080/111-aa");
    expect(await store.releaseOwnPrevious("host:8080/", "host:8080/222-bb")).toBe(1);
    expect(await store.releaseOwnPrevious("host:9090/", "host:9090/1-x")).toBe(0);
    const [again] = (await claim(1, "host:8080/222-bb")).jobs;
    expect(again!.attempts).toBe(1);
  });
});

describe("group commit", () => {
  test("writes queued in one turn share one transaction", async () => {
    const before = writer.stats.transactions;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.enqueue([job(100 + i, `chat:${i % 5}`)])));
    expect(results.every(([r]) => r!.inserted)).toBe(true);
    expect(writer.stats.transactions - before).toBe(1);
  });

  test("a failing commit rejects every write of its batch and stores none", async () => {
    db.sqlite.run("CREATE TRIGGER refuse BEFORE INSERT ON jobs WHEN NEW.seq = 13 BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const all = await Promise.allSettled([store.enqueue([job(12, null)]), store.enqueue([job(13, null)])]);
    expect(all.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(db.sqlite.query("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: 0 });
  });
});
