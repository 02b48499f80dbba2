import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countJobs, jobOfUpdate } from "../support/db";
import { startFakeBotApi, type FakeBotApi } from "../support/fake-bot-api";
import { messageUpdate, postUpdate, startTgwh, TEST_SECRET, waitFor, type TgwhProcess } from "../support/tgwh";

let api: FakeBotApi;
let tg: TgwhProcess;

beforeAll(async () => {
  api = startFakeBotApi();
  tg = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url } });
});
afterAll(async () => {
  await tg?.stop();
  api?.stop();
});

const post = (body: BodyInit, headers: Record<string, string>) =>
  fetch(`${tg.url}/telegram/webhook`, { method: "POST", headers, body });
const authed = { "content-type": "application/json", "x-telegram-bot-api-secret-token": TEST_SECRET };

describe("duplicates", () => {
  test("the same update_id twice → both 200, stored and processed once", async () => {
    const u = messageUpdate(2001, 601, "/help");
    expect((await postUpdate(tg.url, u)).status).toBe(200);
    const second = await postUpdate(tg.url, u);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ ok: true, duplicate: true });
    await waitFor(() => jobOfUpdate(tg.dbPath, 2001)?.state === "done", 10_000, "update 2001 done", tg.logs);
    expect(countJobs(tg.dbPath, "dedupe_key = 'update:2001'")).toBe(1);
    expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 601)).toHaveLength(1);
  });

  test("50 concurrent posts of one update_id → all 200, processed once", async () => {
    const u = messageUpdate(2002, 602, "/help");
    const statuses = await Promise.all(Array.from({ length: 50 }, () => postUpdate(tg.url, u).then((r) => r.status)));
    expect(statuses).toEqual(Array(50).fill(200));
    await waitFor(() => jobOfUpdate(tg.dbPath, 2002)?.state === "done", 10_000, "update 2002 done", tg.logs);
    await Bun.sleep(300); // a second run, if there were one, would have sent by now
    expect(countJobs(tg.dbPath, "dedupe_key = 'update:2002'")).toBe(1);
    expect(api.callsOf("sendMessage").filter((c) => c.payload.chat_id === 602)).toHaveLength(1);
  });

  test("concurrent distinct updates share group commits (fewer transactions than requests)", async () => {
    const metric = async () => {
      const text = await (await fetch(`${tg.url}/metrics`)).text();
      return Number(/^tgwh_db_commits_total (\d+)/m.exec(text)?.[1] ?? NaN);
    };
    const before = await metric();
    const n = 200;
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => postUpdate(tg.url, messageUpdate(30_000 + i, 700 + i, "hello")).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const commits = (await metric()) - before;
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(n);
  });
});

describe("bad input is refused with a clear 4xx and stores nothing", () => {
  const valid = JSON.stringify(messageUpdate(2100, 603, "/start"));
  test.each([
    ["no secret header", { "content-type": "application/json" }, valid, 401, "missing or wrong X-Telegram-Bot-Api-Secret-Token header"],
    ["wrong secret", { ...authed, "x-telegram-bot-api-secret-token": "nope" }, valid, 401, "missing or wrong X-Telegram-Bot-Api-Secret-Token header"],
    ["text/plain", { ...authed, "content-type": "text/plain" }, valid, 415, "Content-Type must be application/json"],
    ["bad JSON", authed, '{"update_id": 2100,', 400, "body is not valid JSON"],
    ["no update_id", authed, '{"message":{}}', 400, "update_id must be a non-negative integer"],
    ["string update_id", authed, '{"update_id":"2100"}', 400, "update_id must be a non-negative integer"],
    ["a JSON array", authed, "[]", 400, "body must be a JSON object (a Telegram Update)"],
  ])("%s → %d", async (_name, headers, body, status, error) => {
    const res = await post(body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ ok: false, error });
    expect(countJobs(tg.dbPath, "dedupe_key = 'update:2100'")).toBe(0);
  });

  test("a 2 MiB body → 413 without storing", async () => {
    const big = JSON.stringify({ update_id: 2101, message: { text: "x".repeat(2 * 1024 * 1024) } });
    const res = await post(big, authed);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toBe("body exceeds 1048576 bytes");
    expect(countJobs(tg.dbPath, "dedupe_key = 'update:2101'")).toBe(0);
  });

  test("a chunked body without Content-Length is cut at 1 MiB too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(new TextEncoder().encode('{"update_id":2102,"pad":"'));
        if (sent++ < 40) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(`${tg.url}/telegram/webhook`, { method: "POST", headers: authed, body: stream });
    expect(res.status).toBe(413);
    expect(countJobs(tg.dbPath, "dedupe_key = 'update:2102'")).toBe(0);
  });

  test("the secret never appears in the answers or the log", () => {
    expect(tg.logs()).not.toContain(TEST_SECRET);
  });
});

describe("secret rotation in the binary (TGWH_WEBHOOK_SECRET_OLD)", () => {
  // Its own gateway: the shared one above runs with a single secret. This proves app.ts hands
  // both secrets to the webhook's check (built once at start-up), not just that the check works.
  const OLD_SECRET = "rotation_test_previous_secret_42";
  let rotating: TgwhProcess;
  beforeAll(async () => {
    rotating = await startTgwh({ env: { TGWH_TELEGRAM_API: api.url, TGWH_WEBHOOK_SECRET_OLD: OLD_SECRET } });
  });
  afterAll(async () => {
    await rotating?.stop();
  });

  test("the current and the old secret are both accepted and store the update; any other → 401", async () => {
    expect((await postUpdate(rotating.url, messageUpdate(2201, 611, "hello"), OLD_SECRET)).status).toBe(200);
    expect((await postUpdate(rotating.url, messageUpdate(2202, 612, "hello"))).status).toBe(200);
    const wrong = await postUpdate(rotating.url, messageUpdate(2203, 613, "hello"), `${OLD_SECRET}x`);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ ok: false, error: "missing or wrong X-Telegram-Bot-Api-Secret-Token header" });
    expect(countJobs(rotating.dbPath, "dedupe_key IN ('update:2201', 'update:2202')")).toBe(2);
    expect(countJobs(rotating.dbPath, "dedupe_key = 'update:2203'")).toBe(0);
  });
});
