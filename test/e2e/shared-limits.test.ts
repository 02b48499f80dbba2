/**
 * Two compiled gateways on one Redis (with a password in its URL, as in production) and one fake
 * Bot API: together they keep the global cap and each chat's second, whichever gateway sends;
 * Redis stopped → both go on sending under conservative local limits with readiness still 200,
 * restarted → shared again. The URL's password never reaches the log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";
import { messageUpdate, postUpdate, startTgwh, waitFor, type TgwhProcess } from "../support/tgwh";

const PASSWORD = "e2e-redis-pass-9f3k";
const PER_SECOND = 5;
let redis: TestRedis;
let api: FakeBotApi;
let gateways: TgwhProcess[] = [];

const metric = async (g: TgwhProcess, name: string) => {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
};

beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis({ password: PASSWORD });
  api = startFakeBotApi();
  gateways = await Promise.all(
    ["gw-a", "gw-b"].map((id) =>
      startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_REDIS_URL: redis.url, TGWH_INSTANCE_ID: id, TGWH_SEND_PER_SECOND: String(PER_SECOND), TGWH_WORKER_CONCURRENCY: "8" } }),
    ),
  );
  // Both shared, and each has counted the other (a gateway that reached Redis first counted only
  // itself, until its next heartbeat).
  for (const g of gateways) await waitFor(async () => (await metric(g, "tgwh_limits_gateways")) === 2 && (await metric(g, "tgwh_limits_shared")) === 1, 15_000, `${g.url} shared by 2`, g.logs);
}, 60_000);
afterAll(async () => {
  for (const g of gateways) await g.stop();
  api?.stop();
  await redis?.dispose();
});

const sendsTo = (chats: number[]) => api.callsOf("sendMessage").filter((c) => chats.includes(Number(c.payload.chat_id)));

describe.skipIf(!HAVE_REDIS)("shared limits across two gateways", () => {
  test("30 replies to 6 chats from both gateways: ≤ cap in any second, each chat ≥ 1 s apart, on arrival", async () => {
    const chats = [2001, 2002, 2003, 2004, 2005, 2006];
    for (let i = 0; i < 30; i++) {
      const g = gateways[i % 2]!;
      expect((await postUpdate(g.url, messageUpdate(70_000 + i, chats[i % 6]!, "/help"))).status).toBe(200);
    }
    await waitFor(() => sendsTo(chats).length === 30, 60_000, "30 replies", gateways[0]!.logs);
    const at = sendsTo(chats).map((c) => c.at).sort((x, y) => x - y);
    // Counted where Telegram counts, on arrival (the fake stamps each call as it comes in): exact,
    // because a send holds its place in the limits until its answer is back.
    for (let i = PER_SECOND; i < at.length; i++) expect(at[i]! - at[i - PER_SECOND]!).toBeGreaterThanOrEqual(1000);
    for (const chat of chats) {
      const t = sendsTo([chat]).map((c) => c.at);
      for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(1000);
    }
    for (const g of gateways) expect(await (await fetch(`${g.url}/metrics`)).text()).toMatch(/tgwh_bot_api_requests_total\{method="sendMessage",code="200"\} [1-9]/);
  }, 90_000);

  test("Redis stopped: still sending, readiness 200 with a detail, metric 0; restarted: shared again", async () => {
    const [a] = gateways as [TgwhProcess];
    await redis.stop();
    expect((await postUpdate(a.url, messageUpdate(71_000, 2100, "/help"))).status).toBe(200);
    await waitFor(() => sendsTo([2100]).length === 1, 20_000, "a reply while Redis is down", a.logs);
    await waitFor(async () => (await metric(a, "tgwh_limits_shared")) === 0, 10_000, "metric 0", a.logs);
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
    const check = body.checks.find((c) => c.name === "shared_limits")!;
    expect(check.ok).toBe(true);
    expect(check.detail).toContain("Redis unreachable");

    await redis.restart(); // empty: whichever gateway is back first finds itself alone in the gateway set
    for (const g of gateways) {
      await waitFor(async () => (await metric(g, "tgwh_limits_shared")) === 1, 20_000, "shared again", g.logs);
      // ...and still counts the other: a fallback now must not take the whole budget.
      expect(((await (await fetch(`${g.url}/readyz`)).json()) as typeof body).checks.find((c) => c.name === "shared_limits")!.detail).toContain("shared through Redis by 2");
    }
    for (const g of gateways) expect(g.logs()).not.toContain(PASSWORD);
    expect(a.logs()).toContain("Redis unreachable"); // b, idle, may have missed the outage between heartbeats
  }, 90_000);
});
