/**
 * Request targets that a proxy and tgwh could read as two different paths (`\`, dot segments,
 * their encodings) are refused by tgwh itself before any routing, on both of its paths: Bun's
 * `routes` (the webhook fast path) and Elysia. Raw sockets, so nothing normalises the path on
 * the way. The attacks are the ones that got through the nginx site (issue 14); with nginx in
 * front they also die there (test/deploy/nginx-tls.test.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createToken } from "../support/admin";
import { countJobs } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { rawRequest } from "../support/raw-http";
import { messageUpdate, removeDir, startTgwh, TEST_SECRET, type TgwhProcess } from "../support/tgwh";

setDefaultTimeout(60_000);

let api: FakeBotApi;
let tg: TgwhProcess;
let viewer: string;
let service: string;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
  [viewer, service] = await Promise.all([createToken(tg.dbPath, "guard-viewer", "viewer"), createToken(tg.dbPath, "guard-service", "service")]);
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
  if (tg) removeDir(tg.dir);
});

const get = (target: string, headers: Record<string, string> = {}) => rawRequest(tg.port, { method: "GET", target, headers });
const postJson = (target: string, body: unknown, headers: Record<string, string> = {}) =>
  rawRequest(tg.port, { method: "POST", target, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
const signed = { "X-Telegram-Bot-Api-Secret-Token": TEST_SECRET };

describe("tgwh refuses ambiguous request paths before routing", () => {
  test("the attacks that passed nginx's public locations → 400, nothing read, nothing stored", async () => {
    const metrics = await get("/app/..\\metrics");
    const queue = await get("/auth/..\\admin/queue", { Authorization: `Bearer ${viewer}` });
    const notification = await postJson("/app/..\\internal/notifications", { chatId: 1, text: "x", dedupeKey: "guard-1" }, { Authorization: `Bearer ${service}` });
    const update = await postJson("/app/..\\telegram/webhook", messageUpdate(910001, 1, "x"), signed);
    for (const [name, res] of Object.entries({ metrics, queue, notification, update })) {
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(JSON.parse(res.body)).toEqual({ ok: false, error: "request path holds a backslash (\\ or %5C); send the plain path" });
    }
    expect(countJobs(tg.dbPath)).toBe(0);
  });

  const refused: [string, RegExp][] = [
    ["/app/..%5Cmetrics", /backslash/],
    ["/app/..%5cmetrics", /backslash/],
    ["/app%5C..%5Cmetrics", /backslash/],
    ["/app/../metrics", /dot segment/],
    ["/app/./metrics", /dot segment/],
    ["/app/%2e%2e/metrics", /dot segment/],
    ["/app/%2E%2E/metrics", /dot segment/],
    ["/app/.%2e/metrics", /dot segment/],
    ["/app/..%2fmetrics", /dot segment/],
    ["/telegram/webhook/..", /dot segment/],
    ["http://127.0.0.1/app/../metrics", /dot segment/],
    ["/app/%252e%252e/metrics", /double-encoded/],
    ["/app/%255Cmetrics", /double-encoded/],
    ["/app#/../metrics", /'#'/],
    ["/x//..\\metrics", /empty segment/],
    ["/a/b/c/d/e/f/g/h/..\\..\\..\\..\\..\\..\\..\\..\\metrics", /more than 8 segments/],
  ];
  for (const [target, reason] of refused) {
    test(`GET and POST ${target} → 400`, async () => {
      for (const res of [await get(target), await postJson(target, messageUpdate(910002, 1, "x"), signed)]) {
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body).error).toMatch(reason);
        expect(res.headers["x-content-type-options"]).toBe("nosniff");
      }
      expect(countJobs(tg.dbPath)).toBe(0);
    });
  }

  test("plain paths are untouched: the webhook fast path, Elysia's routes, a trailing slash, the root", async () => {
    expect((await postJson("/telegram/webhook", messageUpdate(910010, 1, "x"), signed)).status).toBe(200);
    expect((await postJson("/telegram/webhook/", messageUpdate(910011, 1, "x"), signed)).status).toBe(200);
    expect((await postJson("/telegram/webhook?x=..\\", messageUpdate(910012, 1, "x"), signed)).status).toBe(200);
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/metrics")).status).toBe(200);
    expect((await get("/app/")).status).toBe(200);
    expect((await get("/admin/queue", { Authorization: `Bearer ${viewer}` })).status).toBe(200);
    expect((await get("/admin/jobs/1", { Authorization: `Bearer ${viewer}` })).status).toBe(200);
    expect((await get("/")).status).toBe(404);
    expect(countJobs(tg.dbPath)).toBe(3);
  });

  test("the Host header never moves the route: a one-letter host once made /app/metrics into /metrics", async () => {
    for (const host of ["a", "ab", "a:1", "xyz"]) {
      const withHost = (target: string, headers: Record<string, string> = {}) => get(target, { Host: host, ...headers });
      expect({ host, status: (await withHost("/app/metrics")).status }).toEqual({ host, status: 404 });
      expect({ host, status: (await withHost("/app/readyz")).status }).toEqual({ host, status: 404 });
      expect({ host, status: (await withHost("/auth/admin/queue", { Authorization: `Bearer ${viewer}` })).status }).toEqual({ host, status: 404 });
      const smuggled = await postJson("/app/telegram/webhook", messageUpdate(910030, 1, "x"), { Host: host, ...signed });
      expect({ host, status: smuggled.status }).toEqual({ host, status: 404 });
      // The real routes still answer under any host.
      expect({ host, status: (await withHost("/metrics")).status }).toEqual({ host, status: 200 });
      expect({ host, status: (await withHost("/admin/queue", { Authorization: `Bearer ${viewer}` })).status }).toEqual({ host, status: 200 });
    }
    expect(countJobs(tg.dbPath, "seq = 910030")).toBe(0);
  });

  test("every JSON answer says nosniff: webhook, health, errors of each kind", async () => {
    const answers = [
      await postJson("/telegram/webhook", messageUpdate(910020, 1, "x"), signed),
      await postJson("/telegram/webhook", messageUpdate(910021, 1, "x")),
      await postJson("/telegram/webhook", "not an update", signed),
      await get("/healthz"),
      await get("/readyz"),
      await get("/no-such-route"),
      await get("/admin/queue"),
      await get("/admin/jobs?state=lost", { Authorization: `Bearer ${viewer}` }),
      await postJson("/auth/telegram/webapp", { initData: "" }),
    ];
    for (const res of answers) {
      expect(res.headers["content-type"]).toStartWith("application/json");
      expect({ status: res.status, nosniff: res.headers["x-content-type-options"] }).toEqual({ status: res.status, nosniff: "nosniff" });
    }
  });
});
