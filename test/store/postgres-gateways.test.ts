import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/store/postgres";
import type { Job, NewJob } from "../../src/store/types";
import { HAVE_POSTGRES, sharedPostgres, startPostgres, type TestPostgres } from "../support/postgres";

/**
 * Several gateways on one PostgreSQL, as stores in one test process (each with its own pool and
 * lease owner, so their transactions interleave on the server as separate gateways' would):
 * per-chat order, one run per job, leases taken over, and the insert-versus-finish race that the
 * chain locks close. The three-binary chaos test builds on the same guarantees.
 */
const update = (chat: number, seq: number): NewJob => ({
  kind: "telegram.update",
  dedupeKey: `update:${chat}:${seq}`,
  orderKey: `chat:${chat}`,
  seq,
  payload: "{}",
  maxAttempts: 5,
  runAt: Date.now(),
});
const target = (j: Job, owner: string) => ({ id: j.id, owner, orderKey: j.orderKey, attempts: j.attempts, errors: j.errors });

describe.skipIf(!HAVE_POSTGRES)("gateways sharing one PostgreSQL", () => {
  let server: TestPostgres;
  const cleanup: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    server = await sharedPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  }, 30_000);
  async function gateways(n: number, url?: string): Promise<PostgresStore[]> {
    if (!url) {
      const db = await server.createDatabase();
      cleanup.push(db.drop);
      url = db.url;
    }
    const out: PostgresStore[] = [];
    for (let i = 0; i < n; i++) {
      const s = await createPostgresStore({ url, applicationName: `tgwh gw${i}`, migrate: true, maxConnections: 6 });
      cleanup.push(() => s.close());
      out.push(s);
    }
    return out;
  }

  test("every job runs once, one at a time per chat and in update order, across gateways and a gateway that dies", async () => {
    const [a, b, dying] = await gateways(3);
    const CHATS = 12;
    const PER_CHAT = 15;
    const running = new Map<string, number>(); // chat -> seq running now, on whichever gateway
    const order = new Map<string, number[]>();
    const runs = new Map<number, number>();
    const overlaps: string[] = [];
    let stop = false;

    // Updates arrive chat by chat in order, each at a random gateway, all chats at once.
    const ingest = Promise.all(
      Array.from({ length: CHATS }, async (_, chat) => {
        for (let seq = 1; seq <= PER_CHAT; seq++) {
          const g = Math.random() < 0.5 ? a! : b!;
          await g.jobs.insert([update(chat, seq)]);
          if (seq === 3 && chat < 4) {
            // A third gateway takes some heads with a short lease and dies (kill -9: it never finishes them).
            await dying!.jobs.claim({ owner: "dying/1-aa", leaseMs: 300, limit: 2, now: Date.now() });
          }
        }
      }),
    );

    async function worker(g: PostgresStore, owner: string) {
      while (!stop) {
        const { jobs } = await g.jobs.claim({ owner, leaseMs: 5_000, limit: 4, now: Date.now() });
        if (jobs.length === 0) {
          await Bun.sleep(5);
          continue;
        }
        await Promise.all(
          jobs.map(async (j) => {
            const chat = j.orderKey!;
            if (running.has(chat)) overlaps.push(`${chat}: ${j.seq} while ${running.get(chat)}`);
            running.set(chat, j.seq);
            await Bun.sleep(Math.random() * 3);
            running.delete(chat);
            // Every fourth first attempt fails and is retried: the chain must wait for it.
            if (j.attempts === 1 && j.seq % 4 === 0) {
              expect(await g.jobs.finish(target(j, owner), { type: "retry", runAt: Date.now(), error: "flaky", spendAttempt: true })).toBe(true);
              return;
            }
            runs.set(j.id, (runs.get(j.id) ?? 0) + 1);
            order.set(chat, [...(order.get(chat) ?? []), j.seq]);
            expect(await g.jobs.finish(target(j, owner), { type: "done", error: null })).toBe(true);
          }),
        );
      }
    }
    const workers = [worker(a!, "a/1-x"), worker(a!, "a/1-y"), worker(b!, "b/1-x"), worker(b!, "b/1-y")];
    await ingest;
    const deadline = Date.now() + 60_000;
    while ([...order.values()].reduce((n, l) => n + l.length, 0) < CHATS * PER_CHAT && Date.now() < deadline) await Bun.sleep(20);
    stop = true;
    await Promise.all(workers);

    expect(overlaps).toEqual([]);
    for (let chat = 0; chat < CHATS; chat++) expect(order.get(`chat:${chat}`)).toEqual(Array.from({ length: PER_CHAT }, (_, i) => i + 1));
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const stats = await a!.jobs.stats();
    expect(stats.byStateKind).toEqual([]);
    expect(stats.doneEstimate).toBeGreaterThanOrEqual(CHATS * PER_CHAT);
  }, 90_000);

  test("a head finishing on one gateway while its chat's next update arrives on another never stalls the chat", async () => {
    const [a, b] = await gateways(2);
    for (let i = 0; i < 150; i++) {
      const chat = 1000 + i;
      await a!.jobs.insert([update(chat, 1)]);
      const [head] = (await a!.jobs.claim({ owner: "a/1", leaseMs: 60_000, limit: 1, now: Date.now() })).jobs;
      expect(head!.seq).toBe(1);
      // The race the chain locks close: the insert checks "is the chain busy?" while the finish looks for a successor.
      await Promise.all([b!.jobs.insert([update(chat, 2)]), a!.jobs.finish(target(head!, "a/1"), { type: "done", error: null })]);
      const next = (await b!.jobs.claim({ owner: "b/1", leaseMs: 60_000, limit: 5, now: Date.now() })).jobs;
      expect(next.map((j) => `${j.orderKey}/${j.seq}`)).toEqual([`chat:${chat}/2`]);
      await b!.jobs.finish(target(next[0]!, "b/1"), { type: "done", error: null });
    }
  }, 60_000);

  test("a gateway's expired lease is claimed by another; the first can no longer finish it", async () => {
    const [a, b] = await gateways(2);
    await a!.jobs.insert([update(1, 1), update(1, 2)]);
    const [j] = (await a!.jobs.claim({ owner: "a/1-x", leaseMs: 200, limit: 5, now: Date.now() })).jobs;
    expect((await b!.jobs.claim({ owner: "b/1-x", leaseMs: 5_000, limit: 5, now: Date.now() })).jobs).toEqual([]);
    await Bun.sleep(250);
    const taken = await b!.jobs.claim({ owner: "b/1-x", leaseMs: 5_000, limit: 5, now: Date.now() });
    expect(taken.expired.map((e) => e.id)).toEqual([j!.id]);
    expect(taken.jobs.map((x) => [x.id, x.attempts, x.leaseOwner])).toEqual([[j!.id, 2, "b/1-x"]]);
    expect(await a!.jobs.finish(target(j!, "a/1-x"), { type: "done", error: null })).toBe(false);
    expect(await b!.jobs.finish(target(taken.jobs[0]!, "b/1-x"), { type: "done", error: null })).toBe(true);
    expect((await a!.jobs.claim({ owner: "a/1-x", leaseMs: 5_000, limit: 5, now: Date.now() })).jobs.map((x) => x.seq)).toEqual([2]);
  });

  test("a session key and a service account created through one gateway are the same on another", async () => {
    const [a, b] = await gateways(2);
    const [ka, kb] = await Promise.all([a!.settings.getOrCreate("session.secret", () => "from-a"), b!.settings.getOrCreate("session.secret", () => "from-b")]);
    expect(ka).toBe(kb);
    await a!.accounts.create({ name: "ci", role: "service", tokenHash: "hash-1" });
    expect((await b!.accounts.byTokenHash("hash-1"))!.name).toBe("ci");
  });
});

