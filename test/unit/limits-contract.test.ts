/**
 * One contract, two implementations: the in-process limiters and the Redis scripts (on a real
 * redis-server) must decide alike. Both run on a fake clock here (the Redis scripts take the
 * caller's time in tests; the service uses Redis TIME, see limits-multi-gateway.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { limitKeys } from "../../src/limits/keys";
import { createTokenBucketLimiter, type RateLimiter } from "../../src/limits/rate-limiter";
import { createRedisConnection, RedisUnavailableError, type RedisScripts } from "../../src/limits/redis-connection";
import { createRedisRateLimiter } from "../../src/limits/redis-rate-limiter";
import { createRedisSendLimiter } from "../../src/limits/redis-send-limiter";
import { createLocalSendLimiter, type SendGrant, type SendLimiter } from "../../src/limits/send-limiter";
import { sendRules } from "../../src/limits/send-rules";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";

let redis: TestRedis;
let conn: RedisScripts;
let raw: RedisClient;
beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis();
  conn = createRedisConnection({ url: redis.url });
  raw = new RedisClient(redis.url);
  await raw.connect();
});
afterAll(async () => {
  conn?.close();
  raw?.close();
  await redis?.dispose();
});

let nsCounter = 0;
const fakeClock = () => {
  let now = 1_800_000_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

/** The send was answered at once (the network is fast). */
const answered = (d: SendGrant) => {
  if (d.ok) d.done();
  return d;
};

interface Impl {
  name: string;
  send(perSecond: number, clock: () => number, maxInFlightMs?: number): SendLimiter;
  bucket(perMinute: number, clock: () => number): RateLimiter;
}

const impls: Impl[] = [
  {
    name: "local",
    send: (perSecond, clock, maxInFlightMs) => createLocalSendLimiter({ rules: sendRules(perSecond, maxInFlightMs), clock }),
    bucket: (perMinute, clock) => createTokenBucketLimiter({ perMinute, clock }),
  },
  {
    name: "redis",
    send: (perSecond, clock, maxInFlightMs) => createRedisSendLimiter({ redis: conn, keys: limitKeys(`c${++nsCounter}`), rules: sendRules(perSecond, maxInFlightMs), instanceId: "test", clock }),
    bucket: (perMinute, clock) => createRedisRateLimiter({ redis: conn, keys: limitKeys(`c${++nsCounter}`), perMinute, clock }),
  },
];

