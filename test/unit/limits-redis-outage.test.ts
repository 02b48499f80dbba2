/**
 * Redis goes away under two gateways and comes back: decisions never fail or hang, the limits
 * turn local with each gateway's share (metric 0, readiness detail, readiness still ok), and
 * come back shared by themselves, with what was sent meanwhile handed to Redis. Real
 * redis-server, stopped and restarted on the same port; the service's own wiring (createLimits).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { createLimits, limitsStartupWarnings, type Limits } from "../../src/limits/create-limits";
import { createLogger } from "../../src/log";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";
import { waitFor } from "../support/tgwh";

let redis: TestRedis;
beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

function gateway(name: string, url: string, perSecond = 10) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "info", secrets: [], destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  const registry = new Registry();
  const limits = createLimits(
    { redisUrl: url, instanceId: name, sendPerSecond: perSecond, authRatePerIp: 30, authRatePerUser: 10, namespace: "outage" },
    { registry, log, clock: Date.now },
  );
  const metric = async (n: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === n) as { values: { value: number }[] } | undefined;
    return m?.values[0]?.value;
  };
  const messages = () => lines.map((l) => String(l.msg));
  return { limits, metric, messages, lines };
}

/** Asks until ok (as the transformer does), and the send is answered at once; returns how long it took. */
async function sendWhenAllowed(l: Limits, chat: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const d = await l.send.acquire(chat);
    if (d.ok) {
      d.done();
      return Date.now() - t0;
    }
    await Bun.sleep(d.waitMs);
  }
}

/** One ask; an allowed send is answered at once. */
async function sendNow(l: Limits, chat: number) {
  const d = await l.send.acquire(chat);
  if (d.ok) d.done();
  return d;
}

