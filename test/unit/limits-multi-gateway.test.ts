/**
 * Several gateways on one real Redis, deciding on Redis TIME as the service does: together they
 * never exceed the global cap, a chat's interval or a group's, and share the auth buckets. Sends
 * are checked where Telegram counts them, on arrival: each allowed send is stalled at random on
 * its way (as an event-loop stall or a starved CPU would), stamped when it "arrives", then done.
 * Redis TIME and Date.now() read the same clock here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createFailoverSendLimiter } from "../../src/limits/failover";
import { limitKeys } from "../../src/limits/keys";
import { createGatewayRegistry } from "../../src/limits/gateway-registry";
import { createRedisConnection, luaScript, type RedisScripts } from "../../src/limits/redis-connection";
import { createRedisRateLimiter } from "../../src/limits/redis-rate-limiter";
import { createRedisSendLimiter } from "../../src/limits/redis-send-limiter";
import { createLocalSendLimiter } from "../../src/limits/send-limiter";
import { GLOBAL_WINDOW_MS, sendRules } from "../../src/limits/send-rules";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";

let redis: TestRedis;
const conns: RedisScripts[] = [];
const connect = () => {
  const c = createRedisConnection({ url: redis.url });
  conns.push(c);
  return c;
};
beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of conns) c.close();
  await redis?.dispose();
});

describe.skipIf(!HAVE_REDIS)("several gateways on one Redis", () => {
  test("4 gateways × 8 workers for 3 s, sends stalled on their way: never over the global cap in any second at arrival, never a chat or group too soon", async () => {
    const perSecond = 20;
    const keys = limitKeys("multi");
    const gateways = Array.from({ length: 4 }, (_, g) => createRedisSendLimiter({ redis: connect(), keys, rules: sendRules(perSecond), instanceId: `gw${g}` }));
    const chats = [...Array.from({ length: 24 }, (_, i) => 1000 + i), -1, -2, -3];
    const arrived: { gw: number; chat: number; at: number }[] = [];
    const until = Date.now() + 3000;
    let refused = 0;
    await Promise.all(
      gateways.flatMap((l, gw) =>
        Array.from({ length: 8 }, async () => {
          while (Date.now() < until) {
            const chat = chats[Math.floor(Math.random() * chats.length)]!;
            const d = await l.acquire(chat);
            if (!d.ok) {
              refused++;
              await Bun.sleep(Math.min(d.waitMs, 50));
              continue;
            }
            if (Math.random() < 0.2) await Bun.sleep(Math.random() * 300); // stalled on its way
            arrived.push({ gw, chat, at: Date.now() });
            d.done();
          }
        }),
      ),
    );
    const times = arrived.map((s) => s.at).sort((a, b) => a - b);
    // Enough traffic to press on the cap: about perSecond a second over 3 s.
    expect(times.length).toBeGreaterThanOrEqual(40);
    expect(refused).toBeGreaterThan(times.length);
    for (let i = perSecond; i < times.length; i++) expect(times[i]! - times[i - perSecond]!).toBeGreaterThanOrEqual(GLOBAL_WINDOW_MS);
    for (const chat of chats) {
      const at = arrived.filter((s) => s.chat === chat).map((s) => s.at).sort((a, b) => a - b);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(chat < 0 ? 3000 : 1000);
    }
    expect(new Set(arrived.map((s) => s.gw)).size).toBe(4);
  }, 20_000);

  test("a send in flight when Redis comes back is handed back in flight: it fills its slot for every gateway until its answer", async () => {
    const keys = limitKeys("inflight-handback");
    const rules = sendRules(1);
    // One connection for both gateways here, so that a's release reaches Redis before b's next ask.
    const conn = connect();
    const link = { shared: false, failed() {} };
    const a = createFailoverSendLimiter({ link, shared: createRedisSendLimiter({ redis: conn, keys, rules, instanceId: "a" }), local: createLocalSendLimiter({ rules, clock: Date.now }), perSecond: 1 });
    const b = createRedisSendLimiter({ redis: conn, keys, rules, instanceId: "b" });
    const onItsWay = await a.acquire(42); // decided locally: Redis is away for a
    expect(onItsWay.ok).toBe(true);
    await a.handBack();
    link.shared = true;
    await Bun.sleep(GLOBAL_WINDOW_MS + 100); // an answered send would have left the window by now
    expect(await b.acquire(43)).toMatchObject({ ok: false, scope: "global" });
    if (onItsWay.ok) onItsWay.done();
    await Bun.sleep(GLOBAL_WINDOW_MS);
    expect((await b.acquire(43)).ok).toBe(true);
  });

  test("a 429 hold set by one gateway holds every gateway", async () => {
    const keys = limitKeys("holds");
    const [a, b] = [0, 1].map((g) => createRedisSendLimiter({ redis: connect(), keys, rules: sendRules(30), instanceId: `gw${g}` }));
    await a!.hold(5, 3000);
    const d = await b!.acquire(5);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.waitMs).toBeGreaterThan(2500);
    await b!.hold(null, 2000);
    const e = await a!.acquire(6);
    expect(e.ok ? null : e.scope).toBe("hold");
  });

  test("the gateway set: a heartbeat counts the gateways and says whether this one was missing (a first beat, or a lost set)", async () => {
    const keys = limitKeys("registry");
    const [a, b] = ["gw-a", "gw-b"].map((instanceId) => createGatewayRegistry({ redis: connect(), keys, instanceId, blindMs: 3000 }));
    expect(await a!.heartbeat()).toEqual({ gateways: 1, joined: true });
    expect(await b!.heartbeat()).toEqual({ gateways: 2, joined: true });
    expect(await a!.heartbeat()).toEqual({ gateways: 2, joined: false });
    await connect().run(luaScript("test_del", "return redis.call('DEL', KEYS[1])"), [keys.gateways], []); // as a restarted Redis
    expect(await a!.heartbeat()).toEqual({ gateways: 1, joined: true });
    await b!.leave();
    expect(await a!.heartbeat()).toEqual({ gateways: 1, joined: false });
  });

  test("3 gateways share one auth bucket: 30 concurrent sign-ins, exactly the budget allowed", async () => {
    const keys = limitKeys("auth");
    const limiters = [0, 1, 2].map(() => createRedisRateLimiter({ redis: connect(), keys, perMinute: 5 }));
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % 3]!.take("ip:198.51.100.7")));
    expect(results.filter((r) => r.allowed).length).toBe(5);
    expect(results.filter((r) => !r.allowed).every((r) => !r.allowed && r.retryAfterSeconds >= 1)).toBe(true);
  });

  test("clock skew: a gateway whose clock is 10 minutes ahead hands back its fallback sends in relative time", async () => {
    const keys = limitKeys("skew");
    const rules = sendRules(3);
    const skewed = () => Date.now() + 600_000;
    const aLocal = createLocalSendLimiter({ rules, clock: skewed });
    const a = createFailoverSendLimiter({ link: { shared: false, failed() {} }, shared: createRedisSendLimiter({ redis: connect(), keys, rules, instanceId: "a" }), local: aLocal, perSecond: 3 });
    // Redis away for gateway a: it sends alone, then Redis answers again and a hands back.
    for (const chat of [42, 43, 44]) {
      const d = await a.acquire(chat);
      expect(d.ok).toBe(true);
      if (d.ok) d.done(); // answered at once
    }
    await a.hold(45, 5000);
    await a.handBack();
    const b = createRedisSendLimiter({ redis: connect(), keys, rules, instanceId: "b" });
    const chat = await b.acquire(47);
    expect(chat.ok ? null : chat.scope).toBe("global"); // the three sends fill b's window too
    if (!chat.ok) expect(chat.waitMs).toBeGreaterThan(900);
    await Bun.sleep(1150);
    const held = await b.acquire(45);
    expect(held.ok ? null : held.scope).toBe("chat");
    if (!held.ok) expect(held.waitMs).toBeGreaterThan(3000);
    expect((await b.acquire(46)).ok).toBe(true);
  });
});
