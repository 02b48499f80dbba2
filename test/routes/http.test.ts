/**
 * src/http.ts in process: the webhook route through Elysia, liveness, readiness before and after
 * the worker starts, metrics, unknown routes. Real SQLite store, fake Bot API (test/support/service.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestService, type TestService } from "../support/service";
import { messageUpdate, TEST_SECRET } from "../support/tgwh";

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t?.close());

const postUpdate = (update: unknown, secret = TEST_SECRET) =>
  t.call("POST", "/telegram/webhook", { body: update, headers: { "x-telegram-bot-api-secret-token": secret } });

describe("the HTTP app", () => {
  test("GET /healthz: 200 {ok:true}", async () => {
    const res = await t.call("GET", "/healthz");
    expect({ status: res.status, json: res.json }).toEqual({ status: 200, json: { ok: true } });
  });

  test("GET /readyz: 503 naming the worker while it waits for getMe; 200 once it runs", async () => {
    const before = await t.call("GET", "/readyz");
    expect(before.status).toBe(503);
    expect(before.json.checks).toEqual([
      { name: "database_writable", ok: true },
      { name: "migrations_applied", ok: true },
      { name: "worker_alive", ok: false, detail: "worker not started (waiting for getMe?)" },
    ]);
    t.service.start();
    // Ready once getMe answered and the worker's first claim round is done.
    let after = await t.call("GET", "/readyz");
    for (let i = 0; i < 100 && after.status !== 200; i++) after = await Bun.sleep(10).then(() => t.call("GET", "/readyz"));
    expect(after.json).toEqual({ ok: true, checks: [
      { name: "database_writable", ok: true },
      { name: "migrations_applied", ok: true },
      { name: "worker_alive", ok: true },
    ] });
    expect(after.status).toBe(200);
    expect(t.api.callsOf("getMe")).toHaveLength(1);
  });

  test("POST /telegram/webhook through Elysia: stored once, answered by the bot", async () => {
    const first = await postUpdate(messageUpdate(501, 42, "/help"));
    expect({ status: first.status, json: first.json }).toEqual({ status: 200, json: { ok: true } });
    const again = await postUpdate(messageUpdate(501, 42, "/help"));
    expect(again.json).toEqual({ ok: true, duplicate: true });
    expect((await t.service.store.jobs.byDedupeKey("update:501"))?.kind).toBe("telegram.update");
    for (let i = 0; i < 200 && t.api.callsOf("sendMessage").length === 0; i++) await Bun.sleep(10);
    expect(t.api.callsOf("sendMessage")[0]?.payload).toMatchObject({ chat_id: 42 });
  });

  test("POST /telegram/webhook with a wrong secret: 401, nothing stored", async () => {
    const res = await postUpdate(messageUpdate(502, 42, "hi"), "not_the_secret");
    expect(res.status).toBe(401);
    expect(await t.service.store.jobs.byDedupeKey("update:502")).toBeNull();
  });

  test("GET /metrics: Prometheus text with the counters the webhook moved", async () => {
    const res = await t.call("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    expect(res.text).toContain('tgwh_webhook_requests_total{outcome="stored"} 1');
    expect(res.text).toContain('tgwh_webhook_requests_total{outcome="duplicate"} 1');
    expect(res.text).toContain('tgwh_webhook_requests_total{outcome="unauthorized"} 1');
    expect(res.text).toMatch(/^tgwh_queue_jobs\{state="pending",kind="telegram.update"\} \d+$/m);
  });

  test("an unknown route: 404 in the {ok:false, error} shape", async () => {
    const res = await t.call("GET", "/nope");
    expect({ status: res.status, json: res.json }).toEqual({ status: 404, json: { ok: false, error: "no such route" } });
  });
});