for (const impl of impls) {
  const needs = impl.name === "redis" && !HAVE_REDIS;
  describe.skipIf(needs)(`send limiter contract: ${impl.name}`, () => {
    test("one send per second to a private chat; other chats go meanwhile", async () => {
      const c = fakeClock();
      const l = impl.send(0, c.now);
      expect(await l.acquire(1)).toMatchObject({ ok: true, at: c.now() });
      expect(await l.acquire(1)).toEqual({ ok: false, waitMs: 1000, scope: "chat" });
      expect((await l.acquire(2)).ok).toBe(true);
      c.advance(999);
      expect(await l.acquire(1)).toEqual({ ok: false, waitMs: 1, scope: "chat" });
      c.advance(1);
      expect((await l.acquire(1)).ok).toBe(true);
    });

    test("a group: one send per 3 s (20 a minute)", async () => {
      const c = fakeClock();
      const l = impl.send(0, c.now);
      expect((await l.acquire(-100)).ok).toBe(true);
      expect(await l.acquire(-100)).toEqual({ ok: false, waitMs: 3000, scope: "group" });
      expect((await l.acquire("-1002")).ok).toBe(true);
    });

    test("global cap: N sends, then the next waits for the first to leave the 1000 ms window", async () => {
      const c = fakeClock();
      const l = impl.send(3, c.now);
      for (const chat of [1, 2, 3]) answered(await l.acquire(chat));
      expect(await l.acquire(4)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
      c.advance(500);
      expect(await l.acquire(4)).toEqual({ ok: false, waitMs: 500, scope: "global" });
      c.advance(500);
      expect((await l.acquire(4)).ok).toBe(true);
      expect((await l.acquire(5)).ok).toBe(true);
    });

    test("a send holds its slot until its answer, then one window from the answer (Telegram counts on arrival)", async () => {
      const c = fakeClock();
      const l = impl.send(2, c.now);
      const first = await l.acquire(1);
      const second = await l.acquire(2);
      c.advance(3000); // both still on their way
      expect(await l.acquire(3)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
      if (first.ok) first.done();
      c.advance(400);
      expect(await l.acquire(3)).toEqual({ ok: false, waitMs: 600, scope: "global" });
      c.advance(600);
      const third = await l.acquire(3);
      expect(third.ok).toBe(true);
      if (second.ok) second.done();
      if (third.ok) third.done();
      first.ok && first.done(); // a second done() counts nothing more
      expect(await l.acquire(4)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
      c.advance(1000);
      expect((await l.acquire(4)).ok).toBe(true);
    });

    test("a chat waits its interval from its previous send's answer", async () => {
      const c = fakeClock();
      const l = impl.send(0, c.now);
      const sent = await l.acquire(1);
      c.advance(700);
      if (sent.ok) sent.done(); // answered 700 ms after the decision
      c.advance(400);
      expect(await l.acquire(1)).toEqual({ ok: false, waitMs: 600, scope: "chat" });
      c.advance(600);
      expect((await l.acquire(1)).ok).toBe(true);
    });

    test("a send never answered stops holding its slot after maxInFlightMs", async () => {
      const c = fakeClock();
      const l = impl.send(1, c.now, 5000);
      expect((await l.acquire(1)).ok).toBe(true); // its permit is lost: never done
      c.advance(5000);
      expect(await l.acquire(2)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
      c.advance(1000);
      expect((await l.acquire(2)).ok).toBe(true);
    });

    test("a refused send counts nothing: after its wait it goes", async () => {
      const c = fakeClock();
      const l = impl.send(1, c.now);
      answered(await l.acquire(1));
      for (let i = 0; i < 5; i++) expect((await l.acquire(2)).ok).toBe(false);
      c.advance(1000);
      expect((await l.acquire(2)).ok).toBe(true);
    });

    test("no global cap with perSecond 0", async () => {
      const c = fakeClock();
      const l = impl.send(0, c.now);
      for (let chat = 1; chat <= 100; chat++) expect((await l.acquire(chat)).ok).toBe(true);
    });

    test("a 429 holds the chat until retry_after; with no chat, the whole bot", async () => {
      const c = fakeClock();
      const l = impl.send(0, c.now);
      await l.hold(7, 5000);
      expect(await l.acquire(7)).toEqual({ ok: false, waitMs: 5000, scope: "chat" });
      expect((await l.acquire(8)).ok).toBe(true);
      c.advance(5000);
      expect((await l.acquire(7)).ok).toBe(true);
      await l.hold(null, 2000);
      expect(await l.acquire(9)).toEqual({ ok: false, waitMs: 2000, scope: "hold" });
      c.advance(2000);
      expect((await l.acquire(9)).ok).toBe(true);
    });
  });

  describe.skipIf(needs)(`auth token bucket contract: ${impl.name}`, () => {
    test("bursts to the limit, then refuses with Retry-After, then refills; keys are independent", async () => {
      const c = fakeClock();
      const l = impl.bucket(3, c.now);
      for (let i = 0; i < 3; i++) expect(await l.take("ip:a")).toEqual({ allowed: true });
      expect(await l.take("ip:a")).toEqual({ allowed: false, retryAfterSeconds: 20 });
      expect(await l.take("ip:b")).toEqual({ allowed: true });
      c.advance(20_000);
      expect(await l.take("ip:a")).toEqual({ allowed: true });
      expect((await l.take("ip:a")).allowed).toBe(false);
    });

    test("Retry-After is whole seconds, at least 1", async () => {
      const c = fakeClock();
      const l = impl.bucket(60, c.now); // one token a second
      for (let i = 0; i < 60; i++) await l.take("user:1");
      c.advance(999);
      expect(await l.take("user:1")).toEqual({ allowed: false, retryAfterSeconds: 1 });
      c.advance(1);
      expect(await l.take("user:1")).toEqual({ allowed: true });
    });
  });
}

describe.skipIf(!HAVE_REDIS)("redis keys do not grow without bound", () => {
  test("every key the scripts write expires, and no later than its meaning", async () => {
    const c = fakeClock();
    const keys = limitKeys("expiry");
    const send = createRedisSendLimiter({ redis: conn, keys, rules: sendRules(30, 5000), instanceId: "test", clock: c.now });
    const bucket = createRedisRateLimiter({ redis: conn, keys, perMinute: 10, clock: c.now });
    await send.acquire(1);
    answered(await send.acquire(-2));
    await send.hold(3, 7000);
    await send.hold(null, 4000);
    await bucket.take("ip:203.0.113.9");
    const written = (await raw.send("KEYS", ["tgwh:*expiry*"])) as string[];
    expect(written.sort()).toEqual([keys.bucket("ip:203.0.113.9"), keys.chat(-2), keys.chat(1), keys.chat(3), keys.global, keys.hold].sort());
    const ttl = async (k: string) => Number(await raw.send("PTTL", [k]));
    expect(await ttl(keys.chat(1))).toBeLessThanOrEqual(1000);
    expect(await ttl(keys.chat(-2))).toBeLessThanOrEqual(3000);
    expect(await ttl(keys.chat(3))).toBeLessThanOrEqual(7000);
    expect(await ttl(keys.hold)).toBeLessThanOrEqual(4000);
    expect(await ttl(keys.global)).toBeLessThanOrEqual(5000 + 1000); // a send in flight: its lease, then one window
    expect(await ttl(keys.bucket("ip:203.0.113.9"))).toBeLessThanOrEqual(6000); // one token back: 6 s
    for (const k of written) expect(await ttl(k)).toBeGreaterThan(0);
  });

  test("a send whose ACQUIRE failed on our side (a timeout) but ran on Redis is forgotten at the next handback", async () => {
    const c = fakeClock();
    let failAfterRunning = false;
    const flaky: RedisScripts = {
      ...conn,
      async run(script, keys, args) {
        const reply = await conn.run(script, keys, args);
        if (!failAfterRunning) return reply;
        failAfterRunning = false;
        throw new RedisUnavailableError("Redis did not answer EVALSHA within 500 ms (test)");
      },
    };
    const send = createRedisSendLimiter({ redis: flaky, keys: limitKeys("unsure"), rules: sendRules(1), instanceId: "test", clock: c.now });
    failAfterRunning = true;
    await expect(send.acquire(1)).rejects.toThrow(RedisUnavailableError);
    // It ran: its slot is taken by a send that never went (the caller decided locally instead).
    expect(await send.acquire(2)).toEqual({ ok: false, waitMs: 1000, scope: "global" });
    await send.seed({ chats: [], sendAgesMs: [], inFlight: [], holdMs: 0 });
    expect((await send.acquire(2)).ok).toBe(true);
  });

  test("a restarted Redis has forgotten its scripts: NOSCRIPT loads them again", async () => {
    const c = fakeClock();
    await raw.send("SCRIPT", ["FLUSH"]);
    const send = createRedisSendLimiter({ redis: conn, keys: limitKeys("noscript"), rules: sendRules(30), instanceId: "test", clock: c.now });
    expect((await send.acquire(1)).ok).toBe(true);
    expect((await send.acquire(1)).ok).toBe(false);
  });
});