describe.skipIf(!HAVE_POSTGRES)("PostgreSQL restarts under a running store", () => {
  test("statements fail while the server is down and work again once it is back, on the same store", async () => {
    const server = await startPostgres();
    const db = await server.createDatabase();
    const store = await createPostgresStore({ url: db.url, applicationName: "tgwh restart", migrate: true, maxConnections: 4 });
    try {
      await store.jobs.insert([update(1, 1)]);
      await store.jobs.stats();
      await server.stop();
      const started = Date.now();
      const refused = await store.jobs.insert([update(1, 2)]).catch((e: Error) => e);
      expect(refused).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await store.health.writable()).ok).toBe(false);
      await server.restart();
      expect(await store.health.writable()).toEqual({ ok: true });
      expect((await store.jobs.insert([update(1, 3)]))[0]!.inserted).toBe(true);
      const { jobs } = await store.jobs.claim({ owner: "g/1", leaseMs: 5000, limit: 5, now: Date.now() });
      expect(jobs.map((j) => j.seq)).toEqual([1]);
      expect(await store.jobs.finish(target(jobs[0]!, "g/1"), { type: "done", error: null })).toBe(true);
      expect((await store.jobs.byDedupeKey("update:1:2"))).toBeNull(); // the refused insert changed nothing
    } finally {
      await store.close();
      await server.dispose();
    }
  }, 90_000);
});
