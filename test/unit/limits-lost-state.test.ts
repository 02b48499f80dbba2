/**
 * Redis restarted empty between two heartbeats (found by the multi-gateway chaos test: a gateway
 * whose commands never failed went on deciding on the empty Redis and let a second window of 30
 * sends through right after the first). Whichever way a gateway meets the lost state, the
 * decisions that follow are blind, as a local limiter is after a restart: each chat waits one
 * interval from that moment, the global window one window. A real redis-server, restarted; the
 * scripts run on a fake clock (they take the caller's time in tests), so every wait is exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGatewayRegistry } from "../../src/limits/gateway-registry";
import { limitKeys } from "../../src/limits/keys";
import { createRedisConnection, type RedisScripts } from "../../src/limits/redis-connection";
import { createRedisSendLimiter } from "../../src/limits/redis-send-limiter";
import { blindSpanMs, sendRules } from "../../src/limits/send-rules";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";

let redis: TestRedis;
let conn: RedisScripts;
beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis();
  conn = createRedisConnection({ url: redis.url });
});
afterAll(async () => {
  conn?.close();
  await redis?.dispose();
});

const rules = sendRules(30);
let clockNow = 1_800_000_000_000;
const clock = () => clockNow;

/** Retries while the client reconnects to the restarted server (a command then fails at once). */
async function answered<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (i > 200) throw err;
      await Bun.sleep(25);
    }
  }
}

function gateway(namespace: string, instanceId: string, detectLostState: boolean) {
  const keys = limitKeys(namespace);
  return {
    registry: createGatewayRegistry({ redis: conn, keys, instanceId, blindMs: blindSpanMs(rules), clock }),
    send: createRedisSendLimiter({ redis: conn, keys, rules, instanceId, clock, detectLostState }),
  };
}

/** One send allowed and answered at once: the shared state now holds it. */
async function sendOnce(g: ReturnType<typeof gateway>, chat: number) {
  const d = await g.send.acquire(chat);
  expect(d.ok).toBe(true);
  if (d.ok) d.done();
}

describe.skipIf(!HAVE_REDIS)("Redis lost its state", () => {
  test("a shared gateway that saw nothing: its next decision finds no gateway set and is blind", async () => {
    const g = gateway("lost-acquire", "gw-a", true);
    await g.registry.heartbeat(false);
    await sendOnce(g, 1);
    await redis.restart();
    clockNow += 10;
    expect(await answered(() => g.send.acquire(2))).toEqual({ ok: false, waitMs: 1000, scope: "chat" });
    expect(await g.send.acquire(-100)).toEqual({ ok: false, waitMs: 3000, scope: "group" });
    clockNow += 1000;
    await sendOnce(g, 2);
    expect(await g.send.acquire(-100)).toEqual({ ok: false, waitMs: 2000, scope: "group" });
  });

  test("a gateway counted before finds itself missing at its heartbeat: every gateway decides blind", async () => {
    const a = gateway("lost-beat", "gw-a", true);
    const bare = gateway("lost-beat", "gw-b", false); // no set check of its own: only the mark stops it
    await a.registry.heartbeat(false);
    await sendOnce(bare, 7);
    await redis.restart();
    clockNow += 10;
    expect(await answered(() => a.registry.heartbeat(true))).toEqual({ gateways: 1, joined: true });
    expect(await bare.send.acquire(8)).toEqual({ ok: false, waitMs: 1000, scope: "chat" });
    clockNow += 1000;
    await sendOnce(bare, 8);
  });

  test("a first heartbeat on an empty Redis is a fresh start, not a loss: nothing waits", async () => {
    await redis.restart();
    const a = gateway("fresh", "gw-a", true);
    expect(await answered(() => a.registry.heartbeat(false))).toEqual({ gateways: 1, joined: true });
    await sendOnce(a, 1);
    await sendOnce(a, -1);
  });
});