describe.skipIf(!HAVE_REDIS)("Redis outage", () => {
  test("stop → local share, metric 0, readiness ok with a detail; restart → shared again, fallback sends handed back", async () => {
    const a = gateway("gw-a", redis.url);
    const b = gateway("gw-b", redis.url);
    a.limits.start();
    b.limits.start();
    try {
      await waitFor(async () => (await a.metric("tgwh_limits_shared")) === 1 && (await b.metric("tgwh_limits_shared")) === 1, 5000, "both gateways shared");
      await waitFor(async () => (await a.metric("tgwh_limits_gateways")) === 2, 8000, "gateway a to see both gateways");
      expect(a.limits.readiness()).toEqual({ name: "shared_limits", ok: true, detail: "shared through Redis by 2 gateway(s)" });
      expect(a.messages()).toContain("send and auth limits shared through Redis");
      expect((await sendNow(a.limits, 1)).ok).toBe(true);
      const other = await b.limits.send.acquire(1); // shared: b sees a's send to chat 1
      expect(other.ok ? null : other.scope).toBe("chat");

      await redis.stop();
      // Decisions go on: the first one after the outage fails over within the same call.
      const t0 = Date.now();
      const first = await a.limits.send.acquire(2);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(first.ok ? null : first.waitMs).toBeGreaterThan(900); // blind: others may have sent just now
      expect(await a.metric("tgwh_limits_shared")).toBe(0);
      const ready = a.limits.readiness()!;
      expect(ready.ok).toBe(true);
      expect(ready.detail).toContain("Redis unreachable");
      expect(ready.detail).toContain("5/s of 10/s");
      expect(await a.limits.authIp.take("ip:192.0.2.1")).toEqual({ allowed: true });

      // The share: 2 gateways seen, so 5 sends per window here (after one blind window).
      await Bun.sleep(1150);
      let ok = 0;
      for (let chat = 100; chat < 120; chat++) if ((await sendNow(a.limits, chat)).ok) ok++;
      expect(ok).toBe(5);
      await sendWhenAllowed(a.limits, 7);
      await a.limits.send.hold(7, 30_000); // a 429 for chat 7 during the outage, seen by gateway a only

      await redis.restart(); // empty: everything Redis knew is gone
      await waitFor(async () => (await a.metric("tgwh_limits_shared")) === 1 && (await b.metric("tgwh_limits_shared")) === 1, 15_000, "both gateways shared again");
      // a handed back what it knew: b honours the hold on chat 7 that only a saw.
      const again = await b.limits.send.acquire(7);
      expect(again.ok ? null : again.scope).toBe("chat");
      if (!again.ok) expect(again.waitMs).toBeGreaterThan(15_000);
      expect(a.limits.readiness()!.detail).toContain("shared through Redis");

      // One line when Redis went away and one when it came back: no flood. (Gateway b made no
      // decision during the short outage and may have missed it between two heartbeats.)
      expect(a.messages().filter((m) => m.startsWith("Redis unreachable")).length).toBe(1);
      expect(a.messages().filter((m) => m.startsWith("Redis answers again")).length).toBe(1);
      const bDown = b.messages().filter((m) => m.startsWith("Redis unreachable")).length;
      expect(bDown).toBeLessThanOrEqual(1);
      expect(b.messages().filter((m) => m.startsWith("Redis answers again")).length).toBe(bDown);
      expect(await a.metric("tgwh_limits_redis_errors_total")).toBeGreaterThanOrEqual(1);
    } finally {
      await a.limits.stop();
      await b.limits.stop();
    }
  }, 40_000);

  test("a hung Redis (SIGSTOP) costs one timeout, then decisions are local; it resumes → shared", async () => {
    const a = gateway("gw-hung", redis.url, 0);
    a.limits.start();
    try {
      await waitFor(async () => (await a.metric("tgwh_limits_shared")) === 1, 5000, "shared");
      redis.pause();
      const t0 = Date.now();
      await a.limits.send.acquire(1);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(2000);
      expect(await a.metric("tgwh_limits_shared")).toBe(0);
      const t1 = Date.now();
      await a.limits.send.acquire(2);
      expect(Date.now() - t1).toBeLessThan(100);
      redis.resume();
      await waitFor(async () => (await a.metric("tgwh_limits_shared")) === 1, 15_000, "shared again");
    } finally {
      redis.resume();
      await a.limits.stop();
    }
  }, 30_000);

  test("Redis down at start: one warning, local limits, shared as soon as it answers", async () => {
    await redis.stop();
    const a = gateway("gw-late", redis.url);
    a.limits.start();
    try {
      await waitFor(() => a.messages().some((m) => m.startsWith("Redis unreachable")), 5000, "the warning");
      expect(a.limits.readiness()!.detail).toContain("Redis unreachable");
      expect(await a.limits.authUser.take("user:1")).toEqual({ allowed: true });
      await redis.restart();
      await waitFor(async () => (await a.metric("tgwh_limits_shared")) === 1, 15_000, "shared");
      expect(a.messages().filter((m) => m.startsWith("Redis unreachable")).length).toBe(1);
    } finally {
      await a.limits.stop();
    }
  }, 30_000);
});

describe("without Redis", () => {
  test("each gateway limits alone, no readiness line, no limits metrics", async () => {
    const registry = new Registry();
    const log = createLogger({ level: "silent", secrets: [] });
    const limits = createLimits({ redisUrl: null, instanceId: "solo", sendPerSecond: 30, authRatePerIp: 30, authRatePerUser: 10, namespace: "x" }, { registry, log, clock: Date.now });
    expect(limits.readiness()).toBeNull();
    expect((await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith("tgwh_limits_"))).toEqual([]);
    const first = await limits.send.acquire(1);
    expect(first.ok ? null : first.waitMs).toBeGreaterThan(900); // blind at start: a previous process may have just sent
  });
  test("a shared store without Redis warns at start", () => {
    expect(limitsStartupWarnings({ redisUrl: null, sharedStore: true })[0]).toContain("TGWH_REDIS_URL is not");
    expect(limitsStartupWarnings({ redisUrl: "redis://127.0.0.1:6379", sharedStore: true })).toEqual([]);
    expect(limitsStartupWarnings({ redisUrl: null, sharedStore: false })).toEqual([]);
  });
});
