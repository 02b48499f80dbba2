/**
 * The store contract: what every engine behind src/store/types.ts must do, driven only through
 * the Store interface (no SQL, no engine internals), so the same suite runs on SQLite and on
 * PostgreSQL. An engine's test file calls storeContract() with a factory that opens a
 * fresh, migrated, empty store on a real server or file.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { MAX_KEPT_ERRORS, PRUNE_BATCH, QUEUE_COUNT_LIMIT, RETRY_DEAD_MAX } from "../../src/store/job-rules";
import type { FinishTarget, Job, NewJob, Store } from "../../src/store/types";

export interface OpenedStore {
  store: Store;
  /** Closes this store and opens the same data again (durability across a restart). */
  reopen(): Promise<Store>;
  /** Closes whatever is open and removes the data. */
  destroy(): Promise<void>;
}

/** Opens a fresh, migrated, empty store whose clock is `clock`. */
export type StoreFactory = (clock: () => number) => Promise<OpenedStore>;

export function storeContract(engine: string, open: StoreFactory): void {
  let opened: OpenedStore;
  let store: Store;
  let now = 1_000_000;
  const clock = () => now;

  const job = (seq: number, orderKey: string | null, extra: Partial<NewJob> = {}): NewJob => ({
    kind: "telegram.update",
    dedupeKey: `update:${seq}`,
    orderKey,
    seq,
    payload: JSON.stringify({ update_id: seq }),
    maxAttempts: 3,
    runAt: now,
    ...extra,
  });
  const claim = (limit: number | (() => number), owner = "w1", extra: { leaseMs?: number; expireLeases?: boolean } = {}) =>
    store.jobs.claim({ owner, leaseMs: extra.leaseMs ?? 10_000, limit, now, expireLeases: extra.expireLeases });
  const seqs = (rows: { seq: number }[]) => rows.map((r) => r.seq);
  const target = (r: Job, owner = "w1"): FinishTarget => ({ id: r.id, owner, orderKey: r.orderKey, attempts: r.attempts, errors: r.errors });
  const get = async (id: number) => (await store.jobs.byId(id))!;
  /** Inserts one job, claims it and ends it the given way; returns its id. */
  async function endJob(j: NewJob, how: "done" | "discarded" | "dead"): Promise<number> {
    const [r] = await store.jobs.insert([j]);
    const claimed = (await claim(100)).jobs.find((c) => c.id === r!.id)!;
    const f = how === "done" ? ({ type: "done", error: null } as const) : ({ type: how, error: `ended ${how}` } as const);
    expect(await store.jobs.finish(target(claimed), f)).toBe(true);
    return r!.id;
  }

  describe(`store contract: ${engine}`, () => {
    beforeEach(async () => {
      now = 1_000_000;
      opened = await open(clock);
      store = opened.store;
    });
    afterEach(async () => {
      await opened.destroy();
    });

    describe("jobs.insert", () => {
      test("a dedupe_key is stored once; the duplicate reports the first job's id", async () => {
        const [a] = await store.jobs.insert([job(1, "chat:1")]);
        const [b] = await store.jobs.insert([job(1, "chat:1", { payload: "{}" })]);
        expect(a!.inserted).toBe(true);
        expect(b).toEqual({ id: a!.id, inserted: false });
        expect((await store.jobs.byDedupeKey("update:1"))!.payload).toBe(JSON.stringify({ update_id: 1 }));
        expect(await store.jobs.list({ limit: 10 })).toHaveLength(1);
      });

      test("a batch answers one result per job in order, duplicates inside the batch and against stored jobs included", async () => {
        const [first] = await store.jobs.insert([job(1, null)]);
        const res = await store.jobs.insert([job(2, null), job(1, null), job(3, "chat:9"), job(2, null)]);
        expect(res.map((r) => r.inserted)).toEqual([true, false, true, false]);
        expect(res[1]!.id).toBe(first!.id);
        expect(res[3]!.id).toBe(res[0]!.id);
        expect(new Set(res.map((r) => r.id)).size).toBe(3);
      });

      test("a stored job is pending with no attempts, stamped with the store's clock", async () => {
        now = 5_000_000;
        const [r] = await store.jobs.insert([job(7, "chat:7", { runAt: 6_000_000, maxAttempts: 4, kind: "notify.send" })]);
        expect(await store.jobs.byId(r!.id)).toMatchObject({
          id: r!.id, kind: "notify.send", dedupeKey: "update:7", orderKey: "chat:7", seq: 7, ready: 1, state: "pending",
          attempts: 0, maxAttempts: 4, runAt: 6_000_000, createdAt: 5_000_000, leaseOwner: null, leaseUntil: null,
          lastError: null, errors: null, startedAt: null, finishedAt: null,
        });
        expect(await store.jobs.byId(r!.id + 1000)).toBeNull();
        expect(await store.jobs.byDedupeKey("update:nope")).toBeNull();
      });

      test("only the first unfinished job of a chain is ready; other chains and unordered jobs are", async () => {
        const res = await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A"), job(3, "chat:B"), job(4, null), job(5, null)]);
        const ready = await Promise.all(res.map(async (r) => (await get(r.id)).ready));
        expect(ready).toEqual([1, 0, 1, 1, 1]);
      });
    });

    describe("jobs.claim", () => {
      test("one job per chain at a time, in seq order; chains run in parallel", async () => {
        await store.jobs.insert([job(1, "chat:A"), job(2, "chat:B"), job(3, "chat:A"), job(4, "chat:A"), job(5, null)]);
        const first = await claim(10);
        expect(seqs(first.jobs).sort()).toEqual([1, 2, 5]);
        expect(seqs((await claim(10)).jobs)).toEqual([]); // A's next waits for 1
        await store.jobs.finish(target(first.jobs.find((j) => j.seq === 1)!), { type: "done", error: null });
        expect(seqs((await claim(10)).jobs)).toEqual([3]);
      });

      test("a chain's next job waits even when its seq arrived out of order: (seq, id) order decides", async () => {
        await store.jobs.insert([job(10, "chat:A")]);
        await store.jobs.insert([job(12, "chat:A"), job(11, "chat:A")]);
        const order: number[] = [];
        for (let i = 0; i < 3; i++) {
          const [j] = (await claim(10)).jobs;
          order.push(j!.seq);
          await store.jobs.finish(target(j!), { type: "done", error: null });
        }
        expect(order).toEqual([10, 11, 12]);
      });

      test("claims come in run_at order, respect the limit and never take a future job", async () => {
        await store.jobs.insert([job(1, null, { runAt: now + 10 }), job(2, null, { runAt: now - 10 }), job(3, null, { runAt: now + 99_000 })]);
        now += 20;
        expect(seqs((await claim(1)).jobs)).toEqual([2]);
        expect(seqs((await claim(5)).jobs)).toEqual([1]);
        expect(seqs((await claim(5)).jobs)).toEqual([]);
      });

      test("a limit function is read when the claim runs; a limit of 0 claims nothing", async () => {
        await store.jobs.insert([job(1, null), job(2, null), job(3, null)]);
        expect((await claim(0)).jobs).toEqual([]);
        let asked = 0;
        const r = await claim(() => (asked++, 2));
        expect(asked).toBe(1);
        expect(r.jobs).toHaveLength(2);
      });

      test("a claimed job is running, leased to its owner, with the attempt counted", async () => {
        await store.jobs.insert([job(1, "chat:A")]);
        const [j] = (await claim(1, "owner-1", { leaseMs: 30_000 })).jobs;
        expect(j).toMatchObject({ state: "running", leaseOwner: "owner-1", leaseUntil: now + 30_000, attempts: 1, startedAt: now });
        expect(await store.jobs.byId(j!.id)).toEqual(j!);
      });
    });

    describe("leases", () => {
      test("a live lease is never taken; an expired one returns the job to the queue for any owner", async () => {
        await store.jobs.insert([job(1, "chat:A")]);
        const [j] = (await claim(1, "crashed")).jobs;
        expect((await claim(1, "w2")).jobs).toEqual([]);
        now += 10_001;
        const again = await claim(1, "w2");
        expect(again.expired).toEqual([{ id: j!.id, kind: "telegram.update", seq: 1, orderKey: "chat:A", state: "pending" }]);
        expect(again.jobs[0]).toMatchObject({ id: j!.id, attempts: 2, leaseOwner: "w2" });
        expect(again.jobs[0]!.lastError).toContain("lease expired");
        expect(await store.jobs.finish(target(j!, "crashed"), { type: "done", error: null })).toBe(false);
        expect(await store.jobs.finish(target(again.jobs[0]!, "w2"), { type: "done", error: null })).toBe(true);
      });

      test("expireLeases: false leaves expired leases alone", async () => {
        await store.jobs.insert([job(1, null)]);
        await claim(1, "crashed");
        now += 10_001;
        const r = await claim(5, "w2", { expireLeases: false });
        expect(r).toEqual({ expired: [], jobs: [] });
        expect((await claim(5, "w2")).expired).toHaveLength(1);
      });

      test("a lease expiring on the last attempt ends the job dead and frees its chain", async () => {
        await store.jobs.insert([job(1, "chat:A", { maxAttempts: 1 }), job(2, "chat:A")]);
        const [j] = (await claim(1, "crashed")).jobs;
        now += 10_001;
        const r = await claim(5, "w2");
        expect(r.expired).toEqual([{ id: j!.id, kind: "telegram.update", seq: 1, orderKey: "chat:A", state: "dead" }]);
        expect(seqs(r.jobs)).toEqual([2]);
        expect(await get(j!.id)).toMatchObject({ state: "dead", finishedAt: now, leaseOwner: null, leaseUntil: null });
      });

      test("a restarted instance takes back its previous process's running jobs at once, and only those", async () => {
        await store.jobs.insert([job(1, null), job(2, null), job(3, null)]);
        await claim(1, "host:8080/111-aa");
        await claim(1, "hostX8080/1-zz"); // `_` and `%` in a prefix are not wildcards
        await claim(1, "host:8080/222-bb"); // this process's own lease stays
        expect(await store.jobs.releaseOwnPrevious("host_8080/", "host_8080/9")).toBe(0);
        expect(await store.jobs.releaseOwnPrevious("host:8080/", "host:8080/222-bb")).toBe(1);
        expect(await store.jobs.releaseOwnPrevious("host:9090/", "host:9090/1-x")).toBe(0);
        const [again] = (await claim(1, "host:8080/222-bb")).jobs;
        expect(again!.seq).toBe(1);
        expect(again!.attempts).toBe(1); // the interrupted attempt was given back
      });
    });

    describe("jobs.finish", () => {
      test("done: finished, lease cleared, no error, never claimed again; the chain's next job gets the turn", async () => {
        await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A")]);
        const [j] = (await claim(5)).jobs;
        now += 7;
        expect(await store.jobs.finish(target(j!), { type: "done", error: null })).toBe(true);
        expect(await get(j!.id)).toMatchObject({ state: "done", finishedAt: now, lastError: null, errors: null, leaseOwner: null, leaseUntil: null });
        expect(seqs((await claim(5)).jobs)).toEqual([2]);
        expect(await store.jobs.finish(target(j!), { type: "done", error: null })).toBe(false);
      });

      test("discarded: kept with its error, never retried, and it hands the chain on", async () => {
        await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A")]);
        const [j] = (await claim(5)).jobs;
        expect(await store.jobs.finish(target(j!), { type: "discarded", error: "PermanentJobError: 403 blocked" })).toBe(true);
        const row = await get(j!.id);
        expect(row).toMatchObject({ state: "discarded", lastError: "PermanentJobError: 403 blocked", finishedAt: now });
        expect(JSON.parse(row.errors!)).toEqual([{ attempt: 1, at: now, error: "PermanentJobError: 403 blocked" }]);
        expect(seqs((await claim(5)).jobs)).toEqual([2]);
        expect(await store.jobs.retry(j!.id)).toEqual({ outcome: "not_dead", state: "discarded" });
      });

      test("dead: kept with its error, and it hands the chain on", async () => {
        await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A")]);
        const [j] = (await claim(5)).jobs;
        await store.jobs.finish(target(j!), { type: "dead", error: "gave up" });
        expect(await get(j!.id)).toMatchObject({ state: "dead", lastError: "gave up" });
        expect(seqs((await claim(5)).jobs)).toEqual([2]);
      });

      test("retry: back to pending at run_at with the error kept; its chain waits until it runs again", async () => {
        await store.jobs.insert([job(1, "chat:A"), job(2, "chat:A")]);
        const [j1] = (await claim(10)).jobs;
        await store.jobs.finish(target(j1!), { type: "retry", runAt: now + 5000, error: "boom", spendAttempt: true });
        expect(await get(j1!.id)).toMatchObject({ state: "pending", runAt: now + 5000, attempts: 1, lastError: "boom", leaseOwner: null, leaseUntil: null });
        expect((await claim(10)).jobs).toEqual([]);
        now += 5000;
        const [again] = (await claim(10)).jobs;
        expect(again).toMatchObject({ seq: 1, attempts: 2 });
        expect(JSON.parse(again!.errors!)).toEqual([{ attempt: 1, at: now - 5000, error: "boom" }]);
      });

      test("a rescheduled attempt (429) gives the attempt back but keeps the error", async () => {
        await store.jobs.insert([job(1, null)]);
        const [j] = (await claim(1)).jobs;
        await store.jobs.finish(target(j!), { type: "retry", runAt: now, error: "429", spendAttempt: false });
        const row = await get(j!.id);
        expect(row.attempts).toBe(0);
        expect(JSON.parse(row.errors!)).toHaveLength(1);
      });

      test("only the lease holder finishes a job", async () => {
        await store.jobs.insert([job(1, null)]);
        const [j] = (await claim(1, "w1")).jobs;
        expect(await store.jobs.finish(target(j!, "w2"), { type: "done", error: null })).toBe(false);
        expect(await store.jobs.finish(target(j!, "w2"), { type: "retry", runAt: now, error: "x", spendAttempt: true })).toBe(false);
        expect((await get(j!.id)).state).toBe("running");
      });

      test("the error history keeps the newest entries only", async () => {
        await store.jobs.insert([job(1, null, { maxAttempts: 100 })]);
        for (let i = 1; i <= MAX_KEPT_ERRORS + 3; i++) {
          const [j] = (await claim(1)).jobs;
          await store.jobs.finish(target(j!), { type: "retry", runAt: now, error: `e${i}`, spendAttempt: true });
        }
        const list = JSON.parse((await store.jobs.byDedupeKey("update:1"))!.errors!) as { error: string }[];
        expect(list).toHaveLength(MAX_KEPT_ERRORS);
        expect(list.at(-1)!.error).toBe(`e${MAX_KEPT_ERRORS + 3}`);
        expect(list[0]!.error).toBe("e4");
      });
    });

    describe("jobs.nextWakeAt", () => {
      test("the earliest ready run_at or lease expiry; null when nothing waits", async () => {
        expect(await store.jobs.nextWakeAt()).toBeNull();
        await store.jobs.insert([job(1, null, { runAt: now + 50_000 }), job(2, "chat:A", { runAt: now + 40_000 }), job(3, "chat:A", { runAt: now + 1 })]);
        expect(await store.jobs.nextWakeAt()).toBe(now + 40_000); // seq 3 is not its chain's head
        await store.jobs.insert([job(4, null)]);
        await claim(1, "w1", { leaseMs: 20_000 });
        expect(await store.jobs.nextWakeAt()).toBe(now + 20_000);
      });
    });

    describe("operator queries", () => {
      test("list pages newest first by cursor, filtered by state and kind", async () => {
        await store.jobs.insert([1, 2, 3, 4, 5].map((i) => job(i, null)));
        await store.jobs.insert([job(6, null, { kind: "notify.send", dedupeKey: "notify:x" })]);
        const p1 = await store.jobs.list({ kind: "telegram.update", limit: 2 });
        const p2 = await store.jobs.list({ kind: "telegram.update", limit: 2, cursor: p1[1]!.id });
        const p3 = await store.jobs.list({ kind: "telegram.update", limit: 2, cursor: p2[1]!.id });
        expect([...p1, ...p2, ...p3].map((j) => j.seq)).toEqual([5, 4, 3, 2, 1]);
        expect(await store.jobs.list({ state: "dead", limit: 10 })).toEqual([]);
        expect(await store.jobs.list({ kind: "notify.send", limit: 10 })).toHaveLength(1);
        await endJob(job(7, null), "discarded");
        expect((await store.jobs.list({ state: "discarded", limit: 10 })).map((j) => j.seq)).toEqual([7]);
      });

      test("a dead job without a busy chain is retried: pending, ready, attempts reset", async () => {
        const id = await endJob(job(1, "chat:1", { maxAttempts: 1 }), "dead");
        now += 5000;
        const res = await store.jobs.retry(id);
        expect(res.outcome).toBe("retried");
        if (res.outcome !== "retried") return;
        expect(res.job).toMatchObject({ state: "pending", attempts: 0, ready: 1, runAt: now, finishedAt: null, lastError: "ended dead" });
        expect((await claim(5)).jobs.map((j) => j.id)).toEqual([id]);
      });

      test("a retried dead job whose chain is busy waits for the chain's turn, then runs before later jobs", async () => {
        const dead = await endJob(job(1, "chat:1"), "dead");
        await store.jobs.insert([job(2, "chat:1"), job(3, "chat:1")]);
        const { jobs: running } = await claim(5);
        expect(running.map((j) => j.seq)).toEqual([2]);
        const res = await store.jobs.retry(dead);
        expect(res.outcome === "retried" && res.job.ready).toBe(0);
        expect((await claim(5)).jobs).toEqual([]);
        await store.jobs.finish(target(running[0]!), { type: "done", error: null });
        expect((await claim(5)).jobs.map((j) => j.seq)).toEqual([1]);
      });

      test("only dead jobs are retried; unknown ids say so", async () => {
        const [r] = await store.jobs.insert([job(1, null)]);
        expect(await store.jobs.retry(r!.id)).toEqual({ outcome: "not_dead", state: "pending" });
        const done = await endJob(job(2, null), "done");
        expect(await store.jobs.retry(done)).toEqual({ outcome: "not_dead", state: "done" });
        expect(await store.jobs.retry(r!.id + 999)).toEqual({ outcome: "not_found" });
      });

      test("retryDead takes the oldest first, is bounded, and reports what is left", async () => {
        const ids: number[] = [];
        for (let i = 1; i <= 3; i++) ids.push(await endJob(job(i, null), "dead"));
        const first = await store.jobs.retryDead(2);
        expect(first).toEqual({ retried: ids.slice(0, 2), remaining: 1 });
        expect(await store.jobs.retryDead(RETRY_DEAD_MAX + 10)).toEqual({ retried: [ids[2]!], remaining: 0 });
        expect((await store.jobs.list({ state: "pending", limit: 10 })).map((j) => j.seq)).toEqual([3, 2, 1]);
      });
    });

    describe("jobs.stats", () => {
      test("an empty store reads as zero everywhere", async () => {
        expect(await store.jobs.stats()).toEqual({ byStateKind: [], countLimit: QUEUE_COUNT_LIMIT, doneEstimate: 0, oldestPendingAgeSeconds: 0 });
      });

      test("counts by state and kind, a done estimate that bounds the done count, and the oldest runnable job's age", async () => {
        await endJob(job(1, null), "done");
        await endJob(job(2, null), "done");
        await endJob(job(3, null, { kind: "notify.send", dedupeKey: "n:3" }), "discarded");
        await endJob(job(4, null), "dead");
        await store.jobs.insert([job(5, null, { runAt: now - 5000 }), job(6, null, { runAt: now + 60_000, kind: "notify.send", dedupeKey: "n:6" })]);
        await store.jobs.insert([job(7, null, { runAt: now - 1000 })]);
        await claim(1); // takes seq 5 (oldest run_at)
        const s = await store.jobs.stats();
        const sorted = [...s.byStateKind].sort((a, b) => `${a.state}/${a.kind}`.localeCompare(`${b.state}/${b.kind}`));
        expect(sorted).toEqual([
          { state: "dead", kind: "telegram.update", count: 1 },
          { state: "discarded", kind: "notify.send", count: 1 },
          { state: "pending", kind: "notify.send", count: 1 },
          { state: "pending", kind: "telegram.update", count: 1 },
          { state: "running", kind: "telegram.update", count: 1 },
        ]);
        expect(s.doneEstimate).toBeGreaterThanOrEqual(2);
        expect(s.doneEstimate).toBeLessThanOrEqual(7);
        expect(s.oldestPendingAgeSeconds).toBe(1); // seq 7; seq 6 is not runnable yet
        expect(s.countLimit).toBe(QUEUE_COUNT_LIMIT);
      });
    });

    describe("jobs.prune", () => {
      test("deletes done and discarded jobs finished before the cut-off, nothing else; dedupe holds until then", async () => {
        const oldDone = await endJob(job(1, null), "done");
        const oldDiscarded = await endJob(job(2, null), "discarded");
        const oldDead = await endJob(job(3, null), "dead");
        now += 100_000;
        const newDone = await endJob(job(4, null), "done");
        const newDiscarded = await endJob(job(5, null), "discarded");
        await store.jobs.insert([job(6, null)]);
        // Inside the window a finished job still dedupes its key, whatever way it ended.
        for (const seq of [1, 2, 4, 5]) expect((await store.jobs.insert([job(seq, null)]))[0]!.inserted).toBe(false);
        expect(await store.jobs.prune(now - 50_000)).toBe(2);
        expect(await store.jobs.byId(oldDone)).toBeNull();
        expect(await store.jobs.byId(oldDiscarded)).toBeNull();
        for (const id of [oldDead, newDone, newDiscarded]) expect(await store.jobs.byId(id)).not.toBeNull();
        expect(await store.jobs.byDedupeKey("update:6")).not.toBeNull();
        expect(await store.jobs.prune(now - 50_000)).toBe(0);
        // Past the window the key is free again.
        expect((await store.jobs.insert([job(1, null)]))[0]!.inserted).toBe(true);
      });

      test("prunes more than one batch in one call", async () => {
        await store.jobs.insert(Array.from({ length: PRUNE_BATCH + 500 }, (_, i) => job(10_000 + i, null)));
        const { jobs } = await claim(PRUNE_BATCH + 1000);
        expect(jobs).toHaveLength(PRUNE_BATCH + 500);
        await Promise.all(jobs.map((j) => store.jobs.finish(target(j), { type: "done", error: null })));
        now += 1000;
        expect(await store.jobs.prune(now)).toBe(PRUNE_BATCH + 500);
      });
    });

    describe("users", () => {
      test("a sighting inserts, a later one refreshes what it carries and keeps what it does not say", async () => {
        const a = await store.users.upsert({ telegramId: 42, firstName: "Ada", lastName: "L", username: "ada", languageCode: "en", isPremium: true, photoUrl: "https://t.me/a.jpg" }, 1000);
        expect(a).toEqual({ telegramId: 42, firstName: "Ada", lastName: "L", username: "ada", languageCode: "en", isPremium: true, photoUrl: "https://t.me/a.jpg", firstSeen: 1000, lastSeen: 1000 });
        const b = await store.users.upsert({ telegramId: 42, firstName: "Ada2", lastName: null, username: null }, 2000);
        expect(b).toEqual({ ...a, firstName: "Ada2", lastName: null, username: null, lastSeen: 2000 });
        const c = await store.users.upsert({ telegramId: 42, firstName: "Ada2", lastName: null, username: null, isPremium: false }, 1500);
        expect(c).toMatchObject({ isPremium: false, lastSeen: 2000, firstSeen: 1000 }); // last_seen never goes back
        expect(await store.users.byId(42)).toEqual(c);
        expect(await store.users.byId(43)).toBeNull();
        const fresh = await store.users.upsert({ telegramId: 7, firstName: "W", lastName: null, username: null }, 10);
        expect(fresh).toMatchObject({ isPremium: false, languageCode: null, photoUrl: null });
      });
    });

    describe("service accounts", () => {
      test("create, a taken name, lookups by name and by token hash; the hash never leaves the store", async () => {
        now = 2_000;
        const a = await store.accounts.create({ name: "ops", role: "operator", tokenHash: "h1" });
        expect(a).toEqual({ id: a!.id, name: "ops", role: "operator", createdAt: 2_000, revokedAt: null, lastUsedAt: null });
        expect(await store.accounts.create({ name: "ops", role: "admin", tokenHash: "h2" })).toBeNull();
        expect(await store.accounts.byName("ops")).toEqual(a);
        expect(await store.accounts.byTokenHash("h1")).toEqual(a);
        expect(await store.accounts.byTokenHash("h2")).toBeNull();
        expect(await store.accounts.byName("nobody")).toBeNull();
        expect(JSON.stringify(await store.accounts.list(10, 0))).not.toContain("h1");
      });

      test("revoke is idempotent (the first time stays); unknown names answer null; a revoked account is still found by hash", async () => {
        await store.accounts.create({ name: "ci", role: "service", tokenHash: "h" });
        now = 5_000;
        expect((await store.accounts.revoke("ci"))!.revokedAt).toBe(5_000);
        now = 6_000;
        expect((await store.accounts.revoke("ci"))!.revokedAt).toBe(5_000);
        expect(await store.accounts.revoke("nobody")).toBeNull();
        expect((await store.accounts.byTokenHash("h"))!.revokedAt).toBe(5_000);
      });

      test("list pages by id ascending", async () => {
        for (const n of ["a", "b", "c"]) await store.accounts.create({ name: n, role: "viewer", tokenHash: `h-${n}` });
        const p1 = await store.accounts.list(2, 0);
        const p2 = await store.accounts.list(2, p1[1]!.id);
        expect([...p1, ...p2].map((a) => a.name)).toEqual(["a", "b", "c"]);
      });

      test("touchLastUsed writes unless a newer use is recorded", async () => {
        const a = (await store.accounts.create({ name: "t", role: "viewer", tokenHash: "ht" }))!;
        await store.accounts.touchLastUsed(a.id, 100_000, 40_000);
        expect((await store.accounts.byName("t"))!.lastUsedAt).toBe(100_000);
        await store.accounts.touchLastUsed(a.id, 120_000, 60_000); // 100k is newer than 60k: kept
        expect((await store.accounts.byName("t"))!.lastUsedAt).toBe(100_000);
        await store.accounts.touchLastUsed(a.id, 200_000, 140_000);
        expect((await store.accounts.byName("t"))!.lastUsedAt).toBe(200_000);
      });
    });

    describe("audit log", () => {
      test("records with the store's clock and pages newest first", async () => {
        for (let i = 0; i < 5; i++) {
          now = 10_000 + i;
          await store.audit.record({ actor: "cli:root", action: `x${i}`, target: i % 2 ? String(i) : null, result: "ok", detail: i === 0 ? '{"a":1}' : null });
        }
        const p1 = await store.audit.page(2, null);
        const p2 = await store.audit.page(2, p1[1]!.id);
        const p3 = await store.audit.page(2, p2[1]!.id);
        expect([...p1, ...p2, ...p3].map((r) => r.action)).toEqual(["x4", "x3", "x2", "x1", "x0"]);
        expect(p3[0]).toMatchObject({ actor: "cli:root", action: "x0", target: null, result: "ok", detail: '{"a":1}', at: 10_000 });
      });
    });

    describe("settings", () => {
      test("get, set (overwrite), getOrCreate (first value wins), delete", async () => {
        expect(await store.settings.get("k")).toBeNull();
        await store.settings.set("k", "v1");
        await store.settings.set("k", "v2");
        expect(await store.settings.get("k")).toBe("v2");
        let made = 0;
        const make = () => `gen${++made}`;
        expect(await store.settings.getOrCreate("secret", make)).toBe("gen1");
        expect(await store.settings.getOrCreate("secret", make)).toBe("gen1");
        expect(made).toBeLessThanOrEqual(2);
        const both = await Promise.all([store.settings.getOrCreate("race", make), store.settings.getOrCreate("race", make)]);
        expect(both[0]).toBe(both[1]);
        expect(await store.settings.delete("k")).toBe(true);
        expect(await store.settings.delete("k")).toBe(false);
        expect(await store.settings.get("k")).toBeNull();
      });
    });

    describe("initDataReplays", () => {
      const h = (c: string) => c.repeat(64);
      test("first use true; again before expiry false; after expiry true again; prune removes expired rows only", async () => {
        const r = store.initDataReplays;
        expect(await r.firstUse(h("a"), 10_000, 1_000)).toBe(true);
        expect(await r.firstUse(h("a"), 10_000, 9_999)).toBe(false);
        expect(await r.firstUse(h("b"), 50_000, 9_999)).toBe(true);
        // Expired but not pruned yet: free again, with the new expiry.
        expect(await r.firstUse(h("a"), 20_000, 10_000)).toBe(true);
        expect(await r.firstUse(h("a"), 20_000, 15_000)).toBe(false);
        expect(await r.prune(20_000)).toBe(1);
        expect(await r.prune(20_000)).toBe(0);
        // b is still recorded, a is free again.
        expect(await r.firstUse(h("b"), 50_000, 20_000)).toBe(false);
        expect(await r.firstUse(h("a"), 30_000, 20_000)).toBe(true);
      });

      test("the same initData sent twice at once signs in once; the record survives a restart", async () => {
        const both = await Promise.all([store.initDataReplays.firstUse(h("c"), 10_000, 1_000), store.initDataReplays.firstUse(h("c"), 10_000, 1_000)]);
        expect(both.filter(Boolean)).toHaveLength(1);
        store = await opened.reopen();
        expect(await store.initDataReplays.firstUse(h("c"), 10_000, 2_000)).toBe(false);
      });
    });

    describe("health, migrations, restart", () => {
      test("writable, every migration applied, and migrate again is a no-op", async () => {
        expect(await store.health.writable()).toEqual({ ok: true });
        const st = await store.health.migrations();
        expect(st.pending).toEqual([]);
        expect(st.applied.length).toBeGreaterThan(0);
        expect(await store.migrate()).toEqual([]);
      });

      test("every resolved write is there after closing and opening again", async () => {
        const [r] = await store.jobs.insert([job(1, "chat:A")]);
        await store.settings.set("k", "v");
        await store.users.upsert({ telegramId: 1, firstName: "A", lastName: null, username: null }, 5);
        store = await opened.reopen();
        expect((await store.jobs.byId(r!.id))!.dedupeKey).toBe("update:1");
        expect(await store.settings.get("k")).toBe("v");
        expect((await store.users.byId(1))!.firstName).toBe("A");
      });
    });
  });
}
